/**
 * SQS adapter around the event store and the bus: one record per queued webhook, the batch's
 * publications put together once its records are stored, partial batch failures.
 */

import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { BusEvent } from '../../shared/bus/bus-events.ts';
import type { BusPublisher } from '../../shared/bus/bus-publisher.ts';
import { publicationAfterStore, publicationProblem } from '../../shared/bus/publication.ts';
import {
  type ExportOn,
  type ExportRequestSink,
  exportRequestForRecorded,
  exportRequestProblem,
} from '../../shared/export/export-trigger.ts';
import { limitConcurrency } from '../../shared/runtime/concurrency.ts';
import { describeError } from '../../shared/runtime/errors.ts';
import {
  BATCH_FIGURES,
  type BatchFigures,
  countRecorded,
  noFigures,
} from '../../shared/store/batch-figures.ts';
import { createEventStore, type StoredEventOutcome } from '../../shared/store/event-store.ts';
import {
  createHourlyCounts,
  type HourlyTally,
  shardOf,
  tallyRecorded,
} from '../../shared/store/hourly-counts.ts';
import type { TableDocuments } from '../../shared/store/table-documents.ts';
import { totalWriteUnits } from '../../shared/store/write-units.ts';
import type { BodyReader } from '../../shared/webhook/claim-check.ts';
import { interpretMessage } from '../../shared/webhook/interpret.ts';

export const DEFAULT_WORKER_CONCURRENCY = 10;

