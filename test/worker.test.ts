import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { GetCommand, type PutCommandInput } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { createWorkerHandler } from '../functions/worker/handler.ts';
import { NO_ARCHIVE } from '../scripts/local/no-archive.ts';
import { SEED_EVENTS, SEED_EXPORT_DELIVERY } from '../scripts/local/seed-events.ts';
import { LOCAL_CLIENT_CONFIG } from '../scripts/local/servers.ts';
import { busEventOf, DETAIL_SCHEMAS } from '../shared/bus/bus-events.ts';
import { type EventItem, restoredItem } from '../shared/store/items.ts';
import {
  dayShardOf,
  feedPartition,
  projectKey,
  rejectedKey,
  unknownPartition,
} from '../shared/store/keys.ts';
import { lightTableDocuments } from '../shared/store/light-table-documents.ts';
import type { TableDocuments } from '../shared/store/table-documents.ts';
import { itemSize, MAX_ITEM_BYTES } from '../shared/store/write-units.ts';
import { INLINE_BODY_BYTES } from '../shared/webhook/claim-check.ts';
import { eventIdOf } from '../shared/webhook/signature.ts';
import { inEarlierLayout, unsharded } from './support/earlier-layout.ts';
import { startedForTests, startLocalDynamoDb } from './support/local-aws.ts';
import {
  type Delivery,
  quietLogger,
  RECEIVED_AT,
  rawSqsRecord,
  sqsEvent,
  sqsRecord,
  tableContents,
  withoutReceipts,
} from './support/webhook-records.ts';

const dynamoDb = startedForTests(startLocalDynamoDb);

/**
 * The worker writes through the light client, as in Lambda; the tests read what it wrote
 * through lib-dynamodb, so every item also shows the two clients agree.
 */
let light: ReturnType<typeof lightTableDocuments> | undefined;
const lightDocuments = () =>
  (light ??= lightTableDocuments({ ...LOCAL_CLIENT_CONFIG, endpoint: dynamoDb.server.endpoint }));
afterAll(() => light?.destroy());

/** The test table's client, whose puts throw what `faultFor` returns (nothing: the put goes through). */
function withFaultyPut(faultFor: (input: PutCommandInput) => Error | undefined): TableDocuments {
  const real = dynamoDb.documents;
  return {
    put: (input) => {
      const fault = faultFor(input);
      return fault === undefined ? real.put(input) : Promise.reject(fault);
    },
    get: (input) => real.get(input),
    query: (input) => real.query(input),
    update: (input) => real.update(input),
  };
}

/** A fresh table and a worker writing to it through `documents` (the light client by default). */
async function freshWorker(options: { documents?: TableDocuments; rawTtlDays?: number } = {}) {
  const tableName = await dynamoDb.createTable();
  const handler = createWorkerHandler({
    documents: options.documents ?? lightDocuments(),
    tableName,
    bodies: NO_ARCHIVE,
    logger: quietLogger(),
    concurrency: 4,
    rawTtlDays: options.rawTtlDays,
  });
  const process = (...deliveries: Delivery[]) => handler(sqsEvent(deliveries.map(sqsRecord)));
  const get = async (key: { pk: string; sk: string }) =>
    (await dynamoDb.documents.send(new GetCommand({ TableName: tableName, Key: key }))).Item;
  const contents = () => tableContents(dynamoDb.documents, tableName);
  return { tableName, handler, process, get, contents };
}

const post = (event: unknown, receivedAt?: string): Delivery => ({
  body: JSON.stringify(event),
  ...(receivedAt && { receivedAt }),
});
const eventIdFor = (delivery: Delivery) => eventIdOf(Buffer.from(delivery.body));

const created = post(SEED_EVENTS.PROJECT_CREATED);
const labels = post(SEED_EVENTS.BEFORE_UPDATE_LABELS);
const completed = post(SEED_EVENTS.PROJECT_COMPLETED);
const reviewed = post(SEED_EVENTS.PROJECT_REVIEWED);
const exported: Delivery = { body: JSON.stringify(SEED_EXPORT_DELIVERY), method: 'PUT' };

