/**
 * Every webhook secret the tests use, in one list: the secret guard (secret-guard.ts) checks
 * that none of them ever appears in what a test file logs.
 */
export const TEST_SECRETS = {
  current: 'test-webhook-secret',
  previous: 'previous-webhook-secret',
  retired: 'retired-webhook-secret',
  fuzzCurrent: 'fuzz-current-secret',
  fuzzPrevious: 'fuzz-previous-secret',
  fuzzRetired: 'fuzz-retired-secret',
  localStack: 'local-stack-test-secret',
  /** The secret path segment of the webhook URL in handler and template tests. */
  pathToken: 'test-webhook-path-token-0123',
  previousPathToken: 'test-previous-path-token-4567',
} as const;
