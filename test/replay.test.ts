/**
 * `npm run replay`: stored events of a range re-published from the feed index, and rejected
 * bodies sent back through today's interpretation, against dynalite and the local bus.
 */
import { execFile } from 'node:child_process';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createWorkerHandler } from '../functions/worker/handler.ts';
import { NO_ARCHIVE } from '../scripts/local/no-archive.ts';
import { SEED_EVENTS, SEED_EXPORT_DELIVERY } from '../scripts/local/seed-events.ts';
import { DETAIL_TYPES } from '../shared/bus/bus-events.ts';
import type { ExportRequest } from '../shared/export/export-trigger.ts';
import { replayEvents, replayRejected } from '../shared/replay/replay.ts';
import { eventIdOf } from '../shared/webhook/signature.ts';
import { type LocalDynamoDb, startLocalDynamoDb } from './support/local-aws.ts';
import { startTestEventBus, type TestEventBus } from './support/local-events.ts';
import {
  quietLogger,
  rawSqsRecord,
  rejectedEarlier,
  sqsEvent,
  sqsRecord,
  tableContents,
  workerOnFreshTable,
} from './support/webhook-records.ts';

let dynamoDb: LocalDynamoDb;
let events: TestEventBus;
let tableName: string;
/** eventId → receive time of every event the worker stored. */
const stored = new Map<string, { receivedAt: string; type: string; projectId?: string }>();

const DAY_1 = '2024-03-01T23:00:00.000Z';
const DAY_2 = '2024-03-02T12:00:00.000Z';
const DAY_3 = '2024-03-03T01:00:00.000Z';

beforeAll(async () => {
  [dynamoDb, events] = await Promise.all([startLocalDynamoDb(), startTestEventBus()]);
  const worker = await workerOnFreshTable(dynamoDb);
  tableName = worker.tableName;
  const deliveries = [
    {
      body: SEED_EVENTS.PROJECT_CREATED,
      receivedAt: DAY_1,
      type: 'Project Created',
      projectId: 'N2E4MjNlYTc',
    },
    {
      body: SEED_EVENTS.PROJECT_COMPLETED,
      receivedAt: DAY_2,
      type: 'Project Completed',
      projectId: 'ZTYzZjRhYjE',
    },
    { body: SEED_EVENTS.BEFORE_UPDATE_LABELS, receivedAt: DAY_2, type: 'Labels Updated' },
    {
      body: SEED_EVENTS.PROJECT_REVIEWED,
      receivedAt: DAY_3,
      type: 'Project Reviewed',
      projectId: 'ZTYzZjRhYjE',
    },
    { body: { eventType: 'NEW_TYPE', data: {} }, receivedAt: DAY_2, type: 'unknown' },
    { body: { eventType: 'PROJECT_CREATED', data: {} }, receivedAt: DAY_2, type: 'Event Rejected' },
  ];
  await worker.handler(
    sqsEvent(
      deliveries.map(({ body, receivedAt }) =>
        sqsRecord({ body: JSON.stringify(body), receivedAt }),
      ),
    ),
  );
  await worker.handler(
    sqsEvent([
      sqsRecord({ body: JSON.stringify(SEED_EXPORT_DELIVERY), method: 'PUT', receivedAt: DAY_2 }),
    ]),
  );
  for (const { body, receivedAt, type, projectId } of [
    ...deliveries,
    {
      body: SEED_EXPORT_DELIVERY,
      receivedAt: DAY_2,
      type: 'Export Delivered',
      projectId: 'ZTYzZjRhYjE',
    },
  ]) {
    stored.set(eventIdOf(Buffer.from(JSON.stringify(body))), {
      receivedAt,
      type,
      ...(projectId === undefined ? {} : { projectId }),
    });
  }
});
afterAll(async () => {
  await Promise.all([dynamoDb.close(), events.close()]);
});
beforeEach(() => events.clear());

const context = () => ({
  documents: dynamoDb.documents,
  tableName,
  publisher: events.publisher(),
  bodies: NO_ARCHIVE,
});
const everyType = DETAIL_TYPES.filter((type) => type !== 'Export Archived');

