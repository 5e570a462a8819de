/**
 * The access patterns (six for events and projects, one for reconcile runs), each a Query (never a Scan) that pages with a limit and an opaque
 * cursor. Patterns that span several partitions (a team's projects across statuses, day
 * partitions of the feed, rejected and unknown events) read each partition in key order and
 * merge them; the cursor records where each partition stream stopped.
 */

import { type DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { limitConcurrency } from '../runtime/concurrency.ts';
import { parseIsoInstant } from '../runtime/instant.ts';
import type { BodyObject, BodyReader } from '../webhook/claim-check.ts';
import { PROJECT_STATUS_EVENTS, type ProjectStatus } from '../webhook/events.ts';
import { interpretBody } from '../webhook/interpret.ts';
import { EXPORT_STATUSES, type ExportStatus, restoredItem } from './items.ts';
import {
  DAY_SHARD_NUMBERS,
  dayOf,
  documentPartition,
  EVENT_SORT_PREFIX,
  EXPORT_SORT_PREFIX,
  exportStatusPartition,
  feedPartition,
  lastFeedKeyBefore,
  projectKey,
  projectLabelCountsKey,
  projectPartition,
  RECONCILE_PARTITION,
  rejectedPartition,
  teamPartition,
  unknownPartition,
} from './keys.ts';
import { MIGRATION_MARKER_KEY, SHARDED_DAYS_VERSION } from './migrations.ts';
import { indexKeyAttributes, readingIndex, TABLE } from './table.ts';

export const PROJECT_STATUSES = Object.values(PROJECT_STATUS_EVENTS) as ProjectStatus[];
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;
/** Ranges longer than this would cost one query per day for little use. */
export const MAX_RANGE_DAYS = 366;

/** An item as users see it: keys removed, event id and receive time spelled out. */
export type View = Record<string, unknown>;

export interface Page {
  readonly items: View[];
  /** Pass back to get the next page; absent on the last page. */
  readonly cursor?: string;
}

export interface PageRequest {
  readonly limit?: number;
  readonly cursor?: string;
}

export interface TimeRange {
  /** Inclusive ISO instant. */
  readonly from: string;
  /** Exclusive ISO instant. */
  readonly to: string;
}

export class InvalidQueryError extends Error {
  override readonly name = 'InvalidQueryError';
}

export interface Queries {
  /**
   * 1. A project by id, or undefined when no event of it has been stored; with its latest
   * archived export (`latestExport`) when there is one, and its label counters (`labels`:
   * `documentCount`, `labelEventCount`, `countedAt`) once the enrichment has counted them.
   */
  project(projectId: string): Promise<View | undefined>;
  /** 2. A team's projects, newest status change first, optionally of one status and since a time. */
  teamProjects(
    filter: { teamId: string; status?: ProjectStatus; since?: string },
    page?: PageRequest,
  ): Promise<Page>;
  /** 3. A project's events and export deliveries, oldest first. */
  projectHistory(projectId: string, page?: PageRequest): Promise<Page>;
  /** 4. A document's label events, oldest first, or newest first. */
  documentLabels(
    documentId: string,
    page?: PageRequest,
    order?: { newestFirst?: boolean },
  ): Promise<Page>;
  /**
   * 4b. A project's label events across its documents, newest first: GSI4, which holds the
   * label items whose document's project is known; with the project's label counters.
   */
  projectLabels(projectId: string, page?: PageRequest): Promise<Page & { counts?: View }>;
  /** 5. Every event received in a time range, in receive order (the feed), or newest first. */
  feed(range: TimeRange, page?: PageRequest, order?: { newestFirst?: boolean }): Promise<Page>;
  /** 6. Rejected bodies (by receive time) and unknown event types (by event time), in time order. */
  rejectedAndUnknown(range: TimeRange, page?: PageRequest): Promise<Page>;
  /** 7. Reconcile runs, newest first. */
  reconcileRuns(page?: PageRequest): Promise<Page>;
  /**
   * 8. Archived exports: a project's (by trigger and time), or by export status and team,
   * newest request first.
   */
  exports(filter: ExportFilter, page?: PageRequest): Promise<Page>;
  /**
   * 9. One event by its id, whatever its type (a project, label, unknown or synthetic event,
   * an export delivery or a rejected body): the first of `eventItems`, so a stored event
   * rather than a rejected body of the same id.
   */
  event(eventId: string): Promise<View | undefined>;
  /**
   * 9. Every item with this event id, a stored event first, then rejected bodies, each kind
   * in receive order: a Query on GSI3 for their keys (at most `EVENT_ITEMS_READ`), then a
   * GetItem each. An id names more than one item when a replay stored a rejected body as an
   * event but could not publish it: the rejected body stays beside it, received at the same
   * time, until a replay publishes it.
   */
  eventItems(eventId: string): Promise<View[]>;
}

/** Items read for one event id: in practice one, two while a replay is half done. */
export const EVENT_ITEMS_READ = 10;

export interface ExportFilter {
  readonly projectId?: string;
  readonly teamId?: string;
  readonly status?: ExportStatus;
}

/** One Query: a partition of the table or of an index, read in one direction. */
interface PartitionQuery {
  readonly indexName?: string;
  readonly keyCondition: string;
  readonly values: Record<string, string>;
  readonly newestFirst?: boolean;
  /** Applied after the key condition (items read but not returned still cost reads). */
  readonly filter?: {
    readonly expression: string;
    readonly values: Record<string, string>;
    readonly names?: Record<string, string>;
  };
}

/** Partitions read one after another, forming one ordered stream of items. */
interface Stream {
  readonly partitions: readonly PartitionQuery[];
  /** The attributes that make up `ExclusiveStartKey` for these partitions. */
  readonly keyAttributes: readonly string[];
}

/** Where a stream stopped: a partition and the key after which to resume, or null when done. */
type StreamPosition = null | {
  readonly partition: number;
  readonly after?: Record<string, string>;
};
/**
 * A cursor holds one position per stream (a feed page reads one stream per day shard), so it
 * is written compactly: `null`, or `[partition, ...values of the stream's key attributes]`.
 */
const cursorSchema = z
  .array(z.union([z.null(), z.tuple([z.number().int().min(0)]).rest(z.string())]))
  .min(1);

interface FetchedItem {
  readonly item: Record<string, unknown>;
  readonly partition: number;
}

export interface QueryOptions {
  /**
   * Reads claim-checked bodies, so an event too large for its item comes back whole, as if it
   * had been stored inline. Without it such items show their label counts and `bodyObject`.
   */
  readonly bodies?: BodyReader;
}

/** Bodies read from the archive at a time: a page may hold fifty bodies of megabytes each. */
const ARCHIVE_READS_AT_ONCE = 4;

export function createQueries(
  documents: DynamoDBDocumentClient,
  tableName: string,
  options: QueryOptions = {},
): Queries {
  const { bodies } = options;
  const limited = limitConcurrency(ARCHIVE_READS_AT_ONCE);
  const restore = (view: View): Promise<View> | View =>
    bodies === undefined || view.bodyObject === undefined
      ? view
      : limited(() => withArchivedBody(view, bodies));

  let migrated = false;
  /** The day shards to read; the unsharded partitions too until the table reached version 2. */
  async function dayShards(): Promise<DayShard[]> {
    if (!migrated) {
      const { Item } = await documents.send(
        new GetCommand({ TableName: tableName, Key: MIGRATION_MARKER_KEY }),
      );
      migrated = Number(Item?.version ?? 0) >= SHARDED_DAYS_VERSION;
    }
    return [...DAY_SHARD_NUMBERS, migrated ? 'migrated' : 'unsharded'];
  }

  async function fetchStream(
    stream: Stream,
    position: NonNullable<StreamPosition>,
    limit: number,
  ): Promise<{ fetched: FetchedItem[]; exhausted: boolean }> {
    const fetched: FetchedItem[] = [];
    let partition = position.partition;
    let startKey: Record<string, string> | undefined = position.after;
    while (partition < stream.partitions.length && fetched.length < limit) {
      const query = stream.partitions[partition] as PartitionQuery;
      const page = await documents.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: query.indexName,
          KeyConditionExpression: query.keyCondition,
          ExpressionAttributeValues: { ...query.values, ...query.filter?.values },
          ...(query.filter === undefined
            ? {}
            : {
                FilterExpression: query.filter.expression,
                ExpressionAttributeNames: query.filter.names,
              }),
          ScanIndexForward: query.newestFirst !== true,
          Limit: limit - fetched.length,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) fetched.push({ item, partition });
      if (page.LastEvaluatedKey === undefined) {
        partition += 1;
        startKey = undefined;
      } else {
        startKey = page.LastEvaluatedKey as Record<string, string>;
      }
    }
    return { fetched, exhausted: partition >= stream.partitions.length };
  }

  /**
   * Reads up to `limit` items from each stream, merges them by `order`, keeps the first
   * `limit`, and moves each stream's position to just after the last item it contributed.
   */
  async function readPage(
    streams: readonly Stream[],
    order: (left: Record<string, unknown>, right: Record<string, unknown>) => number,
    request: PageRequest,
  ): Promise<Page> {
    const limit = pageSize(request.limit);
    const positions = decodeCursor(request.cursor, streams);
    const reads = await Promise.all(
      streams.map((stream, index) => {
        const position = positions[index];
        return position === null || position === undefined
          ? { fetched: [], exhausted: true }
          : fetchStream(stream, position, limit);
      }),
    );
    const candidates = reads.flatMap((read, stream) =>
      read.fetched.map((fetched, rank) => ({ ...fetched, stream, rank })),
    );
    candidates.sort((left, right) => order(left.item, right.item) || left.stream - right.stream);
    const taken = candidates.slice(0, limit);

    const nextPositions = streams.map((stream, index): StreamPosition => {
      const read = reads[index] as { fetched: FetchedItem[]; exhausted: boolean };
      const mine = taken.filter((candidate) => candidate.stream === index);
      if (read.exhausted && mine.length === read.fetched.length) return null;
      const last = mine.at(-1);
      if (last === undefined) return positions[index] ?? null;
      return { partition: last.partition, after: keyOf(last.item, stream.keyAttributes) };
    });
    const cursor = nextPositions.every((position) => position === null)
      ? undefined
      : encodeCursor(nextPositions, streams);
    const items = await Promise.all(taken.map((candidate) => restore(toView(candidate.item))));
    return { items, ...(cursor && { cursor }) };
  }

  const tableStream = (partition: PartitionQuery): Stream => ({
    partitions: [partition],
    keyAttributes: [TABLE.partitionKey, TABLE.sortKey],
  });

  /** One partition of GSI1 (a team's projects, exports by status), newest first. */
  const teamProjectsStream = (
    partition: Omit<PartitionQuery, 'indexName' | 'newestFirst'>,
  ): Stream => ({
    partitions: [
      { indexName: TABLE.indexes.teamProjects.indexName, newestFirst: true, ...partition },
    ],
    keyAttributes: [
      TABLE.partitionKey,
      TABLE.sortKey,
      TABLE.indexes.teamProjects.partitionKey,
      TABLE.indexes.teamProjects.sortKey,
    ],
  });

  const eventsOf = (pk: string, page: PageRequest = {}, newestFirst = false) =>
    readPage(
      [
        tableStream({
          keyCondition: 'pk = :pk AND begins_with(sk, :prefix)',
          values: { ':pk': pk, ':prefix': EVENT_SORT_PREFIX },
          newestFirst,
        }),
      ],
      newestFirst ? (left, right) => bySortKey(right, left) : bySortKey,
      page,
    );

  async function exportsPage(
    { projectId, teamId, status }: ExportFilter,
    page: PageRequest,
  ): Promise<Page> {
    const filters = [
      ...(teamId === undefined ? [] : [['teamId = :teamId', { ':teamId': teamId }] as const]),
      ...(status === undefined || projectId === undefined
        ? []
        : [['#status = :status', { ':status': status }] as const]),
    ];
    const filter =
      filters.length === 0
        ? {}
        : {
            filter: {
              expression: filters.map(([expression]) => expression).join(' AND '),
              values: Object.assign({}, ...filters.map(([, values]) => values)),
              ...(filters.some(([expression]) => expression.includes('#status')) && {
                names: { '#status': 'status' },
              }),
            },
          };
    if (projectId !== undefined) {
      return readPage(
        [
          tableStream({
            keyCondition: 'pk = :pk AND begins_with(sk, :prefix)',
            values: { ':pk': projectPartition(projectId), ':prefix': EXPORT_SORT_PREFIX },
            ...filter,
          }),
        ],
        bySortKey,
        page,
      );
    }
    if (teamId === undefined && status === undefined) {
      throw new InvalidQueryError('exports needs a project, a team or a status');
    }
    const streams = (status === undefined ? EXPORT_STATUSES : [status]).map((oneStatus) =>
      teamProjectsStream({
        keyCondition: 'gsi1pk = :exports',
        values: { ':exports': exportStatusPartition(oneStatus) },
        ...filter,
      }),
    );
    return readPage(streams, newestRequestFirst, page);
  }

  /** The newest ARCHIVED export of a project, as `query project` shows it. */
  async function latestArchivedExport(projectId: string): Promise<View | undefined> {
    const { items } = await readPage(
      [
        tableStream({
          keyCondition: 'pk = :pk AND begins_with(sk, :prefix)',
          values: { ':pk': projectPartition(projectId), ':prefix': EXPORT_SORT_PREFIX },
          filter: {
            expression: '#status = :archived',
            values: { ':archived': 'ARCHIVED' },
            names: { '#status': 'status' },
          },
        }),
      ],
      bySortKey,
      { limit: MAX_PAGE_SIZE },
    );
    const latest = items
      .sort((left, right) => compareText(left.archivedAt, right.archivedAt))
      .at(-1);
    if (latest === undefined) return undefined;
    const { trigger, statusAt, bucket, key, bytes, sha256, archivedAt, exportId } = latest;
    return { trigger, statusAt, bucket, key, bytes, sha256, archivedAt, exportId };
  }

  async function eventItems(eventId: string): Promise<View[]> {
    const { eventIds } = TABLE.indexes;
    const { Items = [] } = await readingIndex(tableName, eventIds, () =>
      documents.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: eventIds.indexName,
          KeyConditionExpression: '#eventId = :eventId',
          ExpressionAttributeNames: { '#eventId': eventIds.partitionKey },
          ExpressionAttributeValues: { ':eventId': eventId },
          Limit: EVENT_ITEMS_READ,
        }),
      ),
    );
    const found = await Promise.all(
      Items.map(async (keys) => {
        const { Item } = await documents.send(
          new GetCommand({
            TableName: tableName,
            Key: { [TABLE.partitionKey]: keys.pk, [TABLE.sortKey]: keys.sk },
          }),
        );
        return Item === undefined ? [] : [await restore(toView(Item))];
      }),
    );
    return found.flat().sort(storedEventFirst);
  }

  return {
    eventItems,

    async event(eventId) {
      const [first] = await eventItems(eventId);
      return first;
    },

    async project(projectId) {
      const { Item } = await documents.send(
        new GetCommand({ TableName: tableName, Key: projectKey(projectId) }),
      );
      if (Item === undefined) return undefined;
      const [latestExport, counts] = await Promise.all([
        latestArchivedExport(projectId),
        documents.send(
          new GetCommand({ TableName: tableName, Key: projectLabelCountsKey(projectId) }),
        ),
      ]);
      const labels = counts.Item && {
        documentCount: counts.Item.documentCount,
        labelEventCount: counts.Item.labelEventCount,
        countedAt: counts.Item.countedAt,
      };
      return { ...toView(Item), ...(latestExport && { latestExport }), ...(labels && { labels }) };
    },

    async exports(filter, page = {}) {
      const found = await exportsPage(filter, page);
      return { ...found, items: found.items.map(withoutWorkingState) };
    },

    async teamProjects({ teamId, status, since }, page = {}) {
      const sinceInstant = since === undefined ? undefined : isoInstant(since, 'since');
      const streams = (status === undefined ? PROJECT_STATUSES : [status]).map((oneStatus) =>
        teamProjectsStream(
          sinceInstant === undefined
            ? {
                keyCondition: 'gsi1pk = :team AND begins_with(gsi1sk, :status)',
                values: { ':team': teamPartition(teamId), ':status': `${oneStatus}#` },
              }
            : {
                // `$` follows `#`, so this spans every `<status>#<statusAt ≥ since>#…` key.
                keyCondition: 'gsi1pk = :team AND gsi1sk BETWEEN :since AND :end',
                values: {
                  ':team': teamPartition(teamId),
                  ':since': `${oneStatus}#${sinceInstant}`,
                  ':end': `${oneStatus}$`,
                },
              },
        ),
      );
      return readPage(streams, newestStatusFirst, page);
    },

    projectHistory: (projectId, page) => eventsOf(projectPartition(projectId), page),

    reconcileRuns: (page = {}) =>
      readPage(
        [
          tableStream({
            keyCondition: 'pk = :pk',
            values: { ':pk': RECONCILE_PARTITION },
            newestFirst: true,
          }),
        ],
        (left, right) => compareText(right.sk, left.sk),
        page,
      ),

    documentLabels: (documentId, page, order = {}) =>
      eventsOf(documentPartition(documentId), page, order.newestFirst === true),

    async projectLabels(projectId, page = {}) {
      const { projectLabels } = TABLE.indexes;
      const stream: Stream = {
        // GSI4 sorts by the table's own sort key: the start key is pk, sk and gsi4pk.
        keyAttributes: [
          ...new Set([TABLE.partitionKey, TABLE.sortKey, ...indexKeyAttributes(projectLabels)]),
        ],
        partitions: [
          {
            indexName: projectLabels.indexName,
            keyCondition: 'gsi4pk = :project',
            values: { ':project': projectPartition(projectId) },
            newestFirst: true,
          },
        ],
      };
      const [found, counts] = await Promise.all([
        readingIndex(tableName, projectLabels, () =>
          readPage([stream], (left, right) => compareText(right.sk, left.sk), page),
        ),
        documents.send(
          new GetCommand({ TableName: tableName, Key: projectLabelCountsKey(projectId) }),
        ),
      ]);
      return counts.Item === undefined ? found : { ...found, counts: toView(counts.Item) };
    },

    async feed(range, page = {}, { newestFirst = false } = {}) {
      const { feed } = TABLE.indexes;
      const { from, to } = validRange(range);
      if (from === to) return { items: [] };
      const days = daysBetween(from, to);
      if (newestFirst) days.reverse();
      const streams = (await dayShards()).map(
        (shard): Stream => ({
          keyAttributes: [TABLE.partitionKey, TABLE.sortKey, feed.partitionKey, feed.sortKey],
          partitions: (shard === 'migrated' ? [] : days).map((day) => ({
            indexName: feed.indexName,
            keyCondition: 'gsi2pk = :day AND gsi2sk BETWEEN :from AND :last',
            values: {
              ':day': feedPartition(day, shardNumber(shard)),
              ':from': from,
              ':last': lastFeedKeyBefore(to),
            },
            newestFirst,
          })),
        }),
      );
      return readPage(
        streams,
        newestFirst ? (left, right) => byFeedKey(right, left) : byFeedKey,
        page,
      );
    },

    async rejectedAndUnknown(range, page = {}) {
      const { from, to } = validRange(range);
      const days = daysBetween(from, to);
      const shards = await dayShards();
      const dayStreams = (
        partitionOf: (day: string, shard?: number) => string,
        bounds: { ':from': string; ':to': string },
      ) =>
        shards.map(
          (shard): Stream => ({
            keyAttributes: [TABLE.partitionKey, TABLE.sortKey],
            partitions: (shard === 'migrated' ? [] : days).map((day) => ({
              keyCondition: 'pk = :day AND sk BETWEEN :from AND :to',
              values: { ':day': partitionOf(day, shardNumber(shard)), ...bounds },
            })),
          }),
        );
      return readPage(
        [
          ...dayStreams(rejectedPartition, { ':from': from, ':to': to }),
          ...dayStreams(unknownPartition, {
            ':from': `${EVENT_SORT_PREFIX}${from}`,
            ':to': `${EVENT_SORT_PREFIX}${to}`,
          }),
        ],
        byEventTime,
        page,
      );
    },
  };
}

