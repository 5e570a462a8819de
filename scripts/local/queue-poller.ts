/**
 * What Lambda's SQS event source does, for the local stack and the tests: receive a batch,
 * hand it to the worker handler as SQS records, delete the records that succeeded and leave
 * the batch item failures to come back after their visibility timeout.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import type { WorkerHandler } from '../../functions/worker/handler.ts';
import { describeError } from '../../shared/runtime/errors.ts';
import { receiveForRecords, toSqsRecord } from './sqs-records.ts';

export interface QueuePollerOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly region: string;
  readonly handler: WorkerHandler;
  readonly batchSize: number;
  /** Long-poll wait: with local-aws-sqs it is also the batching window. */
  readonly waitTimeSeconds: number;
  readonly logger: Pick<Logger, 'error' | 'warn'>;
}

const RECEIVE_RETRY_MS = 1_000;

/**
 * Keeps `batches` pollers receiving and processing until `signal` aborts, as Lambda runs
 * several workers: one alone waits on its receive, its writes and its delete in turn.
 */
export async function pollConcurrently(
  poller: { pollOnce(signal: AbortSignal): Promise<number> },
  batches: number,
  signal: AbortSignal,
): Promise<void> {
  const pollUntilStopped = async () => {
    while (!signal.aborted) await poller.pollOnce(signal);
  };
  await Promise.all(Array.from({ length: batches }, pollUntilStopped));
}

/** Receives and processes one batch; resolves with how many messages it received. */
export function createQueuePoller(options: QueuePollerOptions) {
  const { sqs, logger } = options;

  async function receiveBatch(signal?: AbortSignal): Promise<Message[]> {
    try {
      const received = await sqs.send(
        new ReceiveMessageCommand(
          receiveForRecords(options.queueUrl, {
            maxMessages: options.batchSize,
            waitTimeSeconds: options.waitTimeSeconds,
          }),
        ),
        { abortSignal: signal },
      );
      return received.Messages ?? [];
    } catch (error) {
      if (signal?.aborted) return [];
      logger.error('receive failed; retrying', { error: describeError(error) });
      await new Promise((resolve) => setTimeout(resolve, RECEIVE_RETRY_MS));
      return [];
    }
  }

  async function processBatch(messages: readonly Message[]): Promise<void> {
    const records = messages.map((message) =>
      toSqsRecord(message, { queueArn: options.queueArn, region: options.region }),
    );
    let response: SQSBatchResponse;
    try {
      response = await options.handler({ Records: records });
    } catch (error) {
      // As with Lambda, a handler that throws fails the whole batch: every record comes back.
      logger.error('worker handler failed; the whole batch will be redelivered', {
        error: describeError(error),
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
          QueueUrl: options.queueUrl,
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
        error: describeError(error),
      });
    }
  }

  return {
    /** A batch in hand is finished even when `signal` aborts meanwhile. */
    async pollOnce(signal?: AbortSignal): Promise<number> {
      const messages = await receiveBatch(signal);
      if (messages.length > 0) await processBatch(messages);
      return messages.length;
    },
  };
}