describe('replay events', () => {
  it('re-publishes exactly the stored events of the range, across day partitions', async () => {
    const range = { from: '2024-03-01T22:00:00.000Z', to: DAY_3 };
    const result = await replayEvents(context(), { ...range, types: everyType });
    const expected = [...stored]
      .filter(([, event]) => event.receivedAt >= range.from && event.receivedAt < range.to)
      .filter(([, event]) => event.type !== 'unknown')
      .map(([eventId]) => eventId)
      .sort();
    const published = events.events();
    expect(published.map((event) => event.detail.eventId).sort()).toEqual(expected);
    expect(result).toMatchObject({ read: 6, matched: 5, published: 5, failed: 0 });
    expect(result.byType).toEqual({
      'Project Created': 1,
      'Project Completed': 1,
      'Labels Updated': 1,
      'Export Delivered': 1,
      'Event Rejected': 1,
    });
    // The same details the worker publishes: the stored item's key included.
    const created = published.find((event) => event['detail-type'] === 'Project Created');
    expect(created?.detail).toMatchObject({ projectId: 'N2E4MjNlYTc', receivedAt: DAY_1 });
  });

  it('selects by detail-type and project, and a dry run publishes nothing', async () => {
    const range = { from: DAY_1, to: '2024-03-04T00:00:00.000Z' };
    const dry = await replayEvents(
      { ...context(), dryRun: true },
      { ...range, types: ['Project Completed', 'Project Reviewed'], projectId: 'ZTYzZjRhYjE' },
    );
    expect(dry).toMatchObject({ read: 7, matched: 2, published: 0 });
    expect(events.events()).toEqual([]);
    await replayEvents(context(), {
      ...range,
      types: ['Project Reviewed'],
      projectId: 'ZTYzZjRhYjE',
    });
    expect(events.events().map((event) => event['detail-type'])).toEqual(['Project Reviewed']);
  });
});

