/**
 * Items as the worker wrote them before items described themselves (migration step 1 of
 * `npm run migrate`): no `eventId`, `receivedAt` or `eventTime` (their keys held them), label
 * events without their item type, event type, document id, `data.timestamp` and
 * `data.document.id`, and a reconciler's event with `reconciledAt`. Tests build the old
 * table from today's items with this, exactly as the previous `storedItem` did.
 */
import type { EventItem } from '../../shared/store/items.ts';

export function inEarlierLayout(item: EventItem): Record<string, unknown> {
  return unsharded(selfDescribingBefore(item));
}

/** Before migration step 2, the day partitions were one per day: `FEED#<day>`, no shard. */
export function unsharded(item: Record<string, unknown>): Record<string, unknown> {
  const day = (value: unknown) =>
    typeof value === 'string'
      ? value.replace(/^(FEED|REJECTED|UNKNOWN)#([^#]+)#\d+$/, '$1#$2')
      : value;
  return {
    ...item,
    pk: day(item.pk),
    ...(item.gsi2pk === undefined ? {} : { gsi2pk: day(item.gsi2pk) }),
  };
}

function selfDescribingBefore(item: EventItem): Record<string, unknown> {
  const { eventId, receivedAt, ...rest } = item as EventItem & { eventTime?: string };
  const { eventTime: _eventTime, ...withoutTime } = rest as typeof rest & { eventTime?: string };
  const unknownIds = item.itemType === 'unknownEvent' ? ['projectId', 'documentId', 'teamId'] : [];
  const earlier: Record<string, unknown> = Object.fromEntries(
    Object.entries(withoutTime).filter(([name]) => !unknownIds.includes(name)),
  );
  if (item.itemType === 'syntheticStatusEvent') return { ...earlier, reconciledAt: receivedAt };
  // The layout before it also ended the feed sort key with the event id.
  if (item.itemType === 'rejected') return { ...earlier, gsi2sk: `${receivedAt}#${eventId}` };
  if (item.itemType !== 'labelEvent') return earlier;
  const {
    itemType: _type,
    eventType: _eventType,
    documentId: _documentId,
    data,
    ...label
  } = earlier as Record<string, unknown> & {
    data: { timestamp: string; document: { id: string } };
  };
  const { timestamp: _timestamp, document, ...details } = data;
  const { id: _id, ...documentDetails } = document;
  return { ...label, data: { ...details, document: documentDetails } };
}
