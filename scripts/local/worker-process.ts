/**
 * The local worker, run by `npm start` as its own process: it long-polls the queue and hands
 * each batch to the same worker handler Lambda runs, then does what the SQS event source
 * does with the answer: deletes the records that succeeded and leaves the batch item
 * failures to come back after their visibility timeout.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { createWorkerHandler } from '../../functions/worker/handler.ts';
import { s3BodyReader } from '../../shared/body-archive.ts';
import { createBusPublisher } from '../../shared/bus-publisher.ts';
import { createQueuePoller } from './queue-poller.ts';
import { localDynamoDb, localEventBridge, localS3, localSqs } from './servers.ts';
import { readWorkerSettings, type WorkerMessage } from './worker-settings.ts';

const settings = readWorkerSettings();
const logger = new Logger({ serviceName: 'worker', logLevel: settings.logLevel });
const sqs = localSqs(settings.sqsEndpoint);
const documents = localDynamoDb(settings.dynamoDbEndpoint);
const s3 = localS3(settings.s3Endpoint);
const eventBridge = localEventBridge(settings.eventsEndpoint);
const poller = createQueuePoller({
  sqs,
  queueUrl: settings.queueUrl,
  queueArn: settings.queueArn,
  region: settings.region,
  batchSize: settings.batchSize,
  waitTimeSeconds: settings.waitTimeSeconds,
  logger,
  handler: createWorkerHandler({
    documents,
    tableName: settings.tableName,
    bodies: s3BodyReader(s3),
    logger,
    concurrency: settings.concurrency,
    publisher: createBusPublisher(eventBridge, {
      eventBusName: 'default',
      source: settings.eventSource,
    }),
    publishLabelEvents: settings.publishLabelEvents,
  }),
});

const shutdown = new AbortController();
process.once('SIGTERM', () => shutdown.abort());
process.once('SIGINT', () => shutdown.abort());
// The supervisor went away without stopping us: stop rather than run on as an orphan.
process.once('disconnect', () => shutdown.abort());

notifySupervisor({ type: 'polling' });
while (!shutdown.signal.aborted) await poller.pollOnce(shutdown.signal);
sqs.destroy();
documents.destroy();
s3.destroy();
eventBridge.destroy();
if (process.connected) process.disconnect();

function notifySupervisor(message: WorkerMessage): void {
  process.send?.(message);
}