/**
 * The shards of a day partition read in parallel, then the unsharded partition of a table not
 * yet migrated to version 2 (`'migrated'` once it is: an empty stream, so a cursor keeps its
 * shape across the migration).
 */
type DayShard = number | 'unsharded' | 'migrated';

function shardNumber(shard: DayShard): number | undefined {
  return typeof shard === 'number' ? shard : undefined;
}

function pageSize(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new InvalidQueryError(`limit must be a whole number from 1 to ${MAX_PAGE_SIZE}`);
  }
  return limit;
}

function encodeCursor(positions: readonly StreamPosition[], streams: readonly Stream[]): string {
  const compact = positions.map((position, index) =>
    position === null
      ? null
      : [
          position.partition,
          ...(position.after === undefined
            ? []
            : (streams[index] as Stream).keyAttributes.map((name) => position.after?.[name])),
        ],
  );
  return Buffer.from(JSON.stringify(compact)).toString('base64url');
}

function decodeCursor(cursor: string | undefined, streams: readonly Stream[]): StreamPosition[] {
  if (cursor === undefined) return streams.map(() => ({ partition: 0 }));
  const invalid = () => new InvalidQueryError('the cursor is not one this query returned');
  let compact: z.infer<typeof cursorSchema>;
  try {
    compact = cursorSchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw invalid();
  }
  if (compact.length !== streams.length) throw invalid();
  return compact.map((position, index): StreamPosition => {
    if (position === null) return null;
    const [partition, ...values] = position;
    const { keyAttributes, partitions } = streams[index] as Stream;
    if (partition > partitions.length) throw invalid();
    if (values.length === 0) return { partition };
    if (values.length !== keyAttributes.length) throw invalid();
    return {
      partition,
      after: Object.fromEntries(keyAttributes.map((name, at) => [name, values[at] as string])),
    };
  });
}

