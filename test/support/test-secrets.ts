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
} as const;
