/**
 * The day partitions (feed, rejected, unknown) spread over DAY_SHARDS keys: the queries read
 * every shard in parallel and page through them in order with one cursor, and still find
 * entries a table wrote before migration step 2 until `npm run migrate` has run.
 */
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { SEED_EVENTS } from '../scripts/local/seed-events.ts';
import type { EventItem } from '../shared/store/items.ts';
import { DAY_SHARDS, dayShardOf } from '../shared/store/keys.ts';
import { migrateTable } from '../shared/store/migrations.ts';
import { createQueries, type Page, type View } from '../shared/store/queries.ts';
import { unsharded } from './support/earlier-layout.ts';
import { startedForTests, startLocalDynamoDb } from './support/local-aws.ts';
import { webhookEventItem } from './support/webhook-records.ts';

const FROM = '2026-11-22T00:00:00.000Z';
const TO = '2026-11-24T00:00:00.000Z';

/** `count` events over two days: project events, and a rejected body and an unknown event every few. */
function events(count: number, tag: string, offsetMs = 0): EventItem[] {
  return Array.from({ length: count }, (_, index) => {
    const receivedAt = new Date(Date.parse(FROM) + offsetMs + index * 240_000).toISOString();
    const created = SEED_EVENTS.PROJECT_CREATED;
    const body =
      index % 5 === 0
        ? `not json ${tag} ${index}`
        : index % 5 === 1
          ? JSON.stringify({ eventType: 'PROJECT_ARCHIVED', data: { tag, n: index } })
          : JSON.stringify({
              ...created,
              data: { ...created.data, project: { id: `${tag}-${index}` } },
            });
    return webhookEventItem(body, receivedAt);
  });
}

async function putAll(tableName: string, items: readonly object[]) {
  for (let start = 0; start < items.length; start += 25) {
    let requests = items
      .slice(start, start + 25)
      .map((Item) => ({ PutRequest: { Item: Item as Record<string, unknown> } }));
    while (requests.length > 0) {
      const output = await dynamoDb.documents.send(
        new BatchWriteCommand({ RequestItems: { [tableName]: requests } }),
      );
      requests = (output.UnprocessedItems?.[tableName] ?? []) as typeof requests;
    }
  }
}

async function allPages(read: (cursor?: string) => Promise<Page>) {
  const pages: Page[] = [];
  let cursor: string | undefined;
  do {
    const page = await read(cursor);
    pages.push(page);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return pages;
}

const feedIds = (pages: readonly Page[]) =>
  pages.flatMap((page) => page.items.map((item: View) => String(item.eventId)));

const inReceiveOrder = (items: readonly EventItem[]) =>
  [...items]
    .sort((left, right) => left.receivedAt.localeCompare(right.receivedAt))
    .map((item) => item.eventId);

const dynamoDb = startedForTests(startLocalDynamoDb);

describe('sharded day partitions', () => {
  const written = events(700, 'sharded');

  it('spreads a day over every shard, each event on the shard of its id', () => {
    const shards = new Set(written.map((item) => item.gsi2pk));
    expect(shards.size).toBe(2 * DAY_SHARDS);
    for (const item of written) {
      expect(item.gsi2pk).toBe(`FEED#${item.receivedAt.slice(0, 10)}#${dayShardOf(item.eventId)}`);
    }
  });

  it('pages the feed across shards and days in receive order, oldest or newest first', async () => {
    const tableName = await dynamoDb.createTable();
    await putAll(tableName, written);
    const queries = createQueries(dynamoDb.documents, tableName);
    const oldestFirst = await allPages((cursor) =>
      queries.feed({ from: FROM, to: TO }, { limit: 37, ...(cursor && { cursor }) }),
    );
    expect(feedIds(oldestFirst)).toEqual(inReceiveOrder(written));
    expect(oldestFirst.slice(0, -1).every((page) => page.items.length === 37)).toBe(true);
    // One position per shard, compact: the key values after the partition, no attribute names.
    const cursors = oldestFirst.flatMap((page) => page.cursor ?? []);
    expect(Math.max(...cursors.map((cursor) => cursor.length))).toBeLessThan(3000);

    const newestFirst = await allPages((cursor) =>
      queries.feed(
        { from: FROM, to: TO },
        { limit: 41, ...(cursor && { cursor }) },
        { newestFirst: true },
      ),
    );
    expect(feedIds(newestFirst)).toEqual(inReceiveOrder(written).reverse());
  }, 120_000);

  it('pages rejected bodies and unknown events across their shards in time order', async () => {
    const tableName = await dynamoDb.createTable();
    await putAll(tableName, written);
    const queries = createQueries(dynamoDb.documents, tableName);
    const pages = await allPages((cursor) =>
      queries.rejectedAndUnknown({ from: FROM, to: TO }, { limit: 23, ...(cursor && { cursor }) }),
    );
    const expected = written.filter(
      (item) => item.itemType === 'rejected' || item.itemType === 'unknownEvent',
    );
    expect(new Set(expected.map((item) => item.pk.replace(/#\d+$/, ''))).size).toBe(4);
    expect(feedIds(pages)).toEqual(inReceiveOrder(expected));
  }, 120_000);

  it('refuses a cursor that is not one the query returned', async () => {
    const tableName = await dynamoDb.createTable();
    const queries = createQueries(dynamoDb.documents, tableName);
    const forged = Buffer.from(JSON.stringify([[0, 'x']])).toString('base64url');
    await expect(queries.feed({ from: FROM, to: TO }, { cursor: forged })).rejects.toThrow(
      'the cursor is not one this query returned',
    );
  });

  it('finds entries written before sharding until migrated, and after migration step 2 too', async () => {
    const tableName = await dynamoDb.createTable();
    const earlier = events(300, 'earlier');
    const later = events(200, 'later', 1_000);
    await putAll(tableName, [...earlier.map((item) => unsharded({ ...item })), ...later]);
    const queries = createQueries(dynamoDb.documents, tableName);
    const everything = inReceiveOrder([...earlier, ...later]);
    const read = () =>
      allPages((cursor) =>
        queries.feed({ from: FROM, to: TO }, { limit: 50, ...(cursor && { cursor }) }),
      );
    expect(feedIds(await read())).toEqual(everything);
    const odd = [...earlier, ...later].filter(
      (item) => item.itemType === 'rejected' || item.itemType === 'unknownEvent',
    );
    const oddPages = await allPages((cursor) =>
      queries.rejectedAndUnknown({ from: FROM, to: TO }, { limit: 50, ...(cursor && { cursor }) }),
    );
    expect(feedIds(oddPages)).toEqual(inReceiveOrder(odd));

    const result = await migrateTable(dynamoDb.documents, tableName);
    expect(result.to).toBe(2);
    expect(result.steps.find((step) => step.version === 2)?.rewritten).toBe(earlier.length);
    const migrated = createQueries(dynamoDb.documents, tableName);
    const after = await allPages((cursor) =>
      migrated.feed({ from: FROM, to: TO }, { limit: 50, ...(cursor && { cursor }) }),
    );
    expect(feedIds(after)).toEqual(everything);
  }, 120_000);
});
