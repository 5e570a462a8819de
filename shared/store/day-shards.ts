/**
 * Reads the shards of a day partition (`FEED#<day>#<n>`, …) in parallel and merges them into
 * one stream in sort-key order, page by page: for readers that walk a whole range (replay)
 * rather than page with a cursor (the queries).
 */
import {
  type DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { DAY_SHARD_NUMBERS } from './keys.ts';

type Item = Record<string, unknown>;

/**
 * The partitions of one day: each shard, then the unsharded partition a table holds until
 * migration step 2 ran (an empty Query once it has).
 */
export function dayPartitions(partitionOf: (day: string, shard?: number) => string, day: string) {
  return [...DAY_SHARD_NUMBERS.map((shard) => partitionOf(day, shard)), partitionOf(day)];
}

interface Cursor {
  buffer: Item[];
  startKey: Record<string, unknown> | undefined;
  done: boolean;
}

/**
 * The items of several Queries (one per partition, each already in key order) merged by
 * `sortKey`, yielded in pages; each partition is read one page ahead, all in parallel.
 */
export async function* mergedQueryPages(
  documents: DynamoDBDocumentClient,
  inputs: readonly QueryCommandInput[],
  sortKey: (item: Item) => string,
): AsyncGenerator<Item[]> {
  const cursors: Cursor[] = inputs.map(() => ({ buffer: [], startKey: undefined, done: false }));
  for (;;) {
    await Promise.all(
      cursors.map(async (cursor, index) => {
        while (cursor.buffer.length === 0 && !cursor.done) {
          const page = await documents.send(
            new QueryCommand({
              ...(inputs[index] as QueryCommandInput),
              ExclusiveStartKey: cursor.startKey,
            }),
          );
          cursor.buffer.push(...((page.Items ?? []) as Item[]));
          cursor.startKey = page.LastEvaluatedKey;
          cursor.done = page.LastEvaluatedKey === undefined;
        }
      }),
    );
    const merged: Item[] = [];
    // Items leave while every partition still reading has one buffered: none can precede them.
    for (;;) {
      let next: Cursor | undefined;
      for (const cursor of cursors) {
        const head = cursor.buffer[0];
        if (head === undefined) {
          if (cursor.done) continue;
          next = undefined;
          break;
        }
        if (next === undefined || sortKey(head) < sortKey(next.buffer[0] as Item)) next = cursor;
      }
      if (next === undefined) break;
      merged.push(next.buffer.shift() as Item);
    }
    if (merged.length > 0) yield merged;
    if (cursors.every((cursor) => cursor.done && cursor.buffer.length === 0)) return;
  }
}
