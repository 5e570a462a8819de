/**
 * Versioned rewrites of a table's items in place (`npm run migrate`). Each step is one entry
 * of `MIGRATION_STEPS`: a pure function from a stored item to its rewrite (or undefined when
 * the item needs none), so a step is idempotent by construction. The table records the
 * version it has reached, and the position of a step under way, in one marker item: a run
 * stopped half-way resumes from the last page it finished.
 */
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
} from '@aws-sdk/lib-dynamodb';
import { type ExportItem, restoredItem, withoutFileUrl } from './items.ts';
import {
  dayShardOf,
  eventIdInSortKey,
  feedPartition,
  rejectedPartition,
  type TableKey,
  UNSHARDED_DAY_PARTITION,
  unknownPartition,
} from './keys.ts';
import { TABLE } from './table.ts';

export type StoredItem = Record<string, unknown>;

export interface MigrationStep {
  readonly version: number;
  readonly name: string;
  /**
   * The item as this step leaves it, or undefined when it is already so. A rewrite with other
   * table keys replaces the item (put, then delete of the old key).
   */
  readonly rewrite: (item: StoredItem, run: MigrationRun) => StoredItem | undefined;
}

/** What a step may know of the run besides the item. */
export interface MigrationRun {
  /** When this run started (ISO): the time a rewrite records as its own. */
  readonly startedAt: string;
}

/** In order; adding a step is adding an entry with the next version. */
export const MIGRATION_STEPS: readonly MigrationStep[] = [
  {
    version: 1,
    name: 'self-describing event items',
    rewrite: (item, run) => {
      const current = restoredItem(item);
      if (current === item) return undefined;
      // A delivery stored before links were removed: its export was requested with the link
      // in the request itself, so nothing reads it from the item (docs/export-archiving.md).
      if (current.itemType !== 'export') return current;
      const delivery = current as unknown as ExportItem;
      return delivery.data.fileUrl === undefined
        ? current
        : { ...withoutFileUrl(delivery, run.startedAt, 'MIGRATED') };
    },
  },
  {
    version: 2,
    name: 'day partitions sharded by event id',
    rewrite: shardDayPartitions,
  },
];

/** The version from which feed, rejected and unknown day partitions are sharded. */
export const SHARDED_DAYS_VERSION = 2;

const SHARDED_PARTITION_OF = {
  FEED: feedPartition,
  REJECTED: rejectedPartition,
  UNKNOWN: unknownPartition,
} as const;

/**
 * Step 2: `FEED#<day>` (GSI2), `REJECTED#<day>` and `UNKNOWN#<day>` (table partitions) become
 * `…#<day>#<shard>`, the shard from the event id as the worker now writes them. A feed entry
 * changes its index key only (the item is put again under its own table key); rejected and
 * unknown items move to their sharded table key (put, then delete of the old one).
 */
function shardDayPartitions(item: StoredItem): StoredItem | undefined {
  const eventId =
    typeof item.eventId === 'string' ? item.eventId : eventIdInSortKey(String(item.sk));
  const sharded = (value: unknown): string | undefined => {
    const match = typeof value === 'string' ? UNSHARDED_DAY_PARTITION.exec(value) : null;
    if (match === null) return undefined;
    const [, prefix, day] = match as unknown as [string, keyof typeof SHARDED_PARTITION_OF, string];
    return SHARDED_PARTITION_OF[prefix](day, dayShardOf(eventId));
  };
  const pk = sharded(item[TABLE.partitionKey]);
  const gsi2pk = sharded(item[TABLE.indexes.feed.partitionKey]);
  if (pk === undefined && gsi2pk === undefined) return undefined;
  return {
    ...item,
    ...(pk === undefined ? {} : { [TABLE.partitionKey]: pk }),
    ...(gsi2pk === undefined ? {} : { [TABLE.indexes.feed.partitionKey]: gsi2pk }),
  };
}

/** The marker item: the version the table has reached, and a step under way. */
export const MIGRATION_MARKER_KEY: TableKey = { pk: 'MIGRATION', sk: 'VERSION' };

export interface MigrationMarker extends TableKey {
  readonly itemType: 'migrationState';
  /** The last step finished; 0 for a table no step has finished on. */
  readonly version: number;
  /** The step under way and where its scan stopped, until it finishes. */
  readonly running?: {
    readonly version: number;
    /** The scan's `LastEvaluatedKey` after the last page finished. */
    readonly after: Record<string, unknown>;
    readonly scanned: number;
    readonly rewritten: number;
  };
  readonly updatedAt: string;
}

export interface MigrationProgress {
  readonly step: MigrationStep;
  readonly scanned: number;
  readonly rewritten: number;
  /** True once the step has read the whole table. */
  readonly done: boolean;
}

export interface MigrationOptions {
  /** Counts what would be rewritten and writes nothing, not even the marker. */
  readonly dryRun?: boolean;
  /** Items per scan page (default 500). */
  readonly pageSize?: number;
  /** Called after every page. */
  readonly onProgress?: (progress: MigrationProgress) => void;
  /** Stops after the page under way, its position saved (e.g. on Ctrl-C). */
  readonly signal?: AbortSignal;
  /** The steps to run; the product's own by default. */
  readonly steps?: readonly MigrationStep[];
  readonly now?: () => Date;
}

export interface MigrationResult {
  /** The version the table was at before this run. */
  readonly from: number;
  /** The version it is at now (for a dry run: would be). */
  readonly to: number;
  readonly steps: readonly { version: number; scanned: number; rewritten: number }[];
  /** True when the run stopped before the last step finished (its position is saved). */
  readonly stopped: boolean;
}

const DEFAULT_PAGE_SIZE = 500;

