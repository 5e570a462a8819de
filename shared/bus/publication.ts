/**
 * When a stored event is published, and the publication of an archived export. The worker
 * and the exporter call these; the rules live here so both read the same way.
 */
import { createHash } from 'node:crypto';
import type { RecordedEvent } from '../store/event-store.ts';
import {
  type BusEvent,
  busEventOf,
  DETAIL_VERSION,
  type ExportArchivedDetail,
  isPublished,
} from './bus-events.ts';
import type { BusPublisher } from './bus-publisher.ts';

export interface PublicationSettings {
  /** Label events are the volume: published only when this is on. */
  readonly publishLabelEvents: boolean;
}

/**
 * The event to publish after a record was stored, or undefined. Published: an event stored
 * for the first time, and any redelivery (a second or later receive of the same message)
 * that finds it stored, since the attempt that stored it may have died before publishing.
 * A duplicate arriving as a new message (Datasaur sending the same body again) is not
 * published again. Consumers dedupe on `eventId` either way.
 */
export function publicationAfterStore(
  recorded: Pick<RecordedEvent, 'item' | 'duplicate'>,
  receiveCount: number,
  settings: PublicationSettings,
): BusEvent | undefined {
  if (recorded.duplicate && receiveCount <= 1) return undefined;
  if (!isPublished(recorded.item, settings)) return undefined;
  return busEventOf(recorded.item);
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
