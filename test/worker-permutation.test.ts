/**
 * SQS delivers at least once and in any order: the table must come out the same whatever
 * the order, the duplication and the batching.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectLifecycles, seededRandom, shuffle } from '../scripts/local/workload.ts';
import { type LocalDynamoDb, startLocalDynamoDb } from './support/local-aws.ts';
import {
  type Delivery,
  sqsEvent,
  sqsRecord,
  tableContents,
  workerOnFreshTable,
} from './support/webhook-records.ts';

const PROJECTS = 50;
const COPIES = 3;
const SEEDS = [1, 7, 2024];

/**
 * Per project: CREATED, two label events, COMPLETED, an export delivery and REVIEWED, each
 * received half a minute after it happened. The run starts at 22:00 and lasts hours, so the
 * feed spans two day partitions; every fifth project is completed and reviewed at the same
 * instant (the tie rule decides).
 */
function projectDeliveries(): Delivery[] {
  return projectLifecycles({ projects: PROJECTS, labelEventsPerProject: 2 }).map((event) => ({
    body: event.body,
    method: event.method,
    receivedAt: new Date(Date.parse(event.time) + 30_000).toISOString(),
  }));
}

let dynamoDb: LocalDynamoDb;
beforeAll(async () => {
  dynamoDb = await startLocalDynamoDb();
});
afterAll(async () => {
  await dynamoDb.close();
});

/** A fresh table, its worker, and a way to read the whole table back. */
async function freshWorker() {
  const { tableName, handler } = await workerOnFreshTable(dynamoDb, { concurrency: 10 });
  return { handler, contents: () => tableContents(dynamoDb.documents, tableName) };
}

describe(`${PROJECTS} projects, each event delivered ${COPIES} times in random order and batches`, () => {
  const deliveries = projectDeliveries();
  let inOrder: Record<string, unknown>[];

  beforeAll(async () => {
    const worker = await freshWorker();
    for (const delivery of deliveries) {
      const response = await worker.handler(sqsEvent([sqsRecord(delivery)]));
      expect(response.batchItemFailures).toEqual([]);
    }
    inOrder = await worker.contents();
  });

  it('builds the expected table when processed in order', () => {
    expect(deliveries).toHaveLength(PROJECTS * 6);
    // Every event item, one item per project, and the first receipt of each export.
    expect(inOrder).toHaveLength(PROJECTS * 6 + PROJECTS + PROJECTS);
    const projects = inOrder.filter((item) => item.itemType === 'project');
    expect(projects.every((project) => project.status === 'REVIEWED')).toBe(true);
  });

  it.each(SEEDS)('gives the same table with seed %i', async (seed) => {
    const next = seededRandom(seed);
    const records = shuffle(
      deliveries.flatMap((delivery) => Array.from({ length: COPIES }, () => sqsRecord(delivery))),
      next,
    );
    const worker = await freshWorker();
    // Lambda runs several batches at once: up to three invocations overlap here.
    const batches: (typeof records)[] = [];
    for (let index = 0; index < records.length; ) {
      const size = 1 + Math.floor(next() * 10);
      batches.push(records.slice(index, index + size));
      index += size;
    }
    for (let index = 0; index < batches.length; index += 3) {
      const responses = await Promise.all(
        batches.slice(index, index + 3).map((batch) => worker.handler(sqsEvent(batch))),
      );
      for (const response of responses) expect(response.batchItemFailures).toEqual([]);
    }
    expect(await worker.contents()).toEqual(inOrder);
  });
});
