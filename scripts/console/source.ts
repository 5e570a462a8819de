/**
 * Where the console reads from. The pages see only `ConsoleSource`; `localSource` is the
 * stack `npm start` runs (found as every CLI finds it: `readLocalTarget`). A deployed stack
 * is another implementation of the same interface, built from its resolved clients.
 */
import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { createHourlyCounts, type HourlyCounts } from '../../shared/store/hourly-counts.ts';
import {
  dayOf,
  dayShardOf,
  eventIdInSortKey,
  feedPartition,
  receiptKey,
} from '../../shared/store/keys.ts';
import { createQueries, type Queries, toView, type View } from '../../shared/store/queries.ts';
import { TABLE } from '../../shared/store/table.ts';
import { s3BodyReader } from '../../shared/webhook/body-archive.ts';
import type { BodyObject } from '../../shared/webhook/claim-check.ts';
import { type LocalTarget, readLocalTarget } from '../local/config.ts';
import { deadLetterQueueName, EVENTS_FILE_NAME } from '../local/defaults.ts';
import { LOCAL_CLIENT_CONFIG, localS3 } from '../local/servers.ts';
import { exportQueueName } from '../local/stack.ts';

export interface QueueDepth {
  readonly name: string;
  /** Messages waiting, or why the depth could not be read. */
  readonly depth: number | { readonly unavailable: string };
}

/** One event as the bus received it (only a source that can see the bus knows). */
export interface Publication {
  readonly detailType: string;
  readonly time: string;
}

export interface ConsoleSource {
  /** What the console reads, for the page footer: e.g. the local stack's endpoint and table. */
  readonly description: string;
  readonly queries: Queries;
  readonly hourlyCounts: HourlyCounts;
  deadLetterQueues(): Promise<QueueDepth[]>;
  /**
   * One event item by its id. `receivedAt` (from a feed link) finds it with one key lookup in
   * the feed index; without it the search is bounded (see `findEvent`).
   */
  event(eventId: string, receivedAt?: string): Promise<View | undefined>;
  /** The raw body of a claim-checked event, as its sender signed it. */
  archivedBody(bodyObject: BodyObject): Promise<Buffer>;
  /** What the bus received for this event; undefined when this source cannot see the bus. */
  publications(eventId: string): Promise<Publication[] | undefined>;
  close(): void;
}

/** How many feed entries a search by event id alone reads before it gives up. */
export const EVENT_SEARCH_LIMIT = 5_000;

/** The local stack at `target` (`readLocalTarget()`: as npm start and every CLI find it). */
export function localSource(target: LocalTarget = readLocalTarget()): ConsoleSource {
  const client = new DynamoDBClient({
    ...LOCAL_CLIENT_CONFIG,
    endpoint: target.dynamoDbEndpoint(),
    maxAttempts: 2,
  });
  const documents = DynamoDBDocumentClient.from(client);
  const { tableName } = target.config;
  const s3 = localS3(target.s3Endpoint(), { maxAttempts: 2 });
  const bodies = s3BodyReader(s3);
  const sqs = new SQSClient({
    ...LOCAL_CLIENT_CONFIG,
    endpoint: target.sqsEndpoint(),
    maxAttempts: 1,
  });
  const queueNames = [
    target.deadLetterQueueName,
    deadLetterQueueName(exportQueueName(target.config.queueName)),
  ];
  const eventsFile = join(target.config.dataDir, EVENTS_FILE_NAME);
  return {
    description: `local stack: table ${tableName} at ${target.dynamoDbEndpoint()}`,
    queries: createQueries(documents, tableName, { bodies }),
    hourlyCounts: createHourlyCounts(documents, tableName),
    deadLetterQueues: () => Promise.all(queueNames.map((name) => queueDepth(sqs, name))),
    event: (eventId, receivedAt) => findEvent(documents, tableName, eventId, receivedAt),
    archivedBody: (bodyObject) => bodies.get(bodyObject),
    publications: (eventId) => publishedInFile(eventsFile, eventId),
    close: () => {
      client.destroy();
      s3.destroy();
      sqs.destroy();
    },
  };
}

async function queueDepth(sqs: SQSClient, name: string): Promise<QueueDepth> {
  try {
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl,
        AttributeNames: ['ApproximateNumberOfMessages'],
      }),
    );
    return { name, depth: Number(Attributes?.ApproximateNumberOfMessages ?? 0) };
  } catch (error) {
    const reason = error instanceof Error ? error.name : String(error);
    return {
      name,
      depth: {
        unavailable:
          reason === 'QueueDoesNotExist' || reason === 'AWS.SimpleQueueService.NonExistentQueue'
            ? 'no such queue (the exporter is off)'
            : `cannot reach SQS (${reason})`,
      },
    };
  }
}