describe('replay rejected', () => {
  it('stores the bodies that parse now, once, publishes them, and leaves the rest rejected', async () => {
    // A body an older, stricter worker rejected: today's schema takes it.
    const body = JSON.stringify({
      ...SEED_EVENTS.PROJECT_CREATED,
      data: { ...SEED_EVENTS.PROJECT_CREATED.data, project: { id: 'LOOSENED' } },
    });
    const rawBody = Buffer.from(body);
    const receivedAt = '2024-03-02T13:00:00.000Z';
    await dynamoDb.documents.send(
      new PutCommand({
        TableName: tableName,
        Item: rejectedEarlier(rawBody, receivedAt, {
          reason: 'data.project.name: expected string',
        }),
      }),
    );
    const range = { from: DAY_2, to: DAY_3 };
    const dry = await replayRejected(
      { ...context(), dryRun: true, publishLabelEvents: false },
      range,
    );
    expect(dry).toEqual({
      read: 2,
      unsigned: 0,
      recovered: 1,
      stillRejected: 1,
      published: 0,
      failed: 0,
    });

    const result = await replayRejected({ ...context(), publishLabelEvents: false }, range);
    expect(result).toEqual({
      read: 2,
      unsigned: 0,
      recovered: 1,
      stillRejected: 1,
      published: 1,
      failed: 0,
    });
    const published = events.events();
    expect(published.map((event) => [event['detail-type'], event.detail.projectId])).toEqual([
      ['Project Created', 'LOOSENED'],
    ]);
    const afterFirst = await tableContents(dynamoDb.documents, tableName);
    const kept = afterFirst.filter((item) => item.itemType === 'rejected');
    expect(kept).toHaveLength(1);
    expect(
      afterFirst
        .filter((item) => item.pk === 'PROJECT#LOOSENED')
        .map((item) => item.itemType)
        .sort(),
    ).toEqual(['project', 'projectEvent']);

    const again = await replayRejected({ ...context(), publishLabelEvents: false }, range);
    expect(again).toEqual({
      read: 1,
      unsigned: 0,
      recovered: 0,
      stillRejected: 1,
      published: 0,
      failed: 0,
    });
    expect(await tableContents(dynamoDb.documents, tableName)).toEqual(afterFirst);
  });

  it('files a recovered label event as the worker does: its document recorded for the enrichment', async () => {
    const labelTable = await dynamoDb.createTable();
    const rawBody = Buffer.from(JSON.stringify(SEED_EVENTS.BEFORE_UPDATE_LABELS));
    const reason = 'data.labelUpdateList: an older, stricter schema';
    await dynamoDb.documents.send(
      new PutCommand({
        TableName: labelTable,
        Item: rejectedEarlier(rawBody, '2024-03-02T14:00:00.000Z', { reason }),
      }),
    );
    const result = await replayRejected(
      { ...context(), tableName: labelTable, publishLabelEvents: false },
      { from: DAY_2, to: DAY_3 },
    );
    expect(result).toMatchObject({ recovered: 1, stillRejected: 0 });
    const items = await tableContents(dynamoDb.documents, labelTable);
    expect(items.filter((item) => item.itemType === 'documentProject')).toEqual([
      expect.objectContaining({ documentId: SEED_EVENTS.BEFORE_UPDATE_LABELS.data.document.id }),
    ]);
  });

  it('replays only bodies that arrived signed, and a recovered export delivery requests its export', async () => {
    const day = '2024-03-05T10:00:00.000Z';
    // A queue message no ingest wrote (never signature-checked) carrying a valid event body.
    const unsigned = JSON.stringify({
      ...SEED_EVENTS.PROJECT_CREATED,
      data: { ...SEED_EVENTS.PROJECT_CREATED.data, project: { id: 'FORGED' } },
    });
    const worker = createWorkerHandler({
      documents: dynamoDb.documents,
      tableName,
      bodies: NO_ARCHIVE,
      logger: quietLogger(),
    });
    await worker(sqsEvent([rawSqsRecord(unsigned, Date.parse(day))]));
    // A signed PUT an older worker rejected: today it parses as an export delivery.
    const delivery = Buffer.from(
      JSON.stringify({ ...SEED_EXPORT_DELIVERY, projectId: 'PUSHED-P' }),
    );
    await dynamoDb.documents.send(
      new PutCommand({
        TableName: tableName,
        Item: rejectedEarlier(delivery, '2024-03-05T11:00:00.000Z', {
          method: 'PUT',
          reason: 'an older rule',
        }),
      }),
    );
    const items = await tableContents(dynamoDb.documents, tableName);
    // One rejected item per event, each on its event's shard of the day: in receive order.
    const rejectedOfTheDay = (stored: typeof items) =>
      stored
        .filter((item) => String(item.pk).startsWith('REJECTED#2024-03-05#'))
        .sort((left, right) => String(left.sk).localeCompare(String(right.sk)));
    expect(rejectedOfTheDay(items)).toEqual([
      expect.objectContaining({ provenance: 'queue' }),
      expect.objectContaining({ provenance: 'webhook', method: 'PUT' }),
    ]);

    const requested: ExportRequest[] = [];
    const result = await replayRejected(
      {
        ...context(),
        publishLabelEvents: false,
        exports: {
          exportOn: 'REVIEWED',
          queue: { send: async (request) => void requested.push(request) },
        },
      },
      { from: '2024-03-05T00:00:00.000Z', to: '2024-03-06T00:00:00.000Z' },
    );
    expect(result).toMatchObject({ read: 2, unsigned: 1, recovered: 1, stillRejected: 0 });
    expect(requested).toEqual([
      {
        kind: 'delivery',
        projectId: 'PUSHED-P',
        fileUrl: SEED_EXPORT_DELIVERY.fileUrl,
        receivedAt: '2024-03-05T11:00:00.000Z',
        eventId: expect.stringMatching(/^[0-9a-f]{64}$/),
      },
    ]);
    const after = await tableContents(dynamoDb.documents, tableName);
    expect(after.some((item) => item.pk === 'PROJECT#FORGED')).toBe(false);
    expect(rejectedOfTheDay(after)).toEqual([expect.objectContaining({ provenance: 'queue' })]);
  });
});

describe('npm run replay', () => {
  const replay = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'scripts/replay.ts', ...args],
        { env: { ...process.env, DYNAMODB_ENDPOINT: '' }, timeout: 45_000 },
        (error, stdout, stderr) => {
          const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
          resolve({ code, stdout, stderr });
        },
      );
    });

  it('replays a range and prints the counts as JSON', async () => {
    const run = await replay([
      'events',
      '--from',
      DAY_3,
      '--to',
      '2024-03-04T00:00:00Z',
      '--json',
      '--endpoint',
      dynamoDb.server.endpoint,
      '--table',
      tableName,
      '--events-endpoint',
      events.bus.endpoint,
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ read: 1, matched: 1, published: 1, failed: 0 });
    expect(events.events().map((event) => event['detail-type'])).toEqual(['Project Reviewed']);
  });

  it('prints what it expected and exits 2 on a bad argument', async () => {
    const run = await replay(['events', '--from', 'yesterday', '--to', DAY_3]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('from must be an ISO-8601 time');
    expect(run.stderr).toContain('Usage: npm run replay');
    expect(run.stderr).not.toContain('    at ');
  });
});