function keyOf(
  item: Record<string, unknown>,
  attributes: readonly string[],
): Record<string, string> {
  return Object.fromEntries(attributes.map((name) => [name, String(item[name])]));
}

function isoInstant(value: string, what: string): string {
  const time = parseIsoInstant(value);
  if (time === undefined) {
    throw new InvalidQueryError(
      `${what} must be an ISO-8601 time with a zone, such as 2026-11-23T09:00:00Z (or a date, 2026-11-23), got "${value}"`,
    );
  }
  return new Date(time).toISOString();
}

export function validRange(range: TimeRange): TimeRange {
  const from = isoInstant(range.from, 'from');
  const to = isoInstant(range.to, 'to');
  if (from > to) throw new InvalidQueryError('from must not be after to');
  return { from, to };
}

/** Every UTC day from `from`'s to `to`'s, inclusive: the day partitions a range touches. */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  const last = dayOf(to);
  for (let day = dayOf(from); day <= last; ) {
    days.push(day);
    if (days.length > MAX_RANGE_DAYS) {
      throw new InvalidQueryError(`a range may span at most ${MAX_RANGE_DAYS} days`);
    }
    const next = new Date(`${day}T00:00:00.000Z`);
    next.setUTCDate(next.getUTCDate() + 1);
    day = dayOf(next.toISOString());
  }
  return days;
}

