/**
 * SQS adapter around the exporter: one export request per record. An export not finished
 * within its attempt (Datasaur still exporting, the file not there yet, an error) comes back
 * after a growing delay; the exporter's last attempt records it FAILED, which the log says
 * for the alarm.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { BusPublisher } from '../../shared/bus/bus-publisher.ts';
import { publishExportArchived } from '../../shared/bus/publication.ts';
import { exportRequestSchema } from '../../shared/export/export-trigger.ts';
import { type Exporter, UNKNOWN_TEAM } from '../../shared/export/exporter.ts';
import { describeError } from '../../shared/runtime/errors.ts';
import { projectKeyProblem } from '../../shared/store/item-limits.ts';
import type { ExportArchiveItem } from '../../shared/store/items.ts';
import type { QueueVisibility } from '../../shared/webhook/queue-sender.ts';

export const DEFAULT_EXPORT_RETRY_SECONDS = 30;
/** The log message the failed-export alarm counts. */
export const EXPORT_FAILED_MESSAGE = 'export failed';
/** The metric counting export file URLs refused by the download policy (its alarm's). */
export const EXPORT_URL_REFUSED_METRIC = 'ExportUrlsRefused';
/** The metric the resume check emits: exports WAITING for credentials (its alarm's). */
export const EXPORTS_WAITING_METRIC = 'ExportsWaiting';
export const EXPORT_WAITING_MESSAGE =
  'export waiting for Datasaur credentials (docs/export-archiving.md says how to fill the secret)';
/** Time kept back from Lambda's remaining time to abort an upload and record the outcome. */
export const DEADLINE_MARGIN_MS = 20_000;

export interface ExporterHandlerDependencies {
  readonly exporter: Exporter;
  readonly logger: Logger;
  /** The export queue, to delay a retry (ChangeMessageVisibility). */
  readonly sqs: QueueVisibility;
  readonly queueUrl: string;
  /** Delay before the second attempt; doubles each time, at most 15 min. @default 30 s */
  readonly retrySeconds?: number;
  /**
   * Where `Export Archived` is published once a file is in the bucket.
   * @default not published
   */
  readonly publisher?: BusPublisher;
  /** Counts refused file URLs (`ExportUrlsRefused`), for the alarm. @default not counted */
  readonly metrics?: Metrics;
}

export type ExporterHandler = (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>;

const MAX_RETRY_SECONDS = 900;

export function createExporterHandler(dependencies: ExporterHandlerDependencies): ExporterHandler {
  const { logger, exporter } = dependencies;
  const retrySeconds = dependencies.retrySeconds ?? DEFAULT_EXPORT_RETRY_SECONDS;

  async function retryLater(record: SQSRecord, receiveCount: number): Promise<number> {
    const delay = Math.min(MAX_RETRY_SECONDS, retrySeconds * 2 ** (receiveCount - 1));
    try {
      await dependencies.sqs.changeMessageVisibility({
        QueueUrl: dependencies.queueUrl,
        ReceiptHandle: record.receiptHandle,
        VisibilityTimeout: delay,
      });
    } catch (error) {
      // The queue's own visibility timeout brings it back instead.
      logger.warn('could not delay the retry', { error: describeError(error) });
    }
    return delay;
  }

  /**
   * Published when the file is archived, and again when a redelivered request finds it
   * archived already (the first publication may have failed after the item was written);
   * the event id is derived from the export, so consumers dedupe.
   */
  async function announce(item: ExportArchiveItem | undefined): Promise<void> {
    const { publisher } = dependencies;
    if (publisher === undefined || item?.status !== 'ARCHIVED') return;
    const { exportId, archivedAt, bytes, sha256, format } = item;
    if (archivedAt === undefined || bytes === undefined || sha256 === undefined) return;
    await publishExportArchived(publisher, {
      projectId: item.projectId,
      teamId: item.teamId,
      status: item.trigger,
      statusAt: item.statusAt,
      // A pushed export has no Datasaur export id: the object key names it.
      exportId: exportId ?? item.key,
      bucket: item.bucket,
      key: item.key,
      bytes,
      sha256,
      format: format ?? 'unknown',
      archivedAt,
      item: { pk: item.pk, sk: item.sk },
    });
  }

  function countRefusal(): void {
    const { metrics } = dependencies;
    if (metrics === undefined) return;
    metrics.addMetric(EXPORT_URL_REFUSED_METRIC, MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
  }

  const processRecord = async (record: SQSRecord, deadline: number | undefined) => {
    const request = exportRequestSchema().parse(JSON.parse(record.body));
    const receiveCount = Number(record.attributes.ApproximateReceiveCount) || 1;
    const log = { messageId: record.messageId, projectId: request.projectId, kind: request.kind };
    // No attempt could write this project's items: acknowledged, not retried into the DLQ.
    const keyProblem = projectKeyProblem(
      request.projectId,
      request.kind === 'transition' ? request.teamId : UNKNOWN_TEAM,
    );
    if (keyProblem !== undefined) {
      logger.error(EXPORT_FAILED_MESSAGE, { ...log, reason: keyProblem });
      return;
    }
    try {
      const { outcome, item } = await exporter.archive(request, record.messageId, deadline);
      const details = { ...log, status: item?.status, key: item?.key, exportId: item?.exportId };
      if (outcome === 'ARCHIVED' || (outcome === 'SKIPPED' && receiveCount > 1)) {
        await announce(item);
      }
      if (outcome === 'ARCHIVED') {
        logger.info('export archived', { ...details, bytes: item?.bytes, sha256: item?.sha256 });
      } else if (outcome === 'FAILED') {
        logger.error(EXPORT_FAILED_MESSAGE, {
          ...details,
          reasonCode: item?.reasonCode,
          reason: item?.reason,
        });
        if (item?.reasonCode === 'URL_REFUSED') countRefusal();
      } else if (outcome === 'WAITING') {
        logger.warn(EXPORT_WAITING_MESSAGE, { ...details, reasonCode: item?.reasonCode });
      } else {
        logger.info('export already handled', details);
      }
    } catch (error) {
      const delaySeconds = await retryLater(record, receiveCount);
      logger.warn('export not finished, will retry', {
        ...log,
        receiveCount,
        delaySeconds,
        reason: describeError(error),
      });
      throw error;
    }
  };

  return (event, context) => {
    // Lambda stops the function at its timeout: the attempt ends before, upload aborted.
    const deadline =
      context === undefined
        ? undefined
        : Date.now() + context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS;
    return processPartialResponse(
      event,
      (record: SQSRecord) => processRecord(record, deadline),
      new BatchProcessor(EventType.SQS),
      { context, throwOnFullBatchFailure: false },
    );
  };
}
