import {
  type ConsumedCapacity,
  DynamoDBClient,
  type PutItemCommandInput,
  type PutItemCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocument } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoDbBackend } from '../scripts/local/config.ts';
import { paddedLabelBody } from '../scripts/local/datasaur-sender.ts';
import { NO_ARCHIVE } from '../scripts/local/no-archive.ts';
import { SEED_EVENTS, SEED_EXPORT_DELIVERY } from '../scripts/local/seed-events.ts';
import { LOCAL_CLIENT_CONFIG } from '../scripts/local/servers.ts';
import { claimCheckedSqsRecord } from '../scripts/local/sqs-records.ts';
import { createEventStore } from '../shared/store/event-store.ts';
import { INDEXES } from '../shared/store/table.ts';
import {
  itemSize,
  totalWriteUnits,
  type WriteUnits,
  writeUnits,
} from '../shared/store/write-units.ts';
import { s3BodyReader, s3BodyWriter } from '../shared/webhook/body-archive.ts';
import { interpretMessage } from '../shared/webhook/interpret.ts';
import {
  type LocalDynamoDb,
  type LocalS3,
  startedForTests,
  startLocalDynamoDb,
  startLocalS3,
} from './support/local-aws.ts';
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
      indexes: { GSI1: 2, GSI2: 0, GSI3: 0, GSI4: 0 },
      total: 3,
    });
    expect(writeUnits({ item: before, previous: before }).total).toBe(1);
    expect(writeUnits({ item: before, conditionFailed: true }).total).toBe(1);
  });
});

describe('write units per event type', () => {
  const dynamoDb = startedForTests(startLocalDynamoDb);

  const post = (event: unknown): Delivery => ({ body: JSON.stringify(event) });

  it('costs what docs/design.md states: a seed-sized label event 4 (item 2, feed 1, event-id index 1)', async () => {
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
    // Describing itself (type, ids, times on top of the data as received) takes the seed
    // label item past 1 KB: 2 table units where the stripped item took 1.
    expect(measured.BEFORE_UPDATE_LABELS.eventItemBytes).toBeGreaterThan(1024);
    expect(measured.BEFORE_UPDATE_LABELS.eventItemBytes).toBeLessThanOrEqual(2048);
    expect(
      Object.fromEntries(Object.entries(measured).map(([type, { units }]) => [type, units])),
    ).toEqual({
      // Every event item also has its GSI3 entry (lookup by eventId): one unit more than
      // before items described themselves.
      PROJECT_CREATED: 5,
      // The self-describing item passes 1 KB (2 units) and has its GSI3 entry: 2 before.
      BEFORE_UPDATE_LABELS: 4,
      PROJECT_COMPLETED: 5,
      PROJECT_REVIEWED: 6,
      // Keyed by receive time, so their first receipt is recorded too (one more unit).
      EXPORT_DELIVERY: 6,
      unknown: 4,
      rejected: 4,
      // The failed conditional put costs the size of the item sent: now 2 KB.
      duplicateLabel: 2,
    });
  });
});

/**
 * The authority: DynamoDB Local (AWS's own emulator) reports what each Put consumed in the
 * table and in each GSI when asked with ReturnConsumedCapacity INDEXES. dynalite's report
 * leaves the GSIs out, so this runs in the conformance run (`npm run test:conformance`).
 */