function compareText(left: unknown, right: unknown): number {
  const a = String(left);
  const b = String(right);
  return a < b ? -1 : a > b ? 1 : 0;
}

const bySortKey = (left: Record<string, unknown>, right: Record<string, unknown>) =>
  compareText(left.sk, right.sk);

const byFeedKey = (left: Record<string, unknown>, right: Record<string, unknown>) =>
  compareText(left.gsi2sk, right.gsi2sk);

/** Drops what only the exporter needs: its claim, and Datasaur's pre-signed link (a credential). */
function withoutWorkingState(view: View): View {
  const { claimedBy, leaseUntil, fileUrl, fileUrlExpiredAt, ...shown } = view;
  return shown;
}

/** A stored event before a rejected body of the same id; then the first received first. */
const storedEventFirst = (left: View, right: View) =>
  Number(left.itemType === 'rejected') - Number(right.itemType === 'rejected') ||
  compareText(left.receivedAt, right.receivedAt);

const newestRequestFirst = (left: Record<string, unknown>, right: Record<string, unknown>) =>
  compareText(right.gsi1sk, left.gsi1sk);

const newestStatusFirst = (left: Record<string, unknown>, right: Record<string, unknown>) =>
  // Ties as each partition returns them (its sort key ends with the projectId, read newest first).
  compareText(right.statusAt, left.statusAt) || compareText(right.projectId, left.projectId);

