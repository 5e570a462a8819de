import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A test may run a few CLI processes (tsx), each 2–3 s idle and 10 s or more on a loaded
    // 2-core machine: bounds, never synchronization.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two test files at a time even on two cores (vitest's default there is one): most suites
    // wait on servers and child processes more than they compute. On a 2-core machine the
    // default suite took 472 s one file at a time and 317-328 s two at a time.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // Fails any test file whose logs contain a webhook secret.
    setupFiles: ['test/support/secret-guard.ts'],
    // DYNAMODB_BACKEND=dynamodb-local: one DynamoDB Local for the run (dynalite: nothing).
    globalSetup: ['test/support/dynamodb-backend.ts'],
    // The SDK's notice about Node 22 would repeat in every test file's output.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