export interface WorkerHandlerDependencies {
  /** The table's item operations: lib-dynamodb's client, or the light one in Lambda. */
  readonly documents: TableDocuments;
  readonly tableName: string;
  /** Reads claim-checked bodies from the archive bucket. */
  readonly bodies: BodyReader;
  readonly logger: Logger;
  /** Records of one batch written at the same time. @default 10 */
  readonly concurrency?: number;
  /** Days after which rejected and unknown events expire (DynamoDB TTL). @default kept */
  readonly rawTtlDays?: number;
  /** Where stored events are published; none when undefined. */
  readonly publisher?: BusPublisher;
  /** Publish label events too (they are the volume). @default false */
  readonly publishLabelEvents?: boolean;
  /**
   * Label items carry their document's project once the enrichment has learned it; new
   * documents are recorded for it (see shared/store/document-projects.ts). @default off
   */
  readonly documentProjects?: boolean;
  /** Receives each batch's figures, published as one line per batch. @default none */
  readonly metrics?: Metrics;
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
    documentProjects: dependencies.documentProjects === true,
    // One interpretation for every step: what could not be published or exported is rejected now.
    admit: (item) => publicationProblem(item) ?? exportRequestProblem(item),
    keepExportLinks: dependencies.exports !== undefined && dependencies.exports.exportOn !== 'off',
  });
  const hourlyCounts = createHourlyCounts(dependencies.documents, dependencies.tableName);
  // Powertools' BatchProcessor runs every record at once; this bounds it.
  const limited = limitConcurrency(dependencies.concurrency ?? DEFAULT_WORKER_CONCURRENCY);

  const publicationSettings = { publishLabelEvents: dependencies.publishLabelEvents === true };

  /** Stores one record; returns what it should publish once the batch is stored. */
  const processRecord = async (
    record: SQSRecord,
    figures: BatchFigures,
    onEventStored: (stored: StoredEventOutcome) => void,
  ): Promise<BusEvent | undefined> => {
    const sentAt = new Date(Number(record.attributes.SentTimestamp));
    let eventId: string | undefined;
    try {
      const message = await interpretMessage(
        record.body,
        Number.isNaN(sentAt.getTime()) ? new Date() : sentAt,
        dependencies.bodies,
      );
      eventId = message.eventId;
      const recorded = await store.record(message, onEventStored);
      countRecorded(figures, recorded);
      const { itemType } = recorded.item;
      const log = { messageId: record.messageId, eventId: message.eventId, itemType };
      if (itemType === 'rejected') {
        logger.warn('event rejected', { ...log, reason: recorded.item.reason });
      } else {
        // The batch's metrics count it; this line is for debugging one event.
        logger.debug('event stored', {
          ...log,
          duplicate: recorded.duplicate,
          writeUnits: totalWriteUnits(recorded.writes),
        });
      }
      const { exports } = dependencies;
      const exportRequest = exports && exportRequestForRecorded(recorded, exports.exportOn);
      if (exports !== undefined && exportRequest !== undefined) {
        await exports.queue.send(exportRequest);
        logger.info('export requested', {
          ...log,
          projectId: exportRequest.projectId,
          kind: exportRequest.kind,
        });
      }
      const receiveCount = Number(record.attributes.ApproximateReceiveCount);
      return publicationAfterStore(recorded, receiveCount, publicationSettings);
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

  /** Publishes the stored records' events; returns the records whose publication failed. */
  const publish = async (publications: Map<string, BusEvent>): Promise<string[]> => {
    const { publisher } = dependencies;
    if (publisher === undefined || publications.size === 0) return [];
    const outcome = await publisher.publish(
      [...publications].map(([messageId, event]) => ({ id: messageId, event })),
    );
    for (const failure of outcome.failed) {
      // Stored already: the redelivery finds it stored and publishes again.
      logger.error('event stored but not published, will retry', {
        messageId: failure.id,
        eventId: publications.get(failure.id)?.detail.eventId,
        error: failure.error,
      });
    }
    if (outcome.published.length > 0) {
      logger.info('events published', { count: outcome.published.length, calls: outcome.calls });
    }
    return outcome.failed.map((failure) => failure.id);
  };

  /**
   * One counter update per hour the batch touched. The events are stored whatever happens
   * here: a failure costs the overview a few counts, never a redelivery.
   */
  const addHourlyCounts = async (tally: HourlyTally, batchId: string, figures: BatchFigures) => {
    if (tally.size === 0) return;
    try {
      const writes = await hourlyCounts.add(tally, shardOf(batchId));
      figures.WriteUnits += totalWriteUnits(writes);
    } catch (error) {
      logger.error('hourly counts not updated', { error: describeError(error) });
    }
  };

  return async (event, context) => {
    const publications = new Map<string, BusEvent>();
    const figures = noFigures();
    const counting = countOnceStored(event.Records.length, (tally) =>
      addHourlyCounts(tally, event.Records[0]?.messageId ?? '', figures),
    );
    // A processor per invocation: it keeps the batch's state, and the local stack may
    // invoke one handler for overlapping batches.
    const stored = await processPartialResponse(
      event,
      (record: SQSRecord) =>
        limited(async () => {
          const settled = counting.recordSettler();
          try {
            const publication = await processRecord(record, figures, settled);
            if (publication !== undefined) publications.set(record.messageId, publication);
          } finally {
            settled();
          }
        }),
      new BatchProcessor(EventType.SQS),
      { context, throwOnFullBatchFailure: false },
    );
    // The counters were sent once every event item was stored, beside the projects' refresh;
    // the publication follows the refresh. Neither reads what the other writes.
    const [unpublished] = await Promise.all([publish(publications), counting.written()]);
    publishFigures(dependencies.metrics, figures);
    return {
      batchItemFailures: [
        ...stored.batchItemFailures,
        ...unpublished.map((messageId) => ({ itemIdentifier: messageId })),
      ],
    };
  };
}

/**
 * The batch's hourly counts, written once every record's event item is stored (or its record
 * failed before that): beside the projects' refresh and the export requests, not after them,
 * one round trip less a batch. An event is counted when its item is stored, so a record that
 * fails later (its project's refresh, its export request) is still counted once: its
 * redelivery finds the item stored, a duplicate, which is not counted again.
 */
function countOnceStored(
  records: number,
  write: (tally: HourlyTally) => Promise<void>,
): {
  /** One per record, called once its event item is stored and again when it ends: the first call counts. */
  recordSettler(): (stored?: StoredEventOutcome) => void;
  /** The counters' update, started now if some record never settled. */
  written(): Promise<void>;
} {
  const tally: HourlyTally = new Map();
  let pending = records;
  let update: Promise<void> | undefined;
  const written = () => {
    update ??= write(tally);
    return update;
  };
  return {
    recordSettler() {
      let settled = false;
      return (stored) => {
        if (settled) return;
        settled = true;
        pending -= 1;
        if (stored !== undefined) tallyRecorded(tally, stored);
        if (pending === 0) void written();
      };
    },
    written,
  };
}

/** One metrics line for the whole batch, zeros included, so every graph has a point. */
function publishFigures(metrics: Metrics | undefined, figures: BatchFigures): void {
  if (metrics === undefined) return;
  for (const figure of BATCH_FIGURES) metrics.addMetric(figure, MetricUnit.Count, figures[figure]);
  metrics.publishStoredMetrics();
}
