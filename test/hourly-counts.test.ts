import { describe, expect, it } from 'vitest';
import { createWorkerHandler } from '../functions/worker/handler.ts';
import { NO_ARCHIVE } from '../scripts/local/no-archive.ts';
import { SEED_EVENTS, SEED_EXPORT_DELIVERY } from '../scripts/local/seed-events.ts';
import {
  createHourlyCounts,
  HOURLY_COUNT_SHARDS,
  REJECTED_COUNT,
  UNKNOWN_COUNT,
} from '../shared/store/hourly-counts.ts';
import { PROJECT_SORT_KEY } from '../shared/store/keys.ts';
import { totalWriteUnits } from '../shared/store/write-units.ts';
import {
  documentsWithFaults,
  startedForTests,
  startLocalDynamoDb,
  throttlingError,
} from './support/local-aws.ts';
import { quietLogger, sqsEvent, sqsRecord, workerOnFreshTable } from './support/webhook-records.ts';

const dynamoDb = startedForTests(startLocalDynamoDb);

const post = (event: unknown, receivedAt: string) =>
  sqsRecord({ body: JSON.stringify(event), receivedAt });

describe('hourly counts kept by the worker', () => {
  it('counts each stored event once at its receive hour, by type, across batches and shards', async () => {
    const { tableName, handler } = await workerOnFreshTable(dynamoDb);
    const nine = '2026-03-01T09:15:00.000Z';
    const ten = '2026-03-01T10:59:59.000Z';
    await handler(
      sqsEvent([
        post(SEED_EVENTS.PROJECT_CREATED, nine),
        post(SEED_EVENTS.BEFORE_UPDATE_LABELS, nine),
        post({ eventType: 'PROJECT_ARCHIVED', data: { project: { id: 'p' } } }, nine),
        sqsRecord({ body: 'not json', receivedAt: ten }),
      ]),
    );
    // A redelivered label event (a duplicate) and an export, in a batch of their own.
    await handler(
      sqsEvent([
        post(SEED_EVENTS.BEFORE_UPDATE_LABELS, nine),
        sqsRecord({ body: JSON.stringify(SEED_EXPORT_DELIVERY), method: 'PUT', receivedAt: ten }),
      ]),
    );

    const counts = createHourlyCounts(dynamoDb.documents, tableName);
    expect(await counts.read('2026-03-01T00', '2026-03-01T23')).toEqual([
      {
        hour: '2026-03-01T09',
        counts: { PROJECT_CREATED: 1, BEFORE_UPDATE_LABELS: 1, [UNKNOWN_COUNT]: 1 },
      },
      { hour: '2026-03-01T10', counts: { [REJECTED_COUNT]: 1, EXPORT_DELIVERY: 1 } },
    ]);
    expect(await counts.read('2026-03-01T10', '2026-03-01T10')).toHaveLength(1);
  });

  it('sums every shard, and an update of a small counter item costs one write unit', async () => {
    const { tableName } = await workerOnFreshTable(dynamoDb);
    const counts = createHourlyCounts(dynamoDb.documents, tableName);
    const tally = new Map([['2026-03-02T08', new Map([['BEFORE_UPDATE_LABELS', 10]])]]);
    for (let shard = 0; shard < HOURLY_COUNT_SHARDS; shard += 1) {
      expect(totalWriteUnits(await counts.add(tally, shard))).toBe(1);
    }
    expect(await counts.read('2026-03-02T00', '2026-03-02T23')).toEqual([
      { hour: '2026-03-02T08', counts: { BEFORE_UPDATE_LABELS: 10 * HOURLY_COUNT_SHARDS } },
    ]);
  });

  it('counts an event once when its record fails after the event was stored', async () => {
    const tableName = await dynamoDb.createTable();
    // Dynalite does not throttle: the project's Query is refused once, as DynamoDB may.
    let refusals = 1;
    const documents = documentsWithFaults(dynamoDb, (input) => {
      if (!input.includes('KeyConditionExpression') || refusals === 0) return undefined;
      refusals -= 1;
      return throttlingError();
    });
    const handler = createWorkerHandler({
      documents,
      tableName,
      bodies: NO_ARCHIVE,
      logger: quietLogger(),
    });
    const record = post(SEED_EVENTS.PROJECT_CREATED, '2026-03-03T07:00:00.000Z');
    const first = await handler(sqsEvent([record]));
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    // The redelivery stores nothing new (a duplicate) and completes the project.
    const second = await handler(
      sqsEvent([{ ...record, attributes: { ...record.attributes, ApproximateReceiveCount: '2' } }]),
    );
    expect(second.batchItemFailures).toEqual([]);
    const counts = createHourlyCounts(dynamoDb.documents, tableName);
    expect(await counts.read('2026-03-03T00', '2026-03-03T23')).toEqual([
      { hour: '2026-03-03T07', counts: { PROJECT_CREATED: 1 } },
    ]);
  });

  it("sends the counters once the batch's events are stored, beside the project's refresh", async () => {
    const tableName = await dynamoDb.createTable();
    const calls: string[] = [];
    const documents = documentsWithFaults(dynamoDb, (input) => {
      const parsed = JSON.parse(input) as { UpdateExpression?: string; Item?: { sk?: string } };
      if (parsed.UpdateExpression !== undefined) calls.push('counters');
      else if (parsed.Item?.sk === PROJECT_SORT_KEY) calls.push('project');
      return undefined;
    });
    const handler = createWorkerHandler({
      documents,
      tableName,
      bodies: NO_ARCHIVE,
      logger: quietLogger(),
    });
    const response = await handler(
      sqsEvent([post(SEED_EVENTS.PROJECT_CREATED, '2026-03-04T11:00:00.000Z')]),
    );
    expect(response.batchItemFailures).toEqual([]);
    // Sent as the event's item is stored, while the project's partition is read: the
    // project's item is put only once that Query has answered.
    expect(calls).toEqual(['counters', 'project']);
    const counts = createHourlyCounts(dynamoDb.documents, tableName);
    expect(await counts.read('2026-03-04T00', '2026-03-04T23')).toEqual([
      { hour: '2026-03-04T11', counts: { PROJECT_CREATED: 1 } },
    ]);
  });
});
