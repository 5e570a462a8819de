import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_ARCHIVE } from '../scripts/local/no-archive.ts';
import { SEED_EVENTS, SEED_EXPORT_DELIVERY } from '../scripts/local/seed-events.ts';
import type { BusPublisher } from '../shared/bus/bus-publisher.ts';
import { replayRejected } from '../shared/replay/replay.ts';
import { countedProjectKeys, projectKey, projectLabelCountsKey } from '../shared/store/keys.ts';
import {
  createQueries,
  InvalidQueryError,
  type Page,
  type PageRequest,
  type Queries,
} from '../shared/store/queries.ts';
import { eventIdOf } from '../shared/webhook/signature.ts';
import { type LocalDynamoDb, startLocalDynamoDb } from './support/local-aws.ts';
import {
  type Delivery,
  rejectedEarlier,
  sqsEvent,
  sqsRecord,
  workerOnFreshTable,
} from './support/webhook-records.ts';

const post = (event: unknown, receivedAt: string): Delivery => ({
  body: JSON.stringify(event),
  receivedAt,
});
const { data: labelData } = SEED_EVENTS.BEFORE_UPDATE_LABELS;
const documentId = labelData.document.id;

/** The four seed events and variants, received over two days (2024-03-01 and 02). */
const DELIVERIES: Delivery[] = [
  post(SEED_EVENTS.PROJECT_CREATED, '2024-03-01T10:00:00.000Z'),
  post(SEED_EVENTS.BEFORE_UPDATE_LABELS, '2024-03-01T10:01:00.000Z'),
  post(SEED_EVENTS.PROJECT_COMPLETED, '2024-03-01T10:02:00.000Z'),
  post(SEED_EVENTS.PROJECT_REVIEWED, '2024-03-01T10:03:00.000Z'),
  {
    body: JSON.stringify(SEED_EXPORT_DELIVERY),
    method: 'PUT',
    receivedAt: '2024-03-01T23:30:00.000Z',
  },
  post(
    {
      eventType: 'PROJECT_CREATED',
      data: {
        timestamp: '2023-11-17T09:40:00.000Z',
        project: { id: 'ZTYzZjRhYjE', name: 'hamlet.TXT', tags: ['CUSTOM'] },
        team: { id: '1', name: "User's Team Workspace" },
      },
    },
    '2024-03-02T00:10:00.000Z',
  ),
  // A second label event on the same document, earlier in Datasaur's time but received later.
  post(
    {
      ...SEED_EVENTS.BEFORE_UPDATE_LABELS,
      data: {
        ...labelData,
        timestamp: '2023-11-17T09:45:00.000Z',
        labelUpdateList: { toDeleteList: labelData.labelUpdateList.toUpsertList, toUpsertList: [] },
      },
    },
    '2024-03-02T00:20:00.000Z',
  ),
  post(
    {
      ...SEED_EVENTS.PROJECT_COMPLETED,
      data: {
        ...SEED_EVENTS.PROJECT_COMPLETED.data,
        timestamp: '2023-10-01T08:00:00.000Z',
        project: { id: 'old' },
      },
    },
    '2024-03-02T00:30:00.000Z',
  ),
  post(
    {
      ...SEED_EVENTS.PROJECT_CREATED,
      data: {
        ...SEED_EVENTS.PROJECT_CREATED.data,
        team: { id: '2' },
        project: { id: 'other-team' },
      },
    },
    '2024-03-02T00:40:00.000Z',
  ),
  post(
    { eventType: 'PROJECT_ARCHIVED', data: { timestamp: '2024-03-01T20:00:00.000Z' } },
    '2024-03-02T01:00:00.000Z',
  ),
  { body: 'not json', receivedAt: '2024-03-01T21:00:00.000Z' },
  { body: '{"eventType":"PROJECT_CREATED"}', receivedAt: '2024-03-02T02:00:00.000Z' },
];

