/**
 * Property-based fuzzing of the worker against dynalite: whatever body the ingest queued (or
 * whatever message sits on the queue), the worker files it as an event, an unknown event or a
 * rejected item and acknowledges it. An exception would send it round the queue to the DLQ.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SEED_EVENTS, SEED_EXPORT_DELIVERY } from '../shared/seed-events.ts';
import { eventIdOf } from '../shared/signature.ts';
import { type LocalDynamoDb, startLocalDynamoDb } from './support/local-aws.ts';
import {
  rawSqsRecord,
  sqsEvent,
  sqsRecord,
  tableContents,
  workerOnFreshTable,
} from './support/webhook-records.ts';

const RUNS = 1_500;
const BATCH_SIZE = 10;

let dynamoDb: LocalDynamoDb;
beforeAll(async () => {
  dynamoDb = await startLocalDynamoDb();
});
afterAll(async () => {
  await dynamoDb.close();
});

/** A JSON value nested `depth` levels deep (DynamoDB refuses more than 32). */
const deeplyNested = fc.integer({ min: 30, max: 40 }).map((depth) => {
  let value: unknown = 'bottom';
  for (let level = 0; level < depth; level++) value = { level: value };
  return value;
});

/** Known events with a field replaced by something of any shape. */
const mutatedSeedEvent = fc
  .tuple(
    fc.constantFrom(...Object.values(SEED_EVENTS)),
    fc.constantFrom(
      'timestamp',
      'project',
      'team',
      'document',
      'labelUpdateList',
      'owner',
      'extra',
    ),
    fc.oneof(fc.jsonValue({ maxDepth: 3 }), deeplyNested, fc.constant(undefined)),
  )
  .map(([event, field, value]) => {
    const copy = structuredClone(event) as { data: Record<string, unknown> };
    copy.data[field] = value;
    return JSON.stringify(copy);
  });

const body = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value) ?? 'null'),
  { weight: 4, arbitrary: mutatedSeedEvent },
  fc
    .record({ eventType: fc.string({ maxLength: 30 }), data: fc.jsonValue({ maxDepth: 3 }) })
    .map((event) => JSON.stringify(event)),
  fc
    .record({ eventType: fc.constant('NEW_EVENT'), data: deeplyNested })
    .map((e) => JSON.stringify(e)),
  fc
    .record({ '': fc.string(), eventType: fc.constant('EMPTY_KEY'), n: fc.double() })
    .map((event) => JSON.stringify(event)),
  fc.constant(JSON.stringify({ eventType: 'BIG_NUMBER', data: { value: 1e308, tiny: 5e-324 } })),
);

/** Export deliveries (PUT) with a field replaced by something of any shape. */
const exportBody = fc
  .tuple(
    fc.constantFrom('userId', 'fileUrl', 'projectId', 'documentId', 'extra'),
    fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constant(undefined)),
  )
  .map(([field, value]) => JSON.stringify({ ...SEED_EXPORT_DELIVERY, [field]: value }));

// The eventId hashes the body alone, so POST and PUT bodies come from separate spaces:
// the same bytes sent both ways would be one event filed two ways.
const delivery = fc.oneof(
  {
    weight: 7,
    arbitrary: fc.record({ kind: fc.constant('ingest' as const), body, put: fc.constant(false) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('ingest' as const),
      body: exportBody,
      put: fc.constant(true),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('foreign' as const),
      message: fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.jsonValue().map((v) => JSON.stringify(v)),
      ),
    }),
  },
);

it(`files ${RUNS} generated queue messages as events, unknown events or rejected items`, async () => {
  const { tableName, handler: handle } = await workerOnFreshTable(dynamoDb, { concurrency: 10 });
  const deliveries = fc.sample(delivery, { numRuns: RUNS, seed: 20261123 });
  const expectedEventIds = new Set<string>();
  const records = deliveries.map((generated) => {
    if (generated.kind === 'foreign') {
      expectedEventIds.add(eventIdOf(Buffer.from(generated.message, 'utf8')));
      return rawSqsRecord(generated.message);
    }
    const raw = typeof generated.body === 'string' ? Buffer.from(generated.body) : generated.body;
    expectedEventIds.add(eventIdOf(raw));
    return sqsRecord({ body: raw, method: generated.put ? 'PUT' : 'POST' });
  });

  for (let start = 0; start < records.length; start += BATCH_SIZE) {
    const response = await handle(sqsEvent(records.slice(start, start + BATCH_SIZE)));
    expect(response.batchItemFailures).toEqual([]);
  }

  const items = await tableContents(dynamoDb.documents, tableName);
  const filed = new Map<string, Set<unknown>>();
  for (const item of items) {
    // Every event item is in the feed, whose sort key ends with the eventId.
    if (typeof item.gsi2sk !== 'string') continue;
    const eventId = item.gsi2sk.split('#').pop() ?? '';
    filed.set(eventId, (filed.get(eventId) ?? new Set()).add(item.itemType));
  }
  for (const eventId of expectedEventIds) {
    const itemTypes = [...(filed.get(eventId) ?? [])];
    expect(itemTypes, `event ${eventId}`).toHaveLength(1);
    expect(['projectEvent', 'labelEvent', 'export', 'unknownEvent', 'rejected']).toContain(
      itemTypes[0],
    );
  }
  expect(filed.size).toBe(expectedEventIds.size);
  const counts: Record<string, number> = {};
  for (const types of filed.values())
    for (const type of types) counts[String(type)] = (counts[String(type)] ?? 0) + 1;
  console.info('worker fuzz: items per type', counts);
  expect(counts.rejected).toBeGreaterThan(50);
  expect(counts.unknownEvent).toBeGreaterThan(50);
  // Fifteen hundred messages take over 20 s while the rest of the suite runs beside.
}, 120_000);

it('stores the seed export delivery sent as a PUT', async () => {
  const { tableName, handler: handle } = await workerOnFreshTable(dynamoDb);
  const response = await handle(
    sqsEvent([sqsRecord({ body: JSON.stringify(SEED_EXPORT_DELIVERY), method: 'PUT' })]),
  );
  expect(response.batchItemFailures).toEqual([]);
  const items = await tableContents(dynamoDb.documents, tableName);
  expect(items.map((item) => item.itemType)).toContain('export');
});