/**
 * The one place an event is looked up by id. Today: the feed entry at its receive time (one
 * key condition), found from a feed link or from the event's first-receipt item; without
 * either, the newest `EVENT_SEARCH_LIMIT` feed entries. A key lookup by event id replaces the
 * search once the table has one.
 */
export async function findEvent(
  documents: DynamoDBDocumentClient,
  tableName: string,
  eventId: string,
  receivedAt?: string,
): Promise<View | undefined> {
  const at = receivedAt ?? (await firstReceipt(documents, tableName, eventId));
  const key =
    at === undefined
      ? await searchFeed(documents, tableName, eventId)
      : await feedEntryAt(documents, tableName, eventId, at);
  if (key === undefined) return undefined;
  const { Item } = await documents.send(new GetCommand({ TableName: tableName, Key: key }));
  return Item === undefined ? undefined : toView(Item);
}

async function firstReceipt(
  documents: DynamoDBDocumentClient,
  tableName: string,
  eventId: string,
): Promise<string | undefined> {
  const { Item } = await documents.send(
    new GetCommand({ TableName: tableName, Key: receiptKey(eventId) }),
  );
  return typeof Item?.receivedAt === 'string' ? Item.receivedAt : undefined;
}

type TableKeyOf = { pk: string; sk: string };

async function feedEntryAt(
  documents: DynamoDBDocumentClient,
  tableName: string,
  eventId: string,
  receivedAt: string,
): Promise<TableKeyOf | undefined> {
  if (Number.isNaN(Date.parse(receivedAt))) return undefined;
  const { feed } = TABLE.indexes;
  // The event's own shard, and the unsharded day of a table not yet migrated to version 2.
  const found = await Promise.all(
    feedPartitionsOf(dayOf(receivedAt), eventId).map(async (partition) => {
      const { Items = [] } = await documents.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: feed.indexName,
          KeyConditionExpression: 'gsi2pk = :day AND gsi2sk BETWEEN :at AND :end',
          ExpressionAttributeValues: {
            ':day': partition,
            ':at': receivedAt,
            ':end': `${receivedAt}~`,
          },
        }),
      );
      return Items.find((item) => eventIdInSortKey(String(item.sk)) === eventId);
    }),
  );
  const entry = found.find((item) => item !== undefined);
  return entry === undefined ? undefined : { pk: String(entry.pk), sk: String(entry.sk) };
}

/** The feed partitions an event can be in on a day: its shard, then the unsharded day. */
function feedPartitionsOf(day: string, eventId: string): string[] {
  return [feedPartition(day, dayShardOf(eventId)), feedPartition(day)];
}

async function searchFeed(
  documents: DynamoDBDocumentClient,
  tableName: string,
  eventId: string,
): Promise<TableKeyOf | undefined> {
  const { feed } = TABLE.indexes;
  const today = new Date();
  const yesterday = new Date(today.getTime() - 24 * 3_600_000);
  let read = 0;
  const partitions = [today, yesterday].flatMap((time) =>
    feedPartitionsOf(dayOf(time.toISOString()), eventId),
  );
  for (const partition of partitions) {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await documents.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: feed.indexName,
          KeyConditionExpression: 'gsi2pk = :day',
          FilterExpression: 'contains(sk, :eventId)',
          ExpressionAttributeValues: { ':day': partition, ':eventId': eventId },
          ScanIndexForward: false,
          Limit: Math.min(1_000, EVENT_SEARCH_LIMIT - read),
          ExclusiveStartKey: startKey,
        }),
      );
      read += page.ScannedCount ?? 0;
      const entry = page.Items?.find((item) => eventIdInSortKey(String(item.sk)) === eventId);
      if (entry !== undefined) return { pk: String(entry.pk), sk: String(entry.sk) };
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined && read < EVENT_SEARCH_LIMIT);
    if (read >= EVENT_SEARCH_LIMIT) return undefined;
  }
  return undefined;
}

/** The local bus appends every event it receives to a file: the lines naming this event. */
async function publishedInFile(path: string, eventId: string): Promise<Publication[]> {
  if (!existsSync(path)) return [];
  const found: Publication[] = [];
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.includes(eventId)) continue;
    const event = JSON.parse(line) as {
      'detail-type'?: string;
      time?: string;
      detail?: { eventId?: string };
    };
    if (event.detail?.eventId !== eventId) continue;
    found.push({ detailType: String(event['detail-type']), time: String(event.time) });
  }
  return found;
}