let dynamoDb: LocalDynamoDb;
let queries: Queries;
beforeAll(async () => {
  dynamoDb = await startLocalDynamoDb();
  const { tableName, handler } = await workerOnFreshTable(dynamoDb);
  const response = await handler(sqsEvent(DELIVERIES.map(sqsRecord)));
  expect(response.batchItemFailures).toEqual([]);
  queries = createQueries(dynamoDb.documents, tableName);
});
afterAll(async () => {
  await dynamoDb.close();
});

/** Every page, following the cursor, with `limit` items per page. */
async function allPages(read: (page: PageRequest) => Promise<Page>, limit: number) {
  const items: Page['items'] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await read({ limit, cursor });
    expect(page.items.length).toBeLessThanOrEqual(limit);
    items.push(...page.items);
    cursor = page.cursor;
    pages += 1;
  } while (cursor !== undefined && pages < 100);
  return items;
}

describe('queries', () => {
  it('1. reads a project by id, without its keys', async () => {
    const project = await queries.project('ZTYzZjRhYjE');
    expect(project).toMatchObject({
      projectId: 'ZTYzZjRhYjE',
      name: 'hamlet.TXT',
      teamId: '1',
      teamName: "User's Team Workspace",
      status: 'REVIEWED',
      createdAt: '2023-11-17T09:40:00.000Z',
      completedBy: { email: 'user+1@datasaur.ai' },
      reviewedAt: '2023-11-17T09:53:23.514Z',
      lastExport: { userId: '1' },
    });
    expect(project).not.toHaveProperty('pk');
    expect(project).not.toHaveProperty('gsi1sk');
    // Not counted by the enrichment (no credentials in this table's run).
    expect(project).not.toHaveProperty('labels');
    expect(await queries.project('missing')).toBeUndefined();
  });

  it("1. gives a project's label counters once the enrichment has counted them", async () => {
    const { tableName } = await workerOnFreshTable(dynamoDb);
    const project = {
      ...projectKey('P9'),
      itemType: 'project',
      projectId: 'P9',
      lastEventAt: '2026-01-05T09:00:00.000Z',
      eventCount: 1,
    };
    const labelCounts = {
      ...projectLabelCountsKey('P9'),
      itemType: 'projectLabelCounts',
      projectId: 'P9',
      documentCount: 2,
      labelEventCount: 7,
      countedAt: '2026-01-05T10:00:00.000Z',
      newestLabel: 'EVENT#2026-01-05T09:59:00.000Z#ab',
      ...countedProjectKeys('P9'),
    };
    for (const Item of [project, labelCounts]) {
      await dynamoDb.documents.send(new PutCommand({ TableName: tableName, Item }));
    }
    const view = await createQueries(dynamoDb.documents, tableName).project('P9');
    expect(view).toMatchObject({ projectId: 'P9', eventCount: 1 });
    expect(view?.labels).toEqual({
      documentCount: 2,
      labelEventCount: 7,
      countedAt: '2026-01-05T10:00:00.000Z',
    });
  });

  it("2. lists a team's projects newest status first, by status and since a time, across pages", async () => {
    const ids = (page: Page) => page.items.map((item) => item.projectId);
    expect(ids(await queries.teamProjects({ teamId: '1' }))).toEqual([
      'ZTYzZjRhYjE',
      'N2E4MjNlYTc',
      'old',
    ]);
    expect(ids(await queries.teamProjects({ teamId: '1', status: 'COMPLETED' }))).toEqual(['old']);
    expect(ids(await queries.teamProjects({ teamId: '1', since: '2023-11-01T00:00:00Z' }))).toEqual(
      ['ZTYzZjRhYjE', 'N2E4MjNlYTc'],
    );
    expect(ids(await queries.teamProjects({ teamId: '2' }))).toEqual(['other-team']);
    const paged = await allPages((page) => queries.teamProjects({ teamId: '1' }, page), 1);
    expect(paged.map((item) => item.projectId)).toEqual(['ZTYzZjRhYjE', 'N2E4MjNlYTc', 'old']);
  });

  it("2. pages through a team's projects whose status changed at the same instant, skipping none", async () => {
    const { tableName, handler } = await workerOnFreshTable(dynamoDb);
    const sameInstant = ['a', 'b', 'c', 'd', 'e'].map((id, index) =>
      post(
        {
          eventType: index % 2 === 0 ? 'PROJECT_CREATED' : 'PROJECT_COMPLETED',
          data: { timestamp: '2024-05-01T10:00:00.000Z', project: { id }, team: { id: 'tie' } },
        },
        '2024-05-01T10:00:01.000Z',
      ),
    );
    expect((await handler(sqsEvent(sameInstant.map(sqsRecord)))).batchItemFailures).toEqual([]);
    const tied = createQueries(dynamoDb.documents, tableName);
    const everything = (await tied.teamProjects({ teamId: 'tie' })).items.map((i) => i.projectId);
    expect([...everything].sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    for (const limit of [1, 2, 3]) {
      const paged = await allPages((page) => tied.teamProjects({ teamId: 'tie' }, page), limit);
      expect(paged.map((item) => item.projectId)).toEqual(everything);
    }
  });

  it("3. reads a project's history in time order, export deliveries included", async () => {
    const history = await allPages((page) => queries.projectHistory('ZTYzZjRhYjE', page), 2);
    expect(history.map((item) => item.eventType)).toEqual([
      'PROJECT_CREATED',
      'PROJECT_COMPLETED',
      'PROJECT_REVIEWED',
      'EXPORT_DELIVERY',
    ]);
    // This worker exports nothing, so the delivery is stored without its pre-signed link.
    const { fileUrl: _link, ...delivered } = SEED_EXPORT_DELIVERY;
    expect(history[3]).toMatchObject({
      receivedAt: '2024-03-01T23:30:00.000Z',
      data: { ...delivered, userId: '1' },
      fileUrlRemovedBecause: 'EXPORTS_OFF',
    });
    expect(history[0]?.eventId).toMatch(/^[0-9a-f]{64}$/);
  });

  it("4. reads a document's label history in time order", async () => {
    const labels = await allPages((page) => queries.documentLabels(documentId, page), 1);
    expect(labels.map((item) => (item.data as { timestamp: string }).timestamp)).toEqual([
      '2023-11-17T09:45:00.000Z',
      labelData.timestamp,
    ]);
    expect(labels[0]).toMatchObject({
      data: { labelUpdateList: { toUpsertList: [], toDeleteList: [{ labelSetItemId: 'geo' }] } },
    });
  });

  it('5. reads the feed between two instants in receive order, across day partitions', async () => {
    const range = { from: '2024-03-01T10:01:00.000Z', to: '2024-03-02T01:00:00.000Z' };
    const whole = await queries.feed(range);
    expect(whole.items.map((item) => item.receivedAt)).toEqual([
      '2024-03-01T10:01:00.000Z',
      '2024-03-01T10:02:00.000Z',
      '2024-03-01T10:03:00.000Z',
      '2024-03-01T21:00:00.000Z',
      '2024-03-01T23:30:00.000Z',
      '2024-03-02T00:10:00.000Z',
      '2024-03-02T00:20:00.000Z',
      '2024-03-02T00:30:00.000Z',
      '2024-03-02T00:40:00.000Z',
    ]);
    expect(whole.items[0]).toEqual({
      eventId: expect.stringMatching(/^[0-9a-f]{64}$/),
      receivedAt: '2024-03-01T10:01:00.000Z',
      itemType: 'labelEvent',
      eventType: 'BEFORE_UPDATE_LABELS',
      // Not in the feed entry: read from the sort key, as the event id is.
      eventTime: '2023-11-17T09:49:54.108Z',
      documentId,
      teamId: '1',
    });
    expect(await allPages((page) => queries.feed(range, page), 2)).toEqual(whole.items);
  });

  it("4 and 5. read a document's labels and the feed newest first too, paging across day partitions", async () => {
    const labels = await allPages((page) => queries.documentLabels(documentId, page), 1);
    const newestLabels = await allPages(
      (page) => queries.documentLabels(documentId, page, { newestFirst: true }),
      1,
    );
    expect(newestLabels).toEqual([...labels].reverse());
    const range = { from: '2024-03-01T10:01:00.000Z', to: '2024-03-02T01:00:00.000Z' };
    const oldestFirst = (await queries.feed(range)).items;
    const newestFirst = await allPages(
      (page) => queries.feed(range, page, { newestFirst: true }),
      2,
    );
    expect(newestFirst).toEqual([...oldestFirst].reverse());
  });

  it('6. lists rejected bodies and unknown event types in time order', async () => {
    const range = { from: '2024-03-01T00:00:00.000Z', to: '2024-03-03T00:00:00.000Z' };
    const audit = await allPages((page) => queries.rejectedAndUnknown(range, page), 1);
    expect(audit.map((item) => [item.itemType, item.reason ?? item.eventType])).toEqual([
      ['unknownEvent', 'PROJECT_ARCHIVED'],
      ['rejected', 'body is not JSON'],
      ['rejected', expect.stringContaining('PROJECT_CREATED does not match its schema: data')],
    ]);
  });

  it('9. finds every item of an event id, the stored event first, after a replay that could not publish', async () => {
    const { tableName } = await workerOnFreshTable(dynamoDb);
    const rawBody = Buffer.from(
      JSON.stringify({
        ...SEED_EVENTS.PROJECT_CREATED,
        data: { ...SEED_EVENTS.PROJECT_CREATED.data, project: { id: 'HALF-REPLAYED' } },
      }),
    );
    const eventId = eventIdOf(rawBody);
    const receivedAt = '2024-04-01T10:00:00.000Z';
    // A signed body an older worker rejected, which parses now.
    await dynamoDb.documents.send(
      new PutCommand({
        TableName: tableName,
        Item: rejectedEarlier(rawBody, receivedAt),
      }),
    );
    const busDown: BusPublisher = {
      target: { eventBusName: 'default', source: 'datasaur.webhooks' },
      publish: async (publications) => ({
        published: [],
        failed: publications.map(({ id }) => ({ id, error: 'InternalFailure' })),
        calls: 1,
      }),
    };
    const replayed = await replayRejected(
      {
        documents: dynamoDb.documents,
        tableName,
        publisher: busDown,
        bodies: NO_ARCHIVE,
        publishLabelEvents: false,
      },
      { from: receivedAt, to: '2024-04-01T10:00:00.001Z', eventId },
    );
    expect(replayed).toMatchObject({ recovered: 1, failed: 1 });

    const halfReplayed = createQueries(dynamoDb.documents, tableName);
    const items = await halfReplayed.eventItems(eventId);
    expect(items.map((item) => [item.itemType, item.receivedAt])).toEqual([
      ['projectEvent', receivedAt],
      ['rejected', receivedAt],
    ]);
    expect(await halfReplayed.event(eventId)).toMatchObject({
      itemType: 'projectEvent',
      projectId: 'HALF-REPLAYED',
    });
    expect(await halfReplayed.eventItems('0'.repeat(64))).toEqual([]);
  });

  it('refuses a cursor from another query and a malformed range', async () => {
    const page = await queries.projectHistory('ZTYzZjRhYjE', { limit: 1 });
    await expect(queries.teamProjects({ teamId: '1' }, { cursor: page.cursor })).rejects.toThrow(
      InvalidQueryError,
    );
    await expect(queries.projectHistory('x', { cursor: 'garbage' })).rejects.toThrow(
      InvalidQueryError,
    );
    await expect(queries.feed({ from: 'yesterday', to: '2024-03-01T00:00:00Z' })).rejects.toThrow(
      InvalidQueryError,
    );
    await expect(
      queries.feed({ from: '2020-01-01T00:00:00Z', to: '2024-03-01T00:00:00Z' }),
    ).rejects.toThrow(/at most 366 days/);
  });
});
