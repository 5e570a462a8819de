/**
 * Vitest global setup: with DYNAMODB_BACKEND=dynamodb-local, starts one DynamoDB Local (in
 * memory, free port) for the whole run and stops it after the last test file. Every test
 * file then creates its own tables on it (see `startLocalDynamoDb`). With dynalite (the
 * default) it does nothing: each test file starts its own dynalite in process.
 */
import type { TestProject } from 'vitest/node';
import { dynamoDbBackend } from '../../scripts/local/config.ts';
import { startDynamoDbLocal } from '../../scripts/local/dynamodb-local.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Endpoint of the run's DynamoDB Local; unset under dynalite. */
    dynamoDbLocalEndpoint: string | undefined;
  }
}

export default async function startDynamoDbBackend(
  project: TestProject,
): Promise<(() => Promise<void>) | undefined> {
  project.provide('dynamoDbLocalEndpoint', undefined);
  if (dynamoDbBackend() !== 'dynamodb-local') return undefined;
  const server = await startDynamoDbLocal();
  project.provide('dynamoDbLocalEndpoint', server.endpoint);
  return server.close;
}