/** PROJECT_CREATED for the project the seed's COMPLETED and REVIEWED events are about. */
const createdForReviewedProject = post({
  eventType: 'PROJECT_CREATED',
  data: {
    timestamp: '2023-11-17T09:40:00.000Z',
    project: { id: 'ZTYzZjRhYjE', name: 'hamlet.TXT', tags: ['CUSTOM'] },
    team: { id: '1', name: "User's Team Workspace" },
  },
});

describe('worker', () => {
  it('stores the seed events and an export delivery and derives the reviewed project', async () => {
    const worker = await freshWorker();
    const response = await worker.process(
      created,
      labels,
      completed,
      reviewed,
      exported,
      createdForReviewedProject,
    );
    expect(response.batchItemFailures).toEqual([]);

    expect(await worker.get(projectKey('ZTYzZjRhYjE'))).toEqual({
      pk: 'PROJECT#ZTYzZjRhYjE',
      sk: 'PROJECT',
      itemType: 'project',
      projectId: 'ZTYzZjRhYjE',
      name: 'hamlet.TXT',
      tags: ['CUSTOM'],
      teamId: '1',
      teamName: "User's Team Workspace",
      status: 'REVIEWED',
      statusAt: '2023-11-17T09:53:23.514Z',
      createdAt: '2023-11-17T09:40:00.000Z',
      completedAt: '2023-11-17T09:52:57.478Z',
      completedBy: { id: '1', email: 'user+1@datasaur.ai', username: '', name: '' },
      reviewedAt: '2023-11-17T09:53:23.514Z',
      reviewedBy: { id: '1', email: 'user+1@datasaur.ai', username: '', name: '' },
      lastEventAt: RECEIVED_AT,
      // The pre-signed link stays on the export event item only.
      lastExport: { at: RECEIVED_AT, userId: '1' },
      eventCount: 4,
      gsi1pk: 'TEAM#1',
      gsi1sk: 'REVIEWED#2023-11-17T09:53:23.514Z#ZTYzZjRhYjE',
    });
    expect(await worker.get(projectKey('N2E4MjNlYTc'))).toMatchObject({
      status: 'CREATED',
      createdAt: '2023-11-17T09:02:45.258Z',
      teamName: "User's Team Workspace",
      eventCount: 1,
    });
  });

  it('files by what the body is, not the method: an event sent as PUT, an export delivery sent as POST', async () => {
    const worker = await freshWorker();
    const reviewedAsPut: Delivery = { ...reviewed, method: 'PUT' };
    const exportedAsPost: Delivery = { body: exported.body };
    expect((await worker.process(reviewedAsPut, exportedAsPost)).batchItemFailures).toEqual([]);
    const items = await worker.contents();
    expect(items.filter((item) => item.itemType === 'rejected')).toEqual([]);
    expect(items.map((item) => item.itemType).sort()).toEqual(
      expect.arrayContaining(['export', 'projectEvent']),
    );
    expect(await worker.get(projectKey('ZTYzZjRhYjE'))).toMatchObject({
      status: 'REVIEWED',
      lastExport: { at: RECEIVED_AT, userId: '1' },
    });
  });

  it('ends COMPLETED with name, tags, team and times when COMPLETED arrives before CREATED', async () => {
    const worker = await freshWorker();
    await worker.process(completed);
    await worker.process(createdForReviewedProject);
    expect(await worker.get(projectKey('ZTYzZjRhYjE'))).toMatchObject({
      status: 'COMPLETED',
      name: 'hamlet.TXT',
      tags: ['CUSTOM'],
      teamId: '1',
      teamName: "User's Team Workspace",
      createdAt: '2023-11-17T09:40:00.000Z',
      completedAt: '2023-11-17T09:52:57.478Z',
      completedBy: { id: '1', email: 'user+1@datasaur.ai' },
      gsi1sk: 'COMPLETED#2023-11-17T09:52:57.478Z#ZTYzZjRhYjE',
    });
  });

  it('never regresses: an older COMPLETED arriving after REVIEWED leaves the project REVIEWED', async () => {
    const worker = await freshWorker();
    await worker.process(reviewed);
    await worker.process(completed);
    expect(await worker.get(projectKey('ZTYzZjRhYjE'))).toMatchObject({
      status: 'REVIEWED',
      completedAt: '2023-11-17T09:52:57.478Z',
      reviewedAt: '2023-11-17T09:53:23.514Z',
    });
  });

  it('resolves status events at the same instant to the later step of the workflow', async () => {
    const instant = SEED_EVENTS.PROJECT_COMPLETED.data.timestamp;
    const sameInstantCreated = post({
      ...SEED_EVENTS.PROJECT_CREATED,
      data: {
        ...SEED_EVENTS.PROJECT_CREATED.data,
        timestamp: instant,
        project: { id: 'ZTYzZjRhYjE' },
      },
    });
    for (const order of [
      [sameInstantCreated, completed],
      [completed, sameInstantCreated],
    ]) {
      const worker = await freshWorker();
      for (const delivery of order) await worker.process(delivery);
      expect(await worker.get(projectKey('ZTYzZjRhYjE'))).toMatchObject({ status: 'COMPLETED' });
    }
  });

  it('treats a redelivered event as a no-op: the table is unchanged', async () => {
    const worker = await freshWorker();
    const all = [created, labels, completed, reviewed, exported];
    await worker.process(...all);
    const once = await worker.contents();
    const response = await worker.process(...all, ...all);
    expect(response.batchItemFailures).toEqual([]);
    expect(await worker.contents()).toEqual(once);
  });

  it.each([
    ['an export delivery', { body: JSON.stringify(SEED_EXPORT_DELIVERY), method: 'PUT' as const }],
    ['a rejected body', { body: 'not json at all' }],
    ['an unknown event without a timestamp', { body: '{"eventType":"SOMETHING_NEW"}' }],
  ])('stores %s once when Datasaur sends the same body again later', async (_, delivery) => {
    const worker = await freshWorker();
    const later = '2024-03-02T08:30:00.000Z';
    expect((await worker.process(delivery)).batchItemFailures).toEqual([]);
    const once = await worker.contents();
    expect((await worker.process({ ...delivery, receivedAt: later })).batchItemFailures).toEqual(
      [],
    );
    expect(await worker.contents()).toEqual(once);
    expect(JSON.stringify(once)).not.toContain(later);
  });

  it("takes null where Datasaur's types are nullable: stored as received, left out of the project and the bus", async () => {
    const worker = await freshWorker();
    const projectId = 'NULLS-1';
    const reviewedWithNulls = post({
      eventType: 'PROJECT_REVIEWED',
      data: {
        timestamp: '2023-11-17T09:53:23.514Z',
        reviewer: null,
        project: { id: projectId, name: null, tags: null },
        team: { id: '1', name: null },
      },
    });
    const completedWithNulls = post({
      eventType: 'PROJECT_COMPLETED',
      data: {
        timestamp: '2023-11-17T09:52:57.478Z',
        labeler: { id: '1', email: null, username: null, name: null },
        project: { id: projectId, name: 'named', tags: ['NER'] },
        team: { id: '1', name: 'Team' },
      },
    });
    const { data } = SEED_EVENTS.BEFORE_UPDATE_LABELS;
    const labelsWithNulls = post({
      eventType: 'BEFORE_UPDATE_LABELS',
      data: {
        ...data,
        document: { ...data.document, originId: null, name: null, fileName: null },
        isReviewDocument: null,
        owner: null,
        team: null,
        labelUpdateList: {
          toDeleteList: [],
          toUpsertList: data.labelUpdateList.toUpsertList.map((label) => ({
            ...label,
            documentId: null,
            labeledBy: null,
            layer: null,
          })),
        },
      },
    });
    const deliveryWithNulls: Delivery = {
      body: JSON.stringify({ ...SEED_EXPORT_DELIVERY, projectId, userId: null, documentId: null }),
      method: 'PUT',
    };
    const response = await worker.process(
      completedWithNulls,
      reviewedWithNulls,
      labelsWithNulls,
      deliveryWithNulls,
    );
    expect(response.batchItemFailures).toEqual([]);

    const items = await worker.contents();
    expect(items.filter((item) => item.itemType === 'rejected')).toEqual([]);
    // The project takes the name and tags an earlier event gave, and no reviewer.
    const project = await worker.get(projectKey(projectId));
    expect(project).toMatchObject({ status: 'REVIEWED', name: 'named', tags: ['NER'] });
    expect(project).toMatchObject({ teamName: 'Team', completedBy: { id: '1' } });
    expect(project).not.toHaveProperty('reviewedBy');
    expect(project?.lastExport).toEqual({ at: RECEIVED_AT });

    const label = items.find((item) => item.itemType === 'labelEvent');
    expect(label).toMatchObject({
      documentId: data.document.id,
      data: { owner: null, team: null },
    });
    expect(label).not.toHaveProperty('teamId');
    const delivery = items.find((item) => item.itemType === 'export');
    expect(delivery).toMatchObject({ projectId, data: { userId: null, documentId: null } });
    expect(delivery).not.toHaveProperty('documentId');

    // Each bus detail leaves the nulls out, and passes the schema the bus publishes under.
    const details = items
      .filter((item) => ['projectEvent', 'labelEvent', 'export'].includes(String(item.itemType)))
      .map((item) => busEventOf(restoredItem(item) as unknown as EventItem))
      .filter((event) => event !== undefined);
    expect(details.map((event) => event.detailType).sort()).toEqual([
      'Export Delivered',
      'Labels Updated',
      'Project Completed',
      'Project Reviewed',
    ]);
    for (const { detailType, detail } of details) {
      expect(Object.values(detail)).not.toContain(null);
      expect(DETAIL_SCHEMAS[detailType]().safeParse(detail).success).toBe(true);
    }
    const completedDetail = details.find((event) => event.detailType === 'Project Completed');
    expect(completedDetail?.detail).toMatchObject({ completedBy: { id: '1' } });
    expect(Object.values(completedDetail?.detail.completedBy ?? {})).toEqual(['1']);
  });

  it('stores a label event under its document, describing itself: type, id, times and ids on top, data as received', async () => {
    const worker = await freshWorker();
    await worker.process(labels);
    const { data } = SEED_EVENTS.BEFORE_UPDATE_LABELS;
    const eventId = eventIdFor(labels);
    const key = { pk: `DOCUMENT#${data.document.id}`, sk: `EVENT#${data.timestamp}#${eventId}` };
    const stored = await worker.get(key);
    expect(stored).toEqual({
      ...key,
      gsi2pk: feedPartition('2024-03-01', dayShardOf(eventId)),
      gsi2sk: RECEIVED_AT,
      itemType: 'labelEvent',
      eventType: 'BEFORE_UPDATE_LABELS',
      eventId,
      receivedAt: RECEIVED_AT,
      eventTime: data.timestamp,
      documentId: data.document.id,
      teamId: '1',
      data: { ...data, labelUpdateList: { ...data.labelUpdateList, toDeleteList: [] } },
    });
    // Already in the current layout: read as stored.
    expect(restoredItem(stored ?? {})).toBe(stored);
  });

  it('reads a label event stored in the earlier layout (nothing its keys say) whole', async () => {
    const worker = await freshWorker();
    await worker.process(labels);
    const { data } = SEED_EVENTS.BEFORE_UPDATE_LABELS;
    const current = await worker.get({
      pk: `DOCUMENT#${data.document.id}`,
      sk: `EVENT#${data.timestamp}#${eventIdFor(labels)}`,
    });
    const earlier = inEarlierLayout(current as unknown as EventItem);
    expect(earlier).not.toHaveProperty('itemType');
    expect(earlier).not.toHaveProperty('eventId');
    expect(restoredItem(earlier)).toEqual(unsharded({ ...current }));
  });

  it('keeps an unknown event type whole under the day of its timestamp, with a TTL when configured', async () => {
    const worker = await freshWorker({ rawTtlDays: 30 });
    const event = {
      eventType: 'PROJECT_ARCHIVED',
      data: { timestamp: '2024-02-29T23:59:00+01:00', x: [1] },
    };
    const delivery = post(event);
    await worker.process(delivery);
    const item = await worker.get({
      pk: unknownPartition('2024-02-29', dayShardOf(eventIdFor(delivery))),
      sk: `EVENT#2024-02-29T22:59:00.000Z#${eventIdFor(delivery)}`,
    });
    expect(item).toMatchObject({
      itemType: 'unknownEvent',
      eventType: 'PROJECT_ARCHIVED',
      payload: event,
      expiresAt: Date.parse(RECEIVED_AT) / 1000 + 30 * 86_400,
    });
  });

  describe('files what can never succeed as rejected, with the reason and the raw body', () => {
    const deepJson = `{"eventType":"DEEP","data":${'['.repeat(40)}${']'.repeat(40)}}`;
    it.each([
      ['not JSON', { body: 'hello' }, 'body is not JSON'],
      ['a JSON array', { body: '[1,2]' }, 'body is not a JSON object'],
      ['no eventType', { body: '{"data":{}}' }, 'body has no string eventType'],
      [
        'a known type that fails its schema',
        { body: '{"eventType":"PROJECT_CREATED","data":{"timestamp":"2024-01-01T00:00:00Z"}}' },
        'PROJECT_CREATED does not match its schema: data.project',
      ],
      [
        'a PUT that is no export delivery',
        { body: '{"fileUrl":1}', method: 'PUT' },
        'PUT body is not an export delivery',
      ],
      [
        'a POST with a link that is no export delivery',
        { body: '{"fileUrl":"https://x.example/f.zip"}' },
        'POST body is not an export delivery: projectId',
      ],
      [
        'nesting deeper than DynamoDB allows',
        { body: deepJson },
        "deeper than DynamoDB's 32 levels",
      ],
      [
        // The item is a level too: a body 32 deep is an attribute value 31 deep, one too many.
        'nesting 32 levels, the item being one more',
        { body: `{"eventType":"DEEP","data":${'['.repeat(31)}${']'.repeat(31)}}` },
        "deeper than DynamoDB's 32 levels",
      ],
      [
        'an empty object key, at any depth',
        { body: '{"eventType":"X","data":{"list":[{"":1}]}}' },
        'empty object key',
      ],
      [
        'a number beyond 2^53',
        { body: '{"eventType":"X","n":12345678901234567890}' },
        'cannot be stored exactly',
      ],
    ] satisfies [string, Delivery, string][])('%s', async (_, delivery, reason) => {
      const worker = await freshWorker();
      expect((await worker.process(delivery)).batchItemFailures).toEqual([]);
      const item = await worker.get({
        ...rejectedKey(RECEIVED_AT, eventIdFor(delivery)),
      });
      expect(item).toMatchObject({ itemType: 'rejected', body: String(delivery.body) });
      expect(item?.reason).toContain(reason);
    });

    it('keeps a body that is not UTF-8 as binary', async () => {
      const worker = await freshWorker();
      const bytes = Buffer.from([0x7b, 0xff, 0xfe, 0x00, 0x7d]);
      await worker.process({ body: bytes });
      const item = await worker.get({
        ...rejectedKey(RECEIVED_AT, eventIdOf(bytes)),
      });
      expect(item).toMatchObject({ reason: 'body is not UTF-8 text' });
      expect(Buffer.from(item?.body as Uint8Array)).toEqual(bytes);
    });

    it('keeps a queue message that is not an envelope, under its hash and send time', async () => {
      const worker = await freshWorker();
      const response = await worker.handler(sqsEvent([rawSqsRecord('{"not":"an envelope"}')]));
      expect(response.batchItemFailures).toEqual([]);
      const eventId = eventIdOf(Buffer.from('{"not":"an envelope"}'));
      const item = await worker.get(rejectedKey(RECEIVED_AT, eventId));
      expect(item?.reason).toMatch(/^queued message is not an envelope/);
    });
  });

  it('stores an unknown event nesting 31 levels, the deepest DynamoDB takes under the item', async () => {
    const worker = await freshWorker();
    const body = `{"eventType":"DEEP","data":${'['.repeat(30)}${']'.repeat(30)}}`;
    expect((await worker.process({ body })).batchItemFailures).toEqual([]);
    const [item] = withoutReceipts(await worker.contents());
    expect(item).toMatchObject({ itemType: 'unknownEvent', payload: JSON.parse(body) });
  });

  describe('bodies at the largest inline size fit in one item', () => {
    const atLimit = (prefix: string, filler: string, suffix: string) => {
      const count = Math.floor((INLINE_BODY_BYTES - prefix.length - suffix.length) / filler.length);
      const body = `${prefix}${filler.repeat(count)}${suffix}`;
      return body.length < INLINE_BODY_BYTES
        ? body.replace(prefix, prefix + ' '.repeat(INLINE_BODY_BYTES - body.length))
        : body;
    };

    it.each([
      [
        'a valid unknown event with one long string',
        atLimit('{"eventType":"BIG","data":{"blob":"', 'x', '"}}'),
        'unknownEvent',
      ],
      // Small numbers are DynamoDB's worst expansion: "0," is 2 bytes of JSON, 3 in an item.
      [
        'a valid unknown event that is a list of zeros',
        atLimit('{"eventType":"BIG","data":[', '0,', '0]}'),
        'unknownEvent',
      ],
      ['a body that is not JSON', atLimit('not json ', 'y', ''), 'rejected'],
    ])('%s', async (_, body, itemType) => {
      expect(Buffer.byteLength(body)).toBe(INLINE_BODY_BYTES);
      const worker = await freshWorker();
      expect((await worker.process({ body })).batchItemFailures).toEqual([]);
      const [item] = withoutReceipts(await worker.contents());
      expect(item?.itemType).toBe(itemType);
      expect(itemSize(item ?? {})).toBeLessThan(MAX_ITEM_BYTES);
    });
  });

  it.each([
    ['not JSON', 'z'.repeat(INLINE_BODY_BYTES)],
    // Parsed, it would need 1.5× its size: too big for an item, so it is kept raw instead.
    [
      'a list of zeros',
      `{"eventType":"BIG","data":[${'1,'.repeat((INLINE_BODY_BYTES - 30) / 2)}1]}`,
    ],
  ])('keeps a body of the largest inline size that is %s, raw, as rejected', async (_, body) => {
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(INLINE_BODY_BYTES);
    expect(Buffer.byteLength(body)).toBeGreaterThan(INLINE_BODY_BYTES - 4);
    const worker = await freshWorker();
    expect((await worker.process({ body })).batchItemFailures).toEqual([]);
    const [item] = withoutReceipts(await worker.contents());
    expect(item).toMatchObject({ itemType: 'rejected', body });
    expect(itemSize(item ?? {})).toBeLessThan(MAX_ITEM_BYTES);
  });

  it('reports only the transient failure of a batch; the poison record is rejected, the rest stored', async () => {
    const transient = post({ ...SEED_EVENTS.PROJECT_CREATED, note: 'throttled' });
    const transientEventId = eventIdFor(transient);
    // dynalite never throttles: throttling is injected on the put of one event item.
    const faulty = withFaultyPut((input) =>
      String(input.Item?.sk).endsWith(transientEventId)
        ? new ProvisionedThroughputExceededException({ message: 'Rate exceeded', $metadata: {} })
        : undefined,
    );
    const worker = await freshWorker({ documents: faulty });

    const poison: Delivery = { body: '{"eventType":"PROJECT_CREATED"' };
    const records = [labels, poison, transient, completed].map(sqsRecord);
    const response = await worker.handler(sqsEvent(records));

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: records[2]?.messageId }]);
    const items = await worker.contents();
    expect(items.map((item) => restoredItem(item).itemType).sort()).toEqual(
      ['labelEvent', 'project', 'projectEvent', 'receipt', 'rejected'].sort(),
    );
    expect(items.find((item) => item.itemType === 'rejected')).toMatchObject({
      reason: 'body is not JSON',
      body: poison.body,
    });
  });

  it('files an event DynamoDB refuses with a ValidationException as rejected instead of retrying it', async () => {
    // dynalite does not enforce every DynamoDB validation: the refusal is injected.
    const refused = post({ eventType: 'SOMETHING_NEW', data: { refuse: true } });
    const faulty = withFaultyPut((input) => {
      if (input.Item?.itemType !== 'unknownEvent') return undefined;
      const error = new Error('Nesting Levels have exceeded supported limits');
      error.name = 'ValidationException';
      return error;
    });
    const worker = await freshWorker({ documents: faulty });

    expect((await worker.process(refused)).batchItemFailures).toEqual([]);
    const [item] = withoutReceipts(await worker.contents());
    expect(item).toMatchObject({
      itemType: 'rejected',
      reason: 'DynamoDB refused the item: Nesting Levels have exceeded supported limits',
      body: refused.body,
    });
  });
});
