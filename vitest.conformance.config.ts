/**
 * `npm run test:conformance`: every suite that talks to DynamoDB, run with the same setup as
 * `npm test` but against the DynamoDB that DYNAMODB_BACKEND names (the script sets
 * dynamodb-local: AWS's own emulator, where `npm test` uses dynalite).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

const TEST_FOLDER = fileURLToPath(new URL('./test/', import.meta.url));

/**
 * Found rather than listed, so a new suite joins by itself: every suite that starts the test
 * DynamoDB or a local stack (called, or handed to `startedForTests`) or runs DynamoDB Local's
 * jar itself, and the one that stops `npm start` (its DynamoDB Local must stop with it).
 */
export const DYNAMODB_SUITES = readdirSync(TEST_FOLDER)
  .filter((name) => name.endsWith('.test.ts'))
  .filter(
    (name) =>
      name === 'stop.test.ts' ||
      /\b(?:startLocalDynamoDb|startStackProcess|dynamoDbLocalJar)\b/.test(
        readFileSync(`${TEST_FOLDER}${name}`, 'utf8'),
      ),
  )
  .map((name) => `test/${name}`);

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: DYNAMODB_SUITES,
    // One file at a time, as vitest does by default on two cores: the local-stack suites each
    // start DynamoDB Local JVMs of their own, and every suite shares one more.
    maxWorkers: 1,
    // Each `npm start` of the local-stack and stop suites starts its own DynamoDB Local JVM.
    testTimeout: 120_000,
  },
});
