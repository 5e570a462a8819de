import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Fails any test file whose logs contain a webhook secret.
    setupFiles: ['test/support/secret-guard.ts'],
    // DYNAMODB_BACKEND=dynamodb-local: one DynamoDB Local for the run (dynalite: nothing).
    globalSetup: ['test/support/dynamodb-backend.ts'],
    // The SDK's notice about Node 22 would repeat in every test file's output.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
