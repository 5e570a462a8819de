/**
 * The local worker, run by `npm start` as its own process: it long-polls the queue and hands
 * each batch to the same worker handler Lambda runs, then does what the SQS event source
 * does with the answer: deletes the records that succeeded and leaves the batch item
 * failures to come back after their visibility timeout.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { createExporterHandler } from '../../functions/exporter/handler.ts';
import { createWorkerHandler } from '../../functions/worker/handler.ts';
import { createBusPublisher } from '../../shared/bus/bus-publisher.ts';
import { checkCredentials } from '../../shared/datasaur/check-credentials.ts';
import { createDatasaurClient } from '../../shared/datasaur/client.ts';
import { CredentialsMissingError } from '../../shared/datasaur/credentials-secret.ts';
import { createExportQueue } from '../../shared/export/export-queue.ts';
import { createExporter } from '../../shared/export/exporter.ts';
import { resumeWaitingExports } from '../../shared/export/resume.ts';
import { describeError } from '../../shared/runtime/errors.ts';
import { METRICS_NAMESPACE } from '../../shared/store/batch-figures.ts';
import { s3BodyReader } from '../../shared/webhook/body-archive.ts';
import { createQueuePoller, pollConcurrently } from './queue-poller.ts';
import {
  localArchiveUploader,
  localBus,
  localQueueSender,
  localS3,
  localSqs,
  localTable,
} from './servers.ts';
import { readWorkerSettings, WORKER_STOP_GRACE_MS, type WorkerMessage } from './worker-settings.ts';

const settings = readWorkerSettings();
/** One export attempt, download included: less than the export queue's visibility timeout. */
const LOCAL_EXPORT_ATTEMPT_MS = 100_000;
const LOCAL_RESUME_EVERY_MS = 60_000;
const SHOWS_INFO: readonly string[] = ['TRACE', 'DEBUG', 'INFO'];
const logger = new Logger({ serviceName: 'worker', logLevel: settings.logLevel });
const sqs = localSqs(settings.sqsEndpoint);
// The worker's and the exporter's table, queue, bus and upload calls through the light client,
// as in Lambda (the worker's reads of claim-checked bodies stay on the SDK's S3 client there too).
const table = localTable(settings.dynamoDbEndpoint);
/** The exporter's SQS calls, through the light client as in Lambda. */
const exportQueue = localQueueSender(settings.sqsEndpoint);
const archive = localS3(settings.s3Endpoint);
const eventBridge = localBus(settings.eventsEndpoint);
const publisher = createBusPublisher(eventBridge, {
  eventBusName: 'default',
  source: settings.eventSource,
});
const { exporter } = settings;
const poller = createQueuePoller({
  sqs,
  queueUrl: settings.queueUrl,
  queueArn: settings.queueArn,
  region: settings.region,
  batchSize: settings.batchSize,
  waitTimeSeconds: settings.waitTimeSeconds,
  logger,
  handler: createWorkerHandler({
    documents: table,
    tableName: settings.tableName,
    bodies: s3BodyReader(archive),
    logger,
    concurrency: settings.concurrency,
    publisher,
    publishLabelEvents: settings.publishLabelEvents,
    documentProjects: true,
    // The per-batch line Lambda sends to CloudWatch, on the terminal when it shows INFO lines.
    ...(SHOWS_INFO.includes(settings.logLevel)
      ? { metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'worker' }) }
      : {}),
    ...(exporter && {
      exports: {
        exportOn: exporter.exportOn,
        queue: createExportQueue(exportQueue, exporter.queueUrl),
      },
    }),
  }),
});

/** The exporter Lambda's counterpart: one export request at a time from the export queue. */
const exportLogger = new Logger({ serviceName: 'exporter', logLevel: settings.logLevel });
/** What the stack's credentials secret holds here: the environment's credentials, or nothing. */
const readCredentials = async () => {
  if (exporter?.credentials === undefined) {
    throw new CredentialsMissingError(
      'no Datasaur credentials: restart npm start with DATASAUR_CLIENT_ID and DATASAUR_CLIENT_SECRET',
    );
  }
  return exporter.credentials;
};
const uploader = exporter?.runsExporter ? localArchiveUploader(exporter.s3Endpoint) : undefined;
const exportPoller =
  exporter &&
  uploader &&
  createQueuePoller({
    sqs,
    queueUrl: exporter.queueUrl,
    queueArn: exporter.queueArn,
    region: settings.region,
    batchSize: 1,
    waitTimeSeconds: settings.waitTimeSeconds,
    logger: exportLogger,
    handler: createExporterHandler({
      exporter: createExporter({
        datasaur: createDatasaurClient({
          baseUrl: exporter.apiUrl,
          credentials: readCredentials,
        }),
        documents: table,
        tableName: settings.tableName,
        uploader,
        bucket: exporter.bucket,
        format: exporter.format,
        download: exporter.download,
        attemptMs: LOCAL_EXPORT_ATTEMPT_MS,
        onProgress: (step, details) => exportLogger.debug(step, details),
      }),
      logger: exportLogger,
      sqs: exportQueue,
      queueUrl: exporter.queueUrl,
      publisher,
    }),
  });

/**
 * The deployed stack's resume schedule, here: at start and every minute, the exports WAITING
 * for credentials are queued again once the credentials work.
 */
async function resumeWaiting(): Promise<void> {
  if (!exporter?.runsExporter) return;
  try {
    const result = await resumeWaitingExports({
      documents: table,
      tableName: settings.tableName,
      queue: createExportQueue(exportQueue, exporter.queueUrl),
      credentials: () => checkCredentials(exporter.apiUrl, readCredentials),
    });
    if (result.queued > 0) exportLogger.info('waiting exports queued again', { ...result });
    else if (result.credentials === 'UNAVAILABLE') {
      exportLogger.warn('could not check the Datasaur credentials: exports still waiting', {
        ...result,
      });
    } else if (result.waiting > 0) {
      exportLogger.warn('exports still waiting for credentials', { ...result });
    }
  } catch (error) {
    exportLogger.warn('could not check the waiting exports', { error: describeError(error) });
  }
}
const resumeTimer = setInterval(() => void resumeWaiting(), LOCAL_RESUME_EVERY_MS);
void resumeWaiting();

const shutdown = new AbortController();
process.once('SIGTERM', () => shutdown.abort());
process.once('SIGINT', () => shutdown.abort());
// The supervisor went away without stopping us: stop rather than run on as an orphan, and
// within the grace a supervisor gives (a batch retrying against servers that are gone would
// otherwise hold the process for its whole retry budget).
process.once('disconnect', () => {
  shutdown.abort();
  setTimeout(() => process.exit(1), WORKER_STOP_GRACE_MS).unref();
});

notifySupervisor({ type: 'polling' });
await Promise.all([
  pollConcurrently(poller, settings.batches, shutdown.signal),
  exportPoller && pollConcurrently(exportPoller, 1, shutdown.signal),
]);
clearInterval(resumeTimer);
sqs.destroy();
uploader?.destroy();
table.destroy();
exportQueue.destroy();
archive.destroy();
eventBridge.destroy();
if (process.connected) process.disconnect();

function notifySupervisor(message: WorkerMessage): void {
  process.send?.(message);
}