describe.skipIf(dynamoDbBackend() !== 'dynamodb-local')(
  'write units computed by shared/store/write-units.ts equal what DynamoDB Local reports',
  () => {
    let dynamoDb: LocalDynamoDb;
    let s3: LocalS3;
    let bucket: string;
    beforeAll(async () => {
      [dynamoDb, s3] = await Promise.all([startLocalDynamoDb(), startLocalS3()]);
      bucket = await s3.createBucket();
    });
    afterAll(async () => {
      await Promise.all([dynamoDb.close(), s3.close()]);
    });

    type Units = Omit<WriteUnits, 'total'>;
    const post = (event: unknown, receivedAt?: string): Delivery => ({
      body: JSON.stringify(event),
      ...(receivedAt && { receivedAt }),
    });
    const exported: Delivery = { body: JSON.stringify(SEED_EXPORT_DELIVERY), method: 'PUT' };
    const later = '2024-03-02T08:00:00.000Z';

    it('for every item kind the worker writes, Put by Put', async () => {
      const reported: Units[] = [];
      const store = createEventStore(measuring(dynamoDb, reported), await dynamoDb.createTable());
      const rows: string[] = [];
      /** `archived`: the body goes through the claim check, as the ingest sends large ones. */
      const record = async (what: string, delivery: Delivery, archived = false) => {
        const before = reported.length;
        const message = archived
          ? await interpretMessage(
              (await claimCheckedSqsRecord(delivery, s3BodyWriter(s3.s3, bucket))).body,
              new Date(RECEIVED_AT),
              s3BodyReader(s3.s3),
            )
          : await interpretMessage(sqsRecord(delivery).body, new Date(RECEIVED_AT), NO_ARCHIVE);
        const { writes } = await store.record(message);
        const puts = reported.slice(before);
        // A failed condition has no ConsumedCapacity in its answer (DynamoDB's API shape):
        // its cost follows AWS's documented rule, see docs/conformance.md.
        const failed = writes.filter((write) => write.conditionFailed === true);
        const succeeded = writes.filter((write) => write.conditionFailed !== true);
        const computed = succeeded.map((write) => units(writeUnits(write)));
        expect(computed, what).toEqual(puts);
        rows.push(
          `| ${what} | ${writes.length} | ${failed.length} | ${sum(computed)} | ${sum(puts)} | ${totalWriteUnits(failed)} |`,
        );
      };

      // A project's first event: its event item and feed entry, then the new project item.
      await record('PROJECT_CREATED, first of its project', post(SEED_EVENTS.PROJECT_CREATED));
      await record('BEFORE_UPDATE_LABELS', post(SEED_EVENTS.BEFORE_UPDATE_LABELS));
      // The seed completion is of another project: its first event too.
      await record(
        'PROJECT_COMPLETED, first of another project',
        post(SEED_EVENTS.PROJECT_COMPLETED),
      );
      // A status change moves the project's GSI1 key: a delete and a put in the index.
      await record('PROJECT_REVIEWED, GSI1 key moves', post(SEED_EVENTS.PROJECT_REVIEWED));
      // Keyed by receive time: its first receipt is written too; the project item changes.
      await record('EXPORT_DELIVERY (PUT), first receipt', exported);
      await record('EXPORT_DELIVERY sent again later', { ...exported, receivedAt: later });
      await record(
        'unknown event with a timestamp',
        post({
          eventType: 'PROJECT_ARCHIVED',
          data: { timestamp: RECEIVED_AT, project: { id: 'p' } },
        }),
      );
      await record(
        'unknown event without one, first receipt',
        post({ eventType: 'PROJECT_ARCHIVED', data: { project: { id: 'p' } } }),
      );
      await record('rejected body, first receipt', { body: 'not json' });
      await record('duplicate label event', post(SEED_EVENTS.BEFORE_UPDATE_LABELS));
      await record('duplicate project event', post(SEED_EVENTS.PROJECT_REVIEWED));
      // An export before any event of its project: a project item without a team (no GSI1
      // entry), which gains its GSI1 entry when the project's first event arrives.
      await record('export of a new project, no GSI1 entry', {
        ...exported,
        body: JSON.stringify({ ...SEED_EXPORT_DELIVERY, projectId: 'later-project' }),
      });
      await record(
        'PROJECT_CREATED after it, GSI1 entry appears',
        post({
          ...SEED_EVENTS.PROJECT_CREATED,
          data: { ...SEED_EVENTS.PROJECT_CREATED.data, project: { id: 'later-project' } },
        }),
      );
      // Multi-kilobyte items: units per started KB in the table, the small feed entry 1.
      await record(
        'unknown event of 200 KB',
        post({ eventType: 'BIG', data: { blob: 'x'.repeat(200 * 1024) } }),
      );
      await record('rejected body of 390 KB', { body: `not json ${'y'.repeat(390 * 1024)}` });
      // Claim-checked bodies too large for an item: the summary item keeps the S3 location.
      const largeLabels = paddedLabelBody(JSON.stringify(SEED_EVENTS.BEFORE_UPDATE_LABELS), 1e6);
      await record('label event of 1 MB, claim-checked', { body: largeLabels }, true);
      await record('duplicate of it', { body: largeLabels }, true);
      await record(
        'rejected body of 1 MB, claim-checked',
        { body: `not json ${'z'.repeat(1e6)}` },
        true,
      );

      console.info(
        [
          '| write | Puts | of which failed their condition | computed units, Puts that succeeded | reported units | computed units, failed conditions (not reported) |',
          '| --- | --- | --- | --- | --- | --- |',
          ...rows,
        ].join('\n'),
      );
    });

    function units(write: WriteUnits): Units {
      return { table: write.table, indexes: write.indexes };
    }

    function sum(list: readonly Units[]): string {
      const table = list.reduce((total, entry) => total + entry.table, 0);
      const perIndex = INDEXES.map(
        ({ indexName }) =>
          `${indexName} ${list.reduce((total, entry) => total + (entry.indexes[indexName] ?? 0), 0)}`,
      );
      return [`table ${table}`, ...perIndex].join(', ');
    }
  },
);

/**
 * A document client on `dynamoDb` that asks every PutItem for ReturnConsumedCapacity
 * INDEXES and appends what DynamoDB reports (table and each GSI, 0 where it reports none).
 */
function measuring(
  dynamoDb: LocalDynamoDb,
  reported: Array<Omit<WriteUnits, 'total'>>,
): DynamoDBDocument {
  const client = new DynamoDBClient({ ...LOCAL_CLIENT_CONFIG, endpoint: dynamoDb.server.endpoint });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'PutItemCommand') return next(args);
      (args.input as PutItemCommandInput).ReturnConsumedCapacity = 'INDEXES';
      const result = await next(args);
      reported.push(reportedUnits((result.output as PutItemCommandOutput).ConsumedCapacity));
      return result;
    },
    { step: 'initialize', name: 'measureConsumedCapacity' },
  );
  return DynamoDBDocument.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

function reportedUnits(capacity: ConsumedCapacity | undefined): Omit<WriteUnits, 'total'> {
  const indexes: Record<string, number> = {};
  for (const { indexName } of INDEXES) {
    indexes[indexName] = capacity?.GlobalSecondaryIndexes?.[indexName]?.CapacityUnits ?? 0;
  }
  return { table: capacity?.Table?.CapacityUnits ?? 0, indexes };
}
