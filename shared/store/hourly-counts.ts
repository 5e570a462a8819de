/**
 * Events stored per UTC hour and type, kept by the worker so an overview never scans: each
 * batch adds its new events with one UpdateItem per hour it touches, on one of a few shards
 * (picked by the batch's first event id), and a reader sums the shards.
 */
import type { StoredEventOutcome } from './event-store.ts';
import { HOURLY_COUNT_SORT_PREFIX, hourlyCountKey, receivedAtOf } from './keys.ts';
import { queryAll } from './query-all.ts';
import type { TableDocuments } from './table-documents.ts';
import type { ItemWrite } from './write-units.ts';

/** Partitions the counters are spread over: a batch writes one, a reader queries all. */
export const HOURLY_COUNT_SHARDS = 8;

/** The names counted: each event type Datasaur sends, and one name per kind of the rest. */
export const UNKNOWN_COUNT = 'UNKNOWN';
export const REJECTED_COUNT = 'REJECTED';
export const RECONCILED_COUNT = 'RECONCILED';

/** Per hour (`yyyy-mm-ddThh`), per counted name, how many events were stored. */
export type HourlyTally = Map<string, Map<string, number>>;

export interface HourlyCount {
  readonly hour: string;
  readonly counts: Readonly<Record<string, number>>;
}

/** The UTC hour (`yyyy-mm-ddThh`) of an ISO instant. */
export function hourOf(isoInstant: string): string {
  return isoInstant.slice(0, 13);
}

/**
 * What an item is counted as (a stored item, or one read back as a view: the console shows
 * and filters events by this name). Unknown types are one name, not their own: their type
 * comes from the body, and a counter per arbitrary name would let a sender grow the item.
 */
export function countedName(item: {
  readonly itemType?: unknown;
  readonly eventType?: unknown;
}): string {
  switch (item.itemType) {
    case 'rejected':
      return REJECTED_COUNT;
    case 'unknownEvent':
      return UNKNOWN_COUNT;
    case 'syntheticStatusEvent':
      return RECONCILED_COUNT;
    default:
      return String(item.eventType);
  }
}

/** Adds a newly stored event to the tally, at its receive hour; a duplicate is not counted again. */
export function tallyRecorded(tally: HourlyTally, recorded: StoredEventOutcome): void {
  if (recorded.duplicate) return;
  const hour = hourOf(receivedAtOf(recorded.item.gsi2sk));
  const name = countedName(recorded.item);
  const counts = tally.get(hour) ?? new Map<string, number>();
  counts.set(name, (counts.get(name) ?? 0) + 1);
  tally.set(hour, counts);
}

/** A shard picked by a hexadecimal id (an event id, an SQS message id): batches spread evenly. */
export function shardOf(hexId: string): number {
  return Number.parseInt(hexId.slice(0, 8), 16) % HOURLY_COUNT_SHARDS || 0;
}

/** The `itemType` of a shard's counters of one hour. */
export const HOURLY_COUNTS_ITEM_TYPE = 'hourlyCounts';

export interface HourlyCounts {
  /** Adds a tally to shard `shard`'s counters; the writes, for counting write units. */
  add(tally: HourlyTally, shard: number): Promise<ItemWrite[]>;
  /** Every hour from `fromHour` to `toHour` (inclusive) that has counts, oldest first. */
  read(fromHour: string, toHour: string): Promise<HourlyCount[]>;
}

export function createHourlyCounts(documents: TableDocuments, tableName: string): HourlyCounts {
  return {
    async add(tally, shard) {
      const writes: ItemWrite[] = [];
      for (const [hour, counts] of tally) {
        const names = [...counts.keys()];
        const { Attributes } = await documents.update({
          TableName: tableName,
          Key: hourlyCountKey(shard, hour),
          // The item says what it is, like every other item of the table (item schemas).
          UpdateExpression: `SET #itemType = :itemType, #hour = :hour ADD ${names.map((_, index) => `#n${index} :v${index}`).join(', ')}`,
          ExpressionAttributeNames: {
            '#itemType': 'itemType',
            '#hour': 'hour',
            ...Object.fromEntries(names.map((name, index) => [`#n${index}`, name])),
          },
          ExpressionAttributeValues: {
            ':itemType': HOURLY_COUNTS_ITEM_TYPE,
            ':hour': hour,
            ...Object.fromEntries(names.map((name, index) => [`:v${index}`, counts.get(name)])),
          },
          ReturnValues: 'ALL_NEW',
        });
        writes.push({ item: Attributes ?? {} });
      }
      return writes;
    },

    async read(fromHour, toHour) {
      const shards = Array.from({ length: HOURLY_COUNT_SHARDS }, (_, shard) => shard);
      const summed = new Map<string, Record<string, number>>();
      const pages = await Promise.all(
        shards.map((shard) =>
          queryAll(documents, {
            TableName: tableName,
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
            ExpressionAttributeValues: {
              ':pk': hourlyCountKey(shard, fromHour).pk,
              ':from': hourlyCountKey(shard, fromHour).sk,
              ':to': hourlyCountKey(shard, toHour).sk,
            },
          }),
        ),
      );
      for (const { pk: _pk, sk, ...counts } of pages.flat()) {
        const hour = String(sk).slice(HOURLY_COUNT_SORT_PREFIX.length);
        const sum = summed.get(hour) ?? {};
        for (const [name, value] of Object.entries(counts)) {
          if (typeof value === 'number') sum[name] = (sum[name] ?? 0) + value;
        }
        summed.set(hour, sum);
      }
      return [...summed.keys()].sort().map((hour) => ({ hour, counts: summed.get(hour) ?? {} }));
    },
  };
}
