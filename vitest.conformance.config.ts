/**
 * `npm run test:conformance`: every suite that talks to DynamoDB, run with the same setup as
 * `npm test` but against the DynamoDB that DYNAMODB_BACKEND names (the script sets
 * dynamodb-local: AWS's own emulator, where `npm test` uses dynalite).
 */
import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

export const DYNAMODB_SUITES = [
  'test/worker.test.ts',
  'test/worker-permutation.test.ts',
  'test/worker-write-units.test.ts',
  'test/fuzz-worker.test.ts',
  'test/queries.test.ts',
  'test/query-cli.test.ts',
  'test/faults-dynamodb.test.ts',
  'test/faults-dlq.test.ts',
  'test/logs.test.ts',
  'test/local-stack.test.ts',
];

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: DYNAMODB_SUITES,
    // Each `npm start` of the local-stack suite starts its own DynamoDB Local JVM.
    testTimeout: 120_000,
  },
});
