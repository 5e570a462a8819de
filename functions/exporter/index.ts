/** Lambda entry point: clients and configuration are created once per container. */

import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { DEFAULT_EVENT_SOURCE } from '../../shared/bus/bus-events.ts';
import { createBusPublisher } from '../../shared/bus/bus-publisher.ts';
import { lightBusClient } from '../../shared/bus/light-bus-client.ts';
import { checkCredentials } from '../../shared/datasaur/check-credentials.ts';
import { createDatasaurClient, DEFAULT_DATASAUR_API_URL } from '../../shared/datasaur/client.ts';
import { credentialsFromSecret } from '../../shared/datasaur/credentials-from-secret.ts';
import { downloadPolicyFromEnvironment } from '../../shared/export/download.ts';
import { createExportQueue } from '../../shared/export/export-queue.ts';
import { DEFAULT_EXPORT_FORMAT } from '../../shared/export/export-trigger.ts';
import { createExporter, DEFAULT_EXPORT_MAX_ATTEMPTS } from '../../shared/export/exporter.ts';
import {
  lightArchiveUploader,
  MAX_UPLOAD_PARTS,
} from '../../shared/export/light-archive-uploader.ts';
import { type ResumeResult, resumeWaitingExports } from '../../shared/export/resume.ts';
import { LAMBDA_CALL_TIMEOUTS, lightSecretReader } from '../../shared/runtime/aws-json-client.ts';
import { integerEnv, optionalEnv, requireEnv } from '../../shared/runtime/environment.ts';
import { LevelledMetrics, withLogContext } from '../../shared/runtime/lambda-logs.ts';
import { lightTableDocuments } from '../../shared/store/light-table-documents.ts';
import { lightQueueSender } from '../../shared/webhook/light-queue-sender.ts';
import { createExporterHandler } from './handler.ts';
import { createResumeHandler, isResumeEvent } from './resume-handler.ts';

// DynamoDB, SQS, EventBridge, Secrets Manager and S3 through the light client (issue 27), with
// the worker's timeouts (LAMBDA_CALL_TIMEOUTS); S3 gives a 5 MiB part a minute.

const credentialsSecretArn = requireEnv('DATASAUR_CREDENTIALS_SECRET_ARN');
const queueUrl = requireEnv('EXPORT_QUEUE_URL');
const readCredentials = credentialsFromSecret(
  credentialsSecretArn,
  lightSecretReader(LAMBDA_CALL_TIMEOUTS),
);

const download = downloadPolicyFromEnvironment();
const datasaurApiUrl = optionalEnv('DATASAUR_API_URL', DEFAULT_DATASAUR_API_URL);
const tableName = requireEnv('TABLE_NAME');
const documents = lightTableDocuments(LAMBDA_CALL_TIMEOUTS);
const sqs = lightQueueSender(LAMBDA_CALL_TIMEOUTS);
const logger = new Logger();
// Namespace and service from POWERTOOLS_METRICS_NAMESPACE and POWERTOOLS_SERVICE_NAME.
const metrics = new LevelledMetrics();

const archiveExports = createExporterHandler({
  exporter: createExporter({
    datasaur: createDatasaurClient({ baseUrl: datasaurApiUrl, credentials: readCredentials }),
    documents,
    tableName,
    uploader: lightArchiveUploader({
      ...LAMBDA_CALL_TIMEOUTS,
      requestTimeoutMs: 60_000,
      // Parts large enough that a file at the byte cap fits S3's 10,000 (5 MiB at the least).
      partSizeBytes: Math.ceil(download.maxBytes / MAX_UPLOAD_PARTS),
    }),
    bucket: requireEnv('ARCHIVE_BUCKET'),
    format: optionalEnv('EXPORT_FORMAT', DEFAULT_EXPORT_FORMAT),
    download,
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
  publisher: createBusPublisher(lightBusClient(LAMBDA_CALL_TIMEOUTS), {
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
