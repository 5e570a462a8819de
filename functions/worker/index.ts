/** Lambda entry point: clients and configuration are created once per container. */

import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { s3BodyReader } from '../../shared/body-archive.ts';
import { integerEnv, requireEnv } from '../../shared/environment.ts';
import { createWorkerHandler, DEFAULT_WORKER_CONCURRENCY } from './handler.ts';

/** 0 (the default) keeps rejected and unknown events forever. */
const rawTtlDays = integerEnv('RAW_TTL_DAYS', 0, { min: 0, max: 36_500 });

export const handler = createWorkerHandler({
  documents: DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  }),
  tableName: requireEnv('TABLE_NAME'),
  // Reads only what pointers name; the role allows GetObject under bodies/ and nothing else.
  bodies: s3BodyReader(new S3Client({})),
  logger: new Logger(),
  concurrency: integerEnv('WORKER_CONCURRENCY', DEFAULT_WORKER_CONCURRENCY, { min: 1, max: 100 }),
  rawTtlDays: rawTtlDays === 0 ? undefined : rawTtlDays,
});
