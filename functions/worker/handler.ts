/** SQS adapter around the event store: one record per queued webhook, partial batch failures. */

import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { limitConcurrency } from '../../shared/concurrency.ts';
import { describeError } from '../../shared/errors.ts';
import { createEventStore } from '../../shared/event-store.ts';
import {
  type ExportOn,
  type ExportRequestSink,
  exportRequestForItem,
} from '../../shared/export-trigger.ts';
import { interpretMessage } from '../../shared/interpret.ts';
import { totalWriteUnits } from '../../shared/write-units.ts';

export const DEFAULT_WORKER_CONCURRENCY = 10;

export interface WorkerHandlerDependencies {
  readonly documents: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly logger: Logger;
  /** Records of one batch written at the same time. @default 10 */
  readonly concurrency?: number;
  /** Days after which rejected and unknown events expire (DynamoDB TTL). @default kept */
  readonly rawTtlDays?: number;
  /**
   * Export archiving: each stored event that asks for an export (see export-trigger.ts) is
   * sent to the export queue once stored; a redelivery sends it again, and the exporter
   * archives each export once. @default off
   */
  readonly exports?: { readonly exportOn: ExportOn; readonly queue: ExportRequestSink };
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
    const message = interpretMessage(
      record.body,
      Number.isNaN(sentAt.getTime()) ? new Date() : sentAt,
    );
    try {
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
      const { exports } = dependencies;
      const exportRequest = exports && exportRequestForItem(recorded.item, exports.exportOn);
      if (exports !== undefined && exportRequest !== undefined) {
        await exports.queue.send(exportRequest);
        logger.info('export requested', {
          ...log,
          projectId: exportRequest.projectId,
          kind: exportRequest.kind,
        });
      }
    } catch (error) {
      // Thrown on: only this record returns to the queue and is retried (then the DLQ).
      logger.error('event not stored, will retry', {
        messageId: record.messageId,
        eventId: message.eventId,
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
