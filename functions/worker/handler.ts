/** SQS adapter around the event store: one record per queued webhook, partial batch failures. */

import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { BodyReader } from '../../shared/claim-check.ts';
import { limitConcurrency } from '../../shared/concurrency.ts';
import { describeError } from '../../shared/errors.ts';
import { createEventStore } from '../../shared/event-store.ts';
import { interpretMessage } from '../../shared/interpret.ts';
import { totalWriteUnits } from '../../shared/write-units.ts';

export const DEFAULT_WORKER_CONCURRENCY = 10;

export interface WorkerHandlerDependencies {
  readonly documents: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Reads claim-checked bodies from the archive bucket. */
  readonly bodies: BodyReader;
  readonly logger: Logger;
  /** Records of one batch written at the same time. @default 10 */
  readonly concurrency?: number;
  /** Days after which rejected and unknown events expire (DynamoDB TTL). @default kept */
  readonly rawTtlDays?: number;
}

export type WorkerHandler = (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>;

export function createWorkerHandler(dependencies: WorkerHandlerDependencies): WorkerHandler {
  const { logger } = dependencies;
  const store = createEventStore(dependencies.documents, dependencies.tableName, {
    rawTtlDays: dependencies.rawTtlDays,
  });
  // Powertools' BatchProcessor runs every record at once; this bounds it.
  const limited = limitConcurrency(dependencies.concurrency ?? DEFAULT_WORKER_CONCURRENCY);

  const processRecord = async (record: SQSRecord): Promise<void> => {
    const sentAt = new Date(Number(record.attributes.SentTimestamp));
    let eventId: string | undefined;
    try {
      const message = await interpretMessage(
        record.body,
        Number.isNaN(sentAt.getTime()) ? new Date() : sentAt,
        dependencies.bodies,
      );
      eventId = message.eventId;
      const recorded = await store.record(message);
      const { itemType } = recorded.item;
      const log = { messageId: record.messageId, eventId: message.eventId, itemType };
      if (itemType === 'rejected') {
        logger.warn('event rejected', { ...log, reason: recorded.item.reason });
      } else {
        logger.info('event stored', {
          ...log,
          duplicate: recorded.duplicate,
          writeUnits: totalWriteUnits(recorded.writes),
        });
      }
    } catch (error) {
      // Thrown on: only this record returns to the queue and is retried (then the DLQ).
      logger.error('event not stored, will retry', {
        messageId: record.messageId,
        eventId,
        error: describeError(error),
      });
      throw error;
    }
  };

  return (event, context) =>
    // A processor per invocation: it keeps the batch's state, and the local stack may
    // invoke one handler for overlapping batches.
    processPartialResponse(
      event,
      (record: SQSRecord) => limited(() => processRecord(record)),
      new BatchProcessor(EventType.SQS),
      { context, throwOnFullBatchFailure: false },
    );
}