/** Rejected items sort by receive time, unknown events by event time: both lead their sort key. */
const byEventTime = (left: Record<string, unknown>, right: Record<string, unknown>) =>
  compareText(eventTimeOf(left), eventTimeOf(right));

function eventTimeOf(item: Record<string, unknown>): string {
  const sortKey = String(item.sk);
  return sortKey.startsWith(EVENT_SORT_PREFIX) ? sortKey.slice(EVENT_SORT_PREFIX.length) : sortKey;
}

/** Keys made for the table and its indexes, not attributes of the item (`eventId` is both). */
const KEY_ATTRIBUTES = new Set<string>([
  TABLE.partitionKey,
  TABLE.sortKey,
  ...[TABLE.indexes.teamProjects, TABLE.indexes.feed, TABLE.indexes.projectLabels].flatMap(
    indexKeyAttributes,
  ),
]);

/**
 * The view of a claim-checked item with its body read back from the archive: the parsed
 * event in `data` (label events) or `payload` (unknown events), or the raw `body` (rejected),
 * exactly as an item that held it would show.
 */
async function withArchivedBody(view: View, bodies: BodyReader): Promise<View> {
  const { bodyObject, labelCounts: _counts, ...rest } = view;
  const rawBody = await bodies.get(bodyObject as BodyObject);
  if (view.itemType === 'rejected') {
    const text = rawBody.toString('utf8');
    return Buffer.from(text, 'utf8').equals(rawBody)
      ? { ...rest, body: text }
      : { ...rest, bodyBase64: rawBody.toString('base64') };
  }
  const interpretation = interpretBody('POST', rawBody, String(view.receivedAt));
  if (interpretation.kind === 'labelEvent') return { ...rest, data: interpretation.event.data };
  if (interpretation.kind === 'unknown') return { ...rest, payload: interpretation.payload };
  throw new Error(
    `the archived body of event ${String(view.eventId)} is no longer what was stored`,
  );
}

/** Drops the keys, spells out the event id and receive time, and base64-encodes binary bodies. */
export function toView(stored: Record<string, unknown>): View {
  const item = restoredItem(stored);
  // The event id and receive time lead, as every listing shows them.
  const view: View =
    item.eventId === undefined ? {} : { eventId: item.eventId, receivedAt: item.receivedAt };
  for (const [name, value] of Object.entries(item)) {
    if (KEY_ATTRIBUTES.has(name)) continue;
    if (value instanceof Uint8Array) view[`${name}Base64`] = Buffer.from(value).toString('base64');
    else view[name] = value;
  }
  return view;
}