export async function migrateTable(
  documents: DynamoDBDocumentClient,
  tableName: string,
  options: MigrationOptions = {},
): Promise<MigrationResult> {
  const steps = options.steps ?? MIGRATION_STEPS;
  const now = options.now ?? (() => new Date());
  const dryRun = options.dryRun === true;
  const run: MigrationRun = { startedAt: now().toISOString() };
  const { Item } = await documents.send(
    new GetCommand({ TableName: tableName, Key: MIGRATION_MARKER_KEY, ConsistentRead: true }),
  );
  const marker = Item as MigrationMarker | undefined;
  const from = marker?.version ?? 0;
  let version = from;
  const done: { version: number; scanned: number; rewritten: number }[] = [];

  const saveMarker = (running?: MigrationMarker['running']) => {
    const next: MigrationMarker = {
      ...MIGRATION_MARKER_KEY,
      itemType: 'migrationState',
      version,
      ...(running && { running }),
      updatedAt: now().toISOString(),
    };
    return documents.send(new PutCommand({ TableName: tableName, Item: next }));
  };

  for (const step of steps.filter((candidate) => candidate.version > from)) {
    const resumed = marker?.running?.version === step.version ? marker.running : undefined;
    let after = resumed?.after;
    let scanned = resumed?.scanned ?? 0;
    let rewritten = resumed?.rewritten ?? 0;
    do {
      if (options.signal?.aborted) return { from, to: version, steps: done, stopped: true };
      const page = await documents.send(
        new ScanCommand({
          TableName: tableName,
          Limit: options.pageSize ?? DEFAULT_PAGE_SIZE,
          ExclusiveStartKey: after,
          ConsistentRead: true,
        }),
      );
      for (const item of page.Items ?? []) {
        if (sameKey(item, MIGRATION_MARKER_KEY)) continue;
        scanned += 1;
        const rewrite = step.rewrite(item, run);
        if (rewrite === undefined) continue;
        rewritten += 1;
        if (!dryRun)
          await replace(documents, tableName, item, rewrite, (read) => step.rewrite(read, run));
      }
      after = page.LastEvaluatedKey;
      if (!dryRun && after !== undefined) {
        await saveMarker({ version: step.version, after, scanned, rewritten });
      }
      options.onProgress?.({ step, scanned, rewritten, done: after === undefined });
    } while (after !== undefined);
    version = step.version;
    done.push({ version, scanned, rewritten });
    if (!dryRun) await saveMarker();
  }
  return { from, to: version, steps: done, stopped: false };
}

/**
 * Attributes other writers set on an event item after it is stored: the enrichment the
 * project of a label event, the exporter the time Datasaur's pre-signed link was removed
 * (with `data.fileUrl`). An in-place rewrite read before such a write must not undo it.
 */
const SET_AFTER_STORING = ['projectId', 'fileUrlRemovedAt'] as const;
/** Rewrites of one item that lost a race with another writer before this run gives up. */
const MAX_REWRITE_ATTEMPTS = 5;

/**
 * Puts the rewrite if the item is still there (DynamoDB TTL may have removed it meanwhile)
 * and still as read: when another writer changed it since, it is read again and rewritten
 * from what it holds now.
 */
async function replace(
  documents: DynamoDBDocumentClient,
  tableName: string,
  item: StoredItem,
  rewrite: StoredItem,
  rewriteAgain: (read: StoredItem) => StoredItem | undefined,
): Promise<void> {
  const moved = !sameKey(item, rewrite as unknown as TableKey);
  if (moved) {
    await documents.send(new PutCommand({ TableName: tableName, Item: rewrite }));
    await documents.send(
      new DeleteCommand({
        TableName: tableName,
        Key: { [TABLE.partitionKey]: item.pk, [TABLE.sortKey]: item.sk },
      }),
    );
    return;
  }
  let read = item;
  let next: StoredItem | undefined = rewrite;
  for (let attempt = 1; next !== undefined; attempt += 1) {
    try {
      await documents.send(
        new PutCommand({ TableName: tableName, Item: next, ...unchangedSince(read) }),
      );
      return;
    } catch (error) {
      if (!(error instanceof Error && error.name === 'ConditionalCheckFailedException'))
        throw error;
      if (attempt >= MAX_REWRITE_ATTEMPTS) {
        throw new Error(
          `item ${String(item.pk)} / ${String(item.sk)} changed during each of ${attempt} rewrites; run the migration again`,
        );
      }
    }
    const { Item } = await documents.send(
      new GetCommand({
        TableName: tableName,
        Key: { [TABLE.partitionKey]: item.pk, [TABLE.sortKey]: item.sk },
        ConsistentRead: true,
      }),
    );
    if (Item === undefined) return;
    read = Item;
    next = rewriteAgain(Item);
  }
}

/** The condition that the item exists and no writer set `SET_AFTER_STORING` since `read`. */
function unchangedSince(read: StoredItem) {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const clauses = ['attribute_exists(pk)'];
  SET_AFTER_STORING.forEach((attribute, index) => {
    names[`#set${index}`] = attribute;
    if (read[attribute] === undefined) {
      clauses.push(`attribute_not_exists(#set${index})`);
    } else {
      values[`:set${index}`] = read[attribute];
      clauses.push(`#set${index} = :set${index}`);
    }
  });
  return {
    ConditionExpression: clauses.join(' AND '),
    ExpressionAttributeNames: names,
    ...(Object.keys(values).length === 0 ? {} : { ExpressionAttributeValues: values }),
  };
}

function sameKey(item: StoredItem, key: TableKey): boolean {
  return item[TABLE.partitionKey] === key.pk && item[TABLE.sortKey] === key.sk;
}

/** The highest version a table can reach with this code. */
export const LATEST_VERSION = Math.max(0, ...MIGRATION_STEPS.map((step) => step.version));
