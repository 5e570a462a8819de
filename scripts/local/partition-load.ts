/**
 * Write units per partition key, counted from the items a load run wrote (with the project's
 * own accounting, `shared/store/write-units.ts`), and extrapolated to a target request rate:
 * DynamoDB throttles a partition key past 1,000 write units a second, on the table and on
 * each index alike.
 */
import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { HOURLY_COUNT_PREFIX } from '../../shared/store/keys.ts';
import { INDEXES, TABLE } from '../../shared/store/table.ts';
import { writeUnits } from '../../shared/store/write-units.ts';

/** The most messages SQS hands the worker at once (its batch size is 10 at most). */
const EVENTS_PER_FULL_BATCH = 10;

/** DynamoDB's limit per partition key (table or index), in write units a second. */
export const PARTITION_WRITE_UNITS_PER_SECOND = 1_000;

export interface PartitionLoad {
  /** `table`, or the index name (GSI1, GSI2, GSI3). */
  readonly where: string;
  readonly key: string;
  /** Write units the run put on this key. */
  readonly units: number;
  /** Over the run: units / seconds from the first request until all was queryable. */
  readonly unitsPerSecond: number;
  /** At the target rate with the same mix of events: units / requests sent × target. */
  readonly unitsPerSecondAtTarget: number;
}

export interface PartitionLoadReport {
  readonly targetRate: number;
  /** The hottest key of the table and of each index, hottest first. */
  readonly hottest: readonly PartitionLoad[];
  readonly keys: number;
  readonly totalUnits: number;
}

export interface RunWrites {
  /** Requests sent per event id, duplicates included: a redelivery's conditional put costs the table write again. */
  readonly sendsPerEvent: ReadonlyMap<string, number>;
  /** Prefix of the run's project ids: its project items are this run's. */
  readonly projectPrefix: string;
  readonly requests: number;
  readonly seconds: number;
}

/**
 * Scans the table and counts the write units each of the run's items cost on each key it
 * has: event items once per send (the index entries once: a duplicate writes no index),
 * receipts likewise, a project item once per event it was derived from (at its final size),
 * and the hourly counters once per full batch of events they counted: the worker adds its
 * counters once per batch, and at a target rate of thousands a second SQS hands it full
 * batches (`EVENTS_PER_FULL_BATCH`), however small this run's were.
 */
export async function partitionLoad(
  documents: DynamoDBDocumentClient,
  tableName: string,
  run: RunWrites,
  targetRate: number,
): Promise<PartitionLoadReport> {
  const units = new Map<string, { where: string; key: string; units: number }>();
  const add = (where: string, key: string, amount: number) => {
    if (amount === 0) return;
    const id = `${where}\u0000${key}`;
    const entry = units.get(id) ?? { where, key, units: 0 };
    entry.units += amount;
    units.set(id, entry);
  };
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(
      new ScanCommand({ TableName: tableName, ExclusiveStartKey: startKey }),
    );
    for (const item of page.Items ?? []) {
      const writes = writesOf(item, run);
      if (writes === undefined) continue;
      const cost = writeUnits({ item });
      add('table', String(item[TABLE.partitionKey]), cost.table * writes.table);
      for (const index of INDEXES) {
        const key = item[index.partitionKey];
        if (key === undefined) continue;
        add(index.indexName, String(key), (cost.indexes[index.indexName] ?? 0) * writes.indexes);
      }
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);

  const loads = [...units.values()].map(
    (entry): PartitionLoad => ({
      ...entry,
      unitsPerSecond: entry.units / run.seconds,
      unitsPerSecondAtTarget: (entry.units / run.requests) * targetRate,
    }),
  );
  const hottestOf = new Map<string, PartitionLoad>();
  for (const load of loads) {
    const current = hottestOf.get(load.where);
    if (current === undefined || load.units > current.units) hottestOf.set(load.where, load);
  }
  return {
    targetRate,
    hottest: [...hottestOf.values()].sort((left, right) => right.units - left.units),
    keys: loads.length,
    totalUnits: loads.reduce((sum, load) => sum + load.units, 0),
  };
}

/** How many times the run wrote an item: its table write and its index entries. */
function writesOf(
  item: Record<string, unknown>,
  run: RunWrites,
): { table: number; indexes: number } | undefined {
  const pk = String(item[TABLE.partitionKey]);
  if (pk.startsWith(HOURLY_COUNT_PREFIX)) {
    const counted = Object.values(item).reduce(
      (sum: number, value) => sum + (typeof value === 'number' ? value : 0),
      0,
    );
    const writes = Math.ceil(counted / EVENTS_PER_FULL_BATCH);
    return counted === 0 ? undefined : { table: writes, indexes: writes };
  }
  if (item.itemType === 'project') {
    const projectId = String(item.projectId);
    if (!projectId.startsWith(run.projectPrefix)) return undefined;
    const events = Number(item.eventCount ?? 1);
    return { table: events, indexes: events };
  }
  const eventId = typeof item.eventId === 'string' ? item.eventId : pk.replace(/^RECEIPT#/, '');
  const sends = run.sendsPerEvent.get(eventId);
  return sends === undefined ? undefined : { table: sends, indexes: 1 };
}
