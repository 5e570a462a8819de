/**
 * The local worker, run by `npm start` as its own process: it long-polls the queue and hands
 * each batch to the same worker handler Lambda runs, then does what the SQS event source
 * does with the answer: deletes the records that succeeded and leaves the batch item
 * failures to come back after their visibility timeout.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { createWorkerHandler } from '../../functions/worker/handler.ts';
import { localDynamoDb, localSqs } from './servers.ts';
import { receiveForRecords, toSqsRecord } from './sqs-records.ts';
import { readWorkerSettings, type WorkerMessage } from './worker-settings.ts';

const settings = readWorkerSettings();
const logger = new Logger({ serviceName: 'worker', logLevel: settings.logLevel });
const sqs = localSqs(settings.sqsEndpoint);
const documents = localDynamoDb(settings.dynamoDbEndpoint);
const handler = createWorkerHandler({
  documents,
  tableName: settings.tableName,
  logger,
  concurrency: settings.concurrency,
});

const shutdown = new AbortController();
process.once('SIGTERM', () => shutdown.abort());
process.once('SIGINT', () => shutdown.abort());
// The supervisor went away without stopping us: stop rather than run on as an orphan.
process.once('disconnect', () => shutdown.abort());

const RECEIVE_RETRY_MS = 1_000;

notifySupervisor({ type: 'polling' });
while (!shutdown.signal.aborted) {
  const messages = await receiveBatch();
  // A batch in hand is finished even when a shutdown arrives meanwhile.
  if (messages.length > 0) await processBatch(messages);
}
sqs.destroy();
documents.destroy();
if (process.connected) process.disconnect();

async function receiveBatch(): Promise<Message[]> {
  try {
    const received = await sqs.send(
      new ReceiveMessageCommand(
        receiveForRecords(settings.queueUrl, {
          maxMessages: settings.batchSize,
          waitTimeSeconds: settings.waitTimeSeconds,
        }),
      ),
      { abortSignal: shutdown.signal },
    );
    return received.Messages ?? [];
  } catch (error) {
    if (shutdown.signal.aborted) return [];
    logger.error('receive failed; retrying', { error: describe(error) });
    await new Promise((resolve) => setTimeout(resolve, RECEIVE_RETRY_MS));
    return [];
  }
}

async function processBatch(messages: readonly Message[]): Promise<void> {
  const records = messages.map((message) =>
    toSqsRecord(message, { queueArn: settings.queueArn, region: settings.region }),
  );
  let response: SQSBatchResponse;
  try {
    response = await handler({ Records: records });
  } catch (error) {
    // As with Lambda, a handler that throws fails the whole batch: every record comes back.
    logger.error('worker handler failed; the whole batch will be redelivered', {
      error: describe(error),
      records: records.length,
    });
    return;
  }
  const failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
  await deleteRecords(records.filter((record) => !failed.has(record.messageId)));
}

async function deleteRecords(records: readonly SQSRecord[]): Promise<void> {
  if (records.length === 0) return;
  try {
    const result = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: settings.queueUrl,
        // Entry ids only need to be unique within the request; a receive can repeat a message.
        Entries: records.map((record, index) => ({
          Id: `record-${index}`,
          ReceiptHandle: record.receiptHandle,
        })),
      }),
    );
    if (result.Failed?.length) {
      logger.warn('some processed messages could not be deleted and will be redelivered', {
        failed: result.Failed.map((failure) => failure.Message ?? failure.Code),
      });
    }
  } catch (error) {
    // Redelivery is harmless: the handler's writes are idempotent.
    logger.warn('deleting processed messages failed; they will be redelivered', {
      error: describe(error),
    });
  }
}

function notifySupervisor(message: WorkerMessage): void {
  process.send?.(message);
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
