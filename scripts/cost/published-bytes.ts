/**
 * The size EventBridge bills for what each kind of event publishes, from the real
 * interpretation, item and detail of the documented examples (a detail carries counts, not
 * labels, so a label event's size does not grow with its labels).
 */
import { busEventOf, DEFAULT_EVENT_SOURCE } from '../../shared/bus/bus-events.ts';
import { entrySize, putEventsEntry } from '../../shared/bus/bus-publisher.ts';
import { eventItem } from '../../shared/store/items.ts';
import { decodeEnvelope } from '../../shared/webhook/envelope.ts';
import { interpretEnvelope } from '../../shared/webhook/interpret.ts';
import { SEED_EVENTS, SEED_EXPORT_DELIVERY } from '../local/seed-events.ts';
import { type Delivery, sqsRecord } from '../local/sqs-records.ts';

function publishedBytes(delivery: Delivery): number {
  // The documented examples are small: always inline in their message.
  const { envelope, rawBody } = decodeEnvelope(sqsRecord(delivery).body);
  if (rawBody === undefined) throw new Error('a documented example went through the archive');
  const item = eventItem(interpretEnvelope(envelope, rawBody));
  const event = busEventOf(item);
  if (event === undefined) throw new Error(`a ${item.itemType} item is not published`);
  return entrySize(
    putEventsEntry(event, { eventBusName: 'default', source: DEFAULT_EVENT_SOURCE }),
  );
}

/** Bytes per published label event, and the mean over the project events and an export. */
export function measurePublishedBytes(): { label: number; project: number } {
  const projects = [
    { body: JSON.stringify(SEED_EVENTS.PROJECT_CREATED) },
    { body: JSON.stringify(SEED_EVENTS.PROJECT_COMPLETED) },
    { body: JSON.stringify(SEED_EXPORT_DELIVERY), method: 'PUT' as const },
    { body: JSON.stringify(SEED_EVENTS.PROJECT_REVIEWED) },
  ].map(publishedBytes);
  return {
    label: publishedBytes({ body: JSON.stringify(SEED_EVENTS.BEFORE_UPDATE_LABELS) }),
    project: projects.reduce((sum, bytes) => sum + bytes, 0) / projects.length,
  };
}
