import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_ARCHIVE } from '../scripts/local/no-archive.ts';
import { createEventStore } from '../shared/event-store.ts';
import { interpretMessage } from '../shared/interpret.ts';
import { SEED_EVENTS, SEED_EXPORT_DELIVERY } from '../shared/seed-events.ts';
import { itemSize, totalWriteUnits, writeUnits } from '../shared/write-units.ts';
import { type LocalDynamoDb, startLocalDynamoDb } from './support/local-aws.ts';
import { type Delivery, RECEIVED_AT, sqsRecord } from './support/webhook-records.ts';

describe('item sizes by AWS rules', () => {
  it.each([
    ['a string counts its UTF-8 bytes plus the name', { ab: 'é1' }, 2 + 3],
    ['zero is one byte', { n: 0 }, 1 + 1],
    ['a number is 1 byte plus 1 per two significant digits', { n: 12345 }, 1 + 4],
    ['digits split unevenly around the decimal point cost one more', { n: 1.2 }, 1 + 3],
    ['a negative number costs one more', { n: -7 }, 1 + 3],
    ['booleans and null are one byte', { t: true, z: null }, 1 + 1 + 1 + 1],
    ['binary counts its bytes', { b: new Uint8Array(10) }, 1 + 10],
    ['a list is 3 bytes plus 1 per element', { l: ['a', 'b'] }, 1 + 3 + 2 * (1 + 1)],
    ['a map is 3 bytes plus 1 per entry and the key names', { m: { ab: 'c' } }, 1 + 3 + 1 + 2 + 1],
  ])('%s', (_, item, size) => {
    expect(itemSize(item)).toBe(size);
  });

  it('counts two index writes when a GSI key moves, none when the entry is unchanged', () => {
    const before = { pk: 'P', sk: 'S', gsi1pk: 'TEAM#1', gsi1sk: 'CREATED#t1#p' };
    const after = { ...before, gsi1sk: 'COMPLETED#t2#p' };
    expect(writeUnits({ item: after, previous: before })).toEqual({
      table: 1,
      indexes: { GSI1: 2, GSI2: 0 },
      total: 3,
    });
    expect(writeUnits({ item: before, previous: before }).total).toBe(1);
    expect(writeUnits({ item: before, conditionFailed: true }).total).toBe(1);
  });
});

describe('write units per event type', () => {
  let dynamoDb: LocalDynamoDb;
  beforeAll(async () => {
    dynamoDb = await startLocalDynamoDb();
  });
  afterAll(async () => {
    await dynamoDb.close();
  });

  const post = (event: unknown): Delivery => ({ body: JSON.stringify(event) });

  it('costs what the README states, and a seed-sized label event at most 2', async () => {
    const store = createEventStore(dynamoDb.documents, await dynamoDb.createTable());
    const record = async (delivery: Delivery) => {
      const recorded = await store.record(
        await interpretMessage(sqsRecord(delivery).body, new Date(RECEIVED_AT), NO_ARCHIVE),
      );
      return { units: totalWriteUnits(recorded.writes), eventItemBytes: itemSize(recorded.item) };
    };

    const labels = post(SEED_EVENTS.BEFORE_UPDATE_LABELS);
    const measured = {
      // The project's first event: its event item and feed entry, the new project item and its GSI1 entry.
      PROJECT_CREATED: await record(post(SEED_EVENTS.PROJECT_CREATED)),
      BEFORE_UPDATE_LABELS: await record(labels),
      PROJECT_COMPLETED: await record(post(SEED_EVENTS.PROJECT_COMPLETED)),
      // A status change moves the project's GSI1 key: a delete and a put in the index.
      PROJECT_REVIEWED: await record(post(SEED_EVENTS.PROJECT_REVIEWED)),
      EXPORT_DELIVERY: await record({ body: JSON.stringify(SEED_EXPORT_DELIVERY), method: 'PUT' }),
      unknown: await record(
        post({ eventType: 'PROJECT_ARCHIVED', data: { project: { id: 'p' } } }),
      ),
      rejected: await record({ body: 'not json' }),
      duplicateLabel: await record(labels),
    };

    expect(Buffer.byteLength(labels.body)).toBeLessThanOrEqual(1024);
    expect(measured.BEFORE_UPDATE_LABELS.eventItemBytes).toBeLessThanOrEqual(1024);
    expect(
      Object.fromEntries(Object.entries(measured).map(([type, { units }]) => [type, units])),
    ).toEqual({
      PROJECT_CREATED: 4,
      BEFORE_UPDATE_LABELS: 2,
      PROJECT_COMPLETED: 4,
      PROJECT_REVIEWED: 5,
      // Keyed by receive time, so their first receipt is recorded too (one more unit).
      EXPORT_DELIVERY: 5,
      unknown: 3,
      rejected: 3,
      duplicateLabel: 1,
    });
  });
});
