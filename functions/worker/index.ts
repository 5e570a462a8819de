/** Lambda entry point: clients and configuration are created once per container. */

import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { integerEnv, requireEnv } from '../../shared/environment.ts';
import { createWorkerHandler, DEFAULT_WORKER_CONCURRENCY } from './handler.ts';

/** 0 (the default) keeps rejected and unknown events forever. */
const rawTtlDays = integerEnv('RAW_TTL_DAYS', 0, { min: 0, max: 36_500 });

export const handler = createWorkerHandler({
  documents: DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  }),
  tableName: requireEnv('TABLE_NAME'),
  logger: new Logger(),
  concurrency: integerEnv('WORKER_CONCURRENCY', DEFAULT_WORKER_CONCURRENCY, { min: 1, max: 100 }),
  rawTtlDays: rawTtlDays === 0 ? undefined : rawTtlDays,
  // Namespace and service from POWERTOOLS_METRICS_NAMESPACE and POWERTOOLS_SERVICE_NAME.
  metrics: new Metrics(),
});
