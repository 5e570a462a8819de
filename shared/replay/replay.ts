/**
 * Replays from the table, never scanning it (ranges are checked as the queries check them:
 * `validRange` in queries.ts): `events` re-publishes stored events of a time
 * range, found through the feed index (GSI2, one partition per day); `rejected` sends the
 * rejected bodies of a range back through the worker's interpretation, so those that parse
 * now (after a schema fix) become events, and the rest stay rejected.
 */
import { BatchGetCommand, DeleteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { busEventOf, type DetailType, detailTypeOf } from '../bus/bus-events.ts';
import type { BusPublisher, Publication } from '../bus/bus-publisher.ts';
import { publicationAfterStore, publicationProblem } from '../bus/publication.ts';
import {
  type ExportOn,
  type ExportRequestSink,
  exportRequestForRecorded,
  exportRequestProblem,
} from '../export/export-trigger.ts';
import { dayPartitions, mergedQueryPages } from '../store/day-shards.ts';
import { createEventStore } from '../store/event-store.ts';
import { type EventItem, type RejectedItem, restoredItem } from '../store/items.ts';
import {
  feedPartition,
  lastFeedKeyBefore,
  parseTimeAndEventId,
  rejectedPartition,
} from '../store/keys.ts';
import { daysBetween } from '../store/queries.ts';
import { sdkTableDocuments } from '../store/sdk-table-documents.ts';
import { TABLE } from '../store/table.ts';
import type { BodyReader } from '../webhook/claim-check.ts';
import { interpretBody } from '../webhook/interpret.ts';
import { isTestEvent } from '../webhook/test-event.ts';

export interface ReplayRange {
  /** Inclusive ISO instant. */
  readonly from: string;
  /** Exclusive ISO instant. */
  readonly to: string;
}

export interface ReplayContext {
  readonly documents: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly publisher: BusPublisher;
  readonly dryRun?: boolean;
  /** Called after each page with the counts so far. */
  readonly onProgress?: (counts: Readonly<Record<string, number>>) => void;
}

export interface EventReplayFilter extends ReplayRange {
  /** Detail-types to replay. */
  readonly types: readonly DetailType[];
  readonly projectId?: string;
}

export interface EventReplayResult {
  /** Feed entries read in the range. */
  readonly read: number;
  /** Of those, the events the filter selects. */
  readonly matched: number;
  readonly published: number;
  readonly failed: number;
  /** Why the first failure failed (EventBridge's error code, or the call's error). */
  readonly firstError?: string;
  readonly byType: Record<string, number>;
}

/** BatchGetItem's limit. */
const BATCH_GET_KEYS = 100;

export async function replayEvents(
  context: ReplayContext,
  filter: EventReplayFilter,
): Promise<EventReplayResult> {
  const { documents, tableName } = context;
  const counts = { read: 0, matched: 0, published: 0, failed: 0 };
  let firstError: string | undefined;
  const byType: Record<string, number> = {};
  for await (const page of feedPages(documents, tableName, filter)) {
    counts.read += page.length;
    const selected = page.filter((entry) => {
      const type = detailTypeOf(entry);
      if (type === undefined || !filter.types.includes(type) || isTestEvent(entry)) return false;
      return filter.projectId === undefined || entry.projectId === filter.projectId;
    });
    counts.matched += selected.length;
    for (const entry of selected) {
      const type = detailTypeOf(entry) as DetailType;
      byType[type] = (byType[type] ?? 0) + 1;
    }
    if (!context.dryRun && selected.length > 0) {
      const items = await getItems(documents, tableName, selected);
      const publications: Publication<number>[] = [];
      items.forEach((item, index) => {
        const event = busEventOf(item);
        if (event !== undefined) publications.push({ id: index, event });
      });
      const outcome = await context.publisher.publish(publications);
      counts.published += outcome.published.length;
      counts.failed += outcome.failed.length + (selected.length - items.length);
      firstError ??=
        outcome.failed[0]?.error ??
        (items.length < selected.length
          ? 'an event in the feed is no longer in the table'
          : undefined);
    }
    context.onProgress?.({ ...counts });
  }
  return { ...counts, byType, ...(firstError === undefined ? {} : { firstError }) };
}

export interface RejectedReplayResult {
  /** Rejected bodies read in the range. */
  readonly read: number;
  /** Of those, bodies that never arrived as a signed webhook: never replayed. */
  readonly unsigned: number;
  /** Now stored as events (with --dry-run: would be). */
  readonly recovered: number;
  /** Still rejected. */
  readonly stillRejected: number;
  readonly published: number;
  readonly failed: number;
}

/**
 * Re-interprets each rejected body of the range. One that parses is stored as the event it
 * is (a conditional put: a second replay stores nothing new), published as the worker would,
 * and its rejected item is then deleted, so the body is kept once.
 */
export async function replayRejected(
  context: ReplayContext & {
    readonly publishLabelEvents: boolean;
    /** Reads rejected bodies too large for their item from the archive bucket. */
    readonly bodies: BodyReader;
    /** Export archiving: a recovered event asks for its export as the worker's would. @default off */
    readonly exports?: { readonly exportOn: ExportOn; readonly queue: ExportRequestSink };
  },
  range: ReplayRange & {
    /** Only the rejected body with this event id (the console replays one body). */
    readonly eventId?: string;
  },
): Promise<RejectedReplayResult> {
  const { documents, tableName } = context;
  // As the worker admits events: what could not be published or exported stays rejected.
  const store = createEventStore(sdkTableDocuments(documents), tableName, {
    admit: (item) => publicationProblem(item) ?? exportRequestProblem(item),
    keepExportLinks: context.exports !== undefined && context.exports.exportOn !== 'off',
    // As the worker stores label events: with their document's project once known, and a new
    // document recorded for the enrichment to learn it.
    documentProjects: true,
  });
  const counts = { read: 0, unsigned: 0, recovered: 0, stillRejected: 0, published: 0, failed: 0 };
  for await (const all of rejectedPages(documents, tableName, range)) {
    const page =
      range.eventId === undefined
        ? all
        : all.filter((item) => parseTimeAndEventId(item.sk).eventId === range.eventId);
    counts.read += page.length;
    const publications: Publication<RejectedItem>[] = [];
    for (const rejected of page) {
      // A queue message that never passed the signature check is not a webhook: a replay
      // must not turn it into an event. Items from before provenance was kept count too.
      if (rejected.provenance !== 'webhook') {
        counts.unsigned += 1;
        continue;
      }
      const message = await reinterpret(rejected, context.bodies);
      if (message.interpretation.kind === 'rejected') {
        counts.stillRejected += 1;
        continue;
      }
      if (context.dryRun) {
        counts.recovered += 1;
        continue;
      }
      const recorded = await store.record(message);
      if (recorded.item.itemType === 'rejected') {
        // It parses, but DynamoDB cannot hold the parsed item: it stays as it was.
        counts.stillRejected += 1;
        continue;
      }
      counts.recovered += 1;
      const exportRequest =
        context.exports && exportRequestForRecorded(recorded, context.exports.exportOn);
      if (context.exports !== undefined && exportRequest !== undefined) {
        await context.exports.queue.send(exportRequest);
      }
      // Published as if first stored: this is the first time it is an event.
      const event = publicationAfterStore({ ...recorded, duplicate: false }, 1, context);
      if (event === undefined) await deleteItem(documents, tableName, rejected);
      else publications.push({ id: rejected, event });
    }
    if (publications.length > 0) {
      const outcome = await context.publisher.publish(publications);
      // Kept rejected until published: a rerun finds it, stores nothing new, publishes again.
      for (const rejected of outcome.published) await deleteItem(documents, tableName, rejected);
      counts.published += outcome.published.length;
      counts.failed += outcome.failed.length;
    }
    context.onProgress?.({ ...counts });
  }
  return counts;
}

/** The rejected item's body as the worker would read it now. */
async function reinterpret(rejected: RejectedItem, bodies: BodyReader) {
  const { time: receivedAt, eventId } = parseTimeAndEventId(rejected.sk);
  const bodyObject = 'bodyObject' in rejected ? rejected.bodyObject : undefined;
  const rawBody =
    'bodyObject' in rejected
      ? await bodies.get(rejected.bodyObject)
      : typeof rejected.body === 'string'
        ? Buffer.from(rejected.body, 'utf8')
        : Buffer.from(rejected.body);
  const method = rejected.method ?? 'POST';
  return {
    eventId,
    provenance: 'webhook' as const,
    method,
    receivedAt,
    rawBody,
    ...(bodyObject === undefined ? {} : { bodyObject }),
    interpretation: interpretBody(method, rawBody, receivedAt),
  };
}

/** What the feed index projects of an event item. */
type FeedEntry = Pick<EventItem, 'pk' | 'sk' | 'itemType'> & {
  readonly eventType?: string;
  readonly projectId?: string;
};

async function* feedPages(
  documents: DynamoDBDocumentClient,
  tableName: string,
  range: ReplayRange,
): AsyncGenerator<FeedEntry[]> {
  const { feed } = TABLE.indexes;
  if (range.from >= range.to) return;
  for (const day of daysBetween(range.from, range.to)) {
    const pages = mergedQueryPages(
      documents,
      dayPartitions(feedPartition, day).map((partition) => ({
        TableName: tableName,
        IndexName: feed.indexName,
        KeyConditionExpression: `${feed.partitionKey} = :day AND ${feed.sortKey} BETWEEN :from AND :last`,
        ExpressionAttributeValues: {
          ':day': partition,
          ':from': range.from,
          ':last': lastFeedKeyBefore(range.to),
        },
      })),
      (entry) => String(entry[feed.sortKey]),
    );
    // A label event's entry says its type only through its key.
    for await (const page of pages) yield page.map((entry) => restoredItem(entry) as FeedEntry);
  }
}

async function* rejectedPages(
  documents: DynamoDBDocumentClient,
  tableName: string,
  range: ReplayRange,
): AsyncGenerator<RejectedItem[]> {
  for (const day of daysBetween(range.from, range.to)) {
    const pages = mergedQueryPages(
      documents,
      dayPartitions(rejectedPartition, day).map((partition) => ({
        TableName: tableName,
        KeyConditionExpression: 'pk = :day AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':day': partition, ':from': range.from, ':to': range.to },
        ConsistentRead: true,
      })),
      (item) => String(item.sk),
    );
    for await (const page of pages) yield page as unknown as RejectedItem[];
  }
}

/** The full items of the feed entries, in their order. */
async function getItems(
  documents: DynamoDBDocumentClient,
  tableName: string,
  entries: readonly FeedEntry[],
): Promise<EventItem[]> {
  const found = new Map<string, EventItem>();
  for (let start = 0; start < entries.length; start += BATCH_GET_KEYS) {
    let keys: Record<string, unknown>[] = entries
      .slice(start, start + BATCH_GET_KEYS)
      .map(({ pk, sk }) => ({ pk, sk }));
    while (keys.length > 0) {
      const output = await documents.send(
        new BatchGetCommand({ RequestItems: { [tableName]: { Keys: keys } } }),
      );
      for (const item of output.Responses?.[tableName] ?? []) {
        found.set(`${item.pk}\u0000${item.sk}`, restoredItem(item) as unknown as EventItem);
      }
      keys = output.UnprocessedKeys?.[tableName]?.Keys ?? [];
    }
  }
  return entries.flatMap((entry) => found.get(`${entry.pk}\u0000${entry.sk}`) ?? []);
}

async function deleteItem(
  documents: DynamoDBDocumentClient,
  tableName: string,
  item: RejectedItem,
): Promise<void> {
  await documents.send(
    new DeleteCommand({ TableName: tableName, Key: { pk: item.pk, sk: item.sk } }),
  );
}
