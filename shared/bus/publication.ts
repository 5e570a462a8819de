/**
 * When a stored event is published, and the publication of an archived export. The worker
 * and the exporter call these; the rules live here so both read the same way.
 */
import { createHash } from 'node:crypto';
import * as z from '../runtime/schema.ts';
import type { RecordedEvent } from '../store/event-store.ts';
import type { EventItem } from '../store/items.ts';
import {
  type BusEvent,
  busEventOf,
  DETAIL_VERSION,
  type ExportArchivedDetail,
  isPublished,
} from './bus-events.ts';
import { type BusPublisher, entrySize, MAX_CALL_BYTES, putEventsEntry } from './bus-publisher.ts';

export interface PublicationSettings {
  /** Label events are the volume: published only when this is on. */
  readonly publishLabelEvents: boolean;
}

/**
 * The event to publish after a record was stored, or undefined. Published: an event stored
 * for the first time, and any redelivery of the delivery that stored it (a second or later
 * receive of its message, or the message redriven from the DLQ, which SQS counts from 1
 * again), since the attempt that stored it may have died before publishing. The same body
 * sent again by Datasaur (a later receive time) is not published again. Consumers dedupe on
 * `eventId` either way.
 */
export function publicationAfterStore(
  recorded: Pick<RecordedEvent, 'item' | 'duplicate' | 'sameDelivery'>,
  receiveCount: number,
  settings: PublicationSettings,
): BusEvent | undefined {
  if (recorded.duplicate && receiveCount <= 1 && recorded.sameDelivery !== true) return undefined;
  if (!isPublished(recorded.item, settings)) return undefined;
  return busEventOf(recorded.item);
}

/** The longest `source` a stack may publish with: the size check assumes it. */
const LONGEST_SOURCE = { eventBusName: 'default', source: 's'.repeat(256) };

/**
 * Why the event an item is published as could never be put on the bus (a detail its schema
 * refuses, or one over EventBridge's entry limit), or undefined. Checked before the item is
 * stored, for every item that has a detail-type (label events too: the setting may change).
 */
export function publicationProblem(item: EventItem): string | undefined {
  const event = busEventOf(item);
  if (event === undefined) return undefined;
  let entry: ReturnType<typeof putEventsEntry>;
  try {
    entry = putEventsEntry(event, LONGEST_SOURCE);
  } catch (error) {
    const issues =
      error instanceof z.SchemaError
        ? error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')
        : String(error);
    return `its ${event.detailType} event does not match the bus schema: ${issues}`;
  }
  const size = entrySize(entry);
  return size > MAX_CALL_BYTES
    ? `its ${event.detailType} event would be ${size} bytes, over EventBridge's ${MAX_CALL_BYTES}-byte entry limit`
    : undefined;
}

/** What the exporter knows once a file is in the bucket. */
export type ArchivedExport = Omit<ExportArchivedDetail, 'version' | 'eventId' | 'eventTime'>;

/** Thrown when EventBridge did not take the event after every retry. */
export class PublicationError extends Error {
  override readonly name = 'PublicationError';
}

export function exportArchivedEvent(archived: ArchivedExport): BusEvent {
  // The same archive gives the same id, so publishing it twice is deduped downstream.
  const eventId = createHash('sha256')
    .update(`Export Archived#${archived.exportId}#${archived.bucket}/${archived.key}`)
    .digest('hex');
  return {
    detailType: 'Export Archived',
    detail: { version: DETAIL_VERSION, eventId, eventTime: archived.archivedAt, ...archived },
  };
}

/** Publishes one `Export Archived` event; throws `PublicationError` if it could not be put. */
export async function publishExportArchived(
  publisher: BusPublisher,
  archived: ArchivedExport,
): Promise<BusEvent> {
  const event = exportArchivedEvent(archived);
  const outcome = await publisher.publish([{ id: archived.exportId, event }]);
  const failure = outcome.failed[0];
  if (failure !== undefined) {
    throw new PublicationError(`Export Archived for ${archived.exportId}: ${failure.error}`);
  }
  return event;
}
