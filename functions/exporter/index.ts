/** Lambda entry point: clients and configuration are created once per container. */

import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { DEFAULT_EVENT_SOURCE } from '../../shared/bus/bus-events.ts';
import { createBusPublisher } from '../../shared/bus/bus-publisher.ts';
import { sdkBusClient } from '../../shared/bus/sdk-bus-client.ts';
import { checkCredentials } from '../../shared/datasaur/check-credentials.ts';
import { createDatasaurClient, DEFAULT_DATASAUR_API_URL } from '../../shared/datasaur/client.ts';
import { credentialsFromSecret } from '../../shared/datasaur/credentials-from-secret.ts';
import { downloadPolicyFromEnvironment } from '../../shared/export/download.ts';
import { createExportQueue } from '../../shared/export/export-queue.ts';
import { DEFAULT_EXPORT_FORMAT } from '../../shared/export/export-trigger.ts';
import { createExporter, DEFAULT_EXPORT_MAX_ATTEMPTS } from '../../shared/export/exporter.ts';
import { type ResumeResult, resumeWaitingExports } from '../../shared/export/resume.ts';
import { integerEnv, optionalEnv, requireEnv } from '../../shared/runtime/environment.ts';
import { LevelledMetrics, withLogContext } from '../../shared/runtime/lambda-logs.ts';
import { createExporterHandler } from './handler.ts';
import { createResumeHandler, isResumeEvent } from './resume-handler.ts';

const credentialsSecretArn = requireEnv('DATASAUR_CREDENTIALS_SECRET_ARN');
const queueUrl = requireEnv('EXPORT_QUEUE_URL');
const readCredentials = credentialsFromSecret(credentialsSecretArn);

const datasaurApiUrl = optionalEnv('DATASAUR_API_URL', DEFAULT_DATASAUR_API_URL);
const tableName = requireEnv('TABLE_NAME');
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});
const sqs = new SQSClient({});
const logger = new Logger();
// Namespace and service from POWERTOOLS_METRICS_NAMESPACE and POWERTOOLS_SERVICE_NAME.
const metrics = new LevelledMetrics();

const archiveExports = createExporterHandler({
  exporter: createExporter({
    datasaur: createDatasaurClient({ baseUrl: datasaurApiUrl, credentials: readCredentials }),
    documents,
    tableName,
    s3: new S3Client({}),
    bucket: requireEnv('ARCHIVE_BUCKET'),
    format: optionalEnv('EXPORT_FORMAT', DEFAULT_EXPORT_FORMAT),
    download: downloadPolicyFromEnvironment(),
    budgetMs: integerEnv('EXPORT_BUDGET_SECONDS', 60, { min: 1, max: 600 }) * 1000,
    maxAttempts: integerEnv('EXPORT_MAX_ATTEMPTS', DEFAULT_EXPORT_MAX_ATTEMPTS, {
      min: 1,
      max: 100,
    }),
  }),
  logger,
  metrics,
  sqs,
  queueUrl,
  publisher: createBusPublisher(sdkBusClient(new EventBridgeClient({})), {
    eventBusName: requireEnv('EVENT_BUS_NAME'),
    source: optionalEnv('EVENT_SOURCE', DEFAULT_EVENT_SOURCE),
  }),
});

const resume = createResumeHandler({
  resume: () =>
    resumeWaitingExports({
      documents,
      tableName,
      queue: createExportQueue(sqs, queueUrl),
      credentials: () => checkCredentials(datasaurApiUrl, readCredentials),
    }),
  logger,
  metrics,
});

/** Export requests from the queue; the schedule's resume check on its own input. */
export const handler = withLogContext(
  logger,
  (
    event: SQSEvent | { action: string },
    context: Context,
  ): Promise<SQSBatchResponse | ResumeResult> =>
    isResumeEvent(event) ? resume() : archiveExports(event as SQSEvent, context),
);
