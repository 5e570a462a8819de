/**
 * Property-based fuzzing of the worker against the test DynamoDB (dynalite, or DynamoDB
 * Local in the conformance run): whatever body the ingest queued (or whatever message sits on
 * the queue), the worker files it as an event, an unknown event or a rejected item and
 * acknowledges it. An exception would send it round the queue to the DLQ.
 */
import type { SQSRecord } from 'aws-lambda';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { dynamoDbBackend } from '../scripts/local/config.ts';
import { SEED_EVENTS, SEED_EXPORT_DELIVERY } from '../scripts/local/seed-events.ts';
import { restoredItem } from '../shared/store/items.ts';
import { eventIdInSortKey } from '../shared/store/keys.ts';
import { eventIdOf } from '../shared/webhook/signature.ts';
import { type LocalDynamoDb, startedForTests, startLocalDynamoDb } from './support/local-aws.ts';
import {
  rawSqsRecord,
  sqsEvent,
  sqsRecord,
  tableContents,
  workerOnFreshTable,
} from './support/webhook-records.ts';

const RUNS = 1_500;
/** Fewer for the comparison of the two backends, which runs them both. */
const RUNS_ON_BOTH_BACKENDS = 500;
const BATCH_SIZE = 10;

const dynamoDb = startedForTests(startLocalDynamoDb);

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

/** The same generated queue messages every time, and the eventIds they carry. */
function generatedRecords(runs: number): { records: SQSRecord[]; eventIds: Set<string> } {
  const eventIds = new Set<string>();
  const records = fc.sample(delivery, { numRuns: runs, seed: 20261123 }).map((generated) => {
    if (generated.kind === 'foreign') {
      eventIds.add(eventIdOf(Buffer.from(generated.message, 'utf8')));
      return rawSqsRecord(generated.message);
    }
    const raw = typeof generated.body === 'string' ? Buffer.from(generated.body) : generated.body;
    eventIds.add(eventIdOf(raw));
    return sqsRecord({ body: raw, method: generated.put ? 'PUT' : 'POST' });
  });
  return { records, eventIds };
}

/** Hands `records` to a worker on a fresh table of `backend`, in batches; returns the table. */
async function fileAll(backend: LocalDynamoDb, records: readonly SQSRecord[]) {
  const { tableName, handler: handle } = await workerOnFreshTable(backend, { concurrency: 10 });
  for (let start = 0; start < records.length; start += BATCH_SIZE) {
    const response = await handle(sqsEvent(records.slice(start, start + BATCH_SIZE)));
    expect(response.batchItemFailures).toEqual([]);
  }
  return tableContents(backend.documents, tableName);
}

// 1,500 messages through the real client: some 15 s alone, twice that on a busy 2-core machine.
it(`files ${RUNS} generated queue messages as events, unknown events or rejected items`, async () => {
  const { records, eventIds: expectedEventIds } = generatedRecords(RUNS);
  const items = await fileAll(dynamoDb, records);
  const filed = new Map<string, Set<unknown>>();
  for (const item of items) {
    // Every event item is in the feed; its sort key ends with the eventId.
    if (typeof item.gsi2sk !== 'string') continue;
    const eventId = eventIdInSortKey(String(item.sk));
    filed.set(eventId, (filed.get(eventId) ?? new Set()).add(restoredItem(item).itemType));
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
  // Fewer than the other kinds: the EMPTY_KEY bodies are rejected (no empty map keys in DynamoDB).
  expect(counts.unknownEvent).toBeGreaterThan(30);
}, 120_000);

// Whatever DynamoDB Local refuses and dynalite takes (or the reverse) shows up here as a
// difference between the two tables; the product checks DynamoDB's rules itself so there is none.
it.runIf(dynamoDbBackend() === 'dynamodb-local')(
  'files the generated messages exactly as it does on dynalite',
  async () => {
    const { records } = generatedRecords(RUNS_ON_BOTH_BACKENDS);
    const dynalite = await startLocalDynamoDb('dynalite');
    try {
      const [onDynamoDbLocal, onDynalite] = await Promise.all([
        fileAll(dynamoDb, records),
        fileAll(dynalite, records),
      ]);
      expect(onDynamoDbLocal).toEqual(onDynalite);
    } finally {
      await dynalite.close();
    }
  },
);

it('stores the seed export delivery sent as a PUT', async () => {
  const { tableName, handler: handle } = await workerOnFreshTable(dynamoDb);
  const response = await handle(
    sqsEvent([sqsRecord({ body: JSON.stringify(SEED_EXPORT_DELIVERY), method: 'PUT' })]),
  );
  expect(response.batchItemFailures).toEqual([]);
  const items = await tableContents(dynamoDb.documents, tableName);
  expect(items.map((item) => item.itemType)).toContain('export');
});
