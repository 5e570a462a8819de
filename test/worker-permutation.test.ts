/**
 * SQS delivers at least once and in any order: the table must come out the same whatever
 * the order, the duplication and the batching.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkerHandler } from '../functions/worker/handler.ts';
import { SEED_EVENTS } from '../shared/seed-events.ts';
import { type LocalDynamoDb, startLocalDynamoDb } from './support/local-aws.ts';
import {
  type Delivery,
  quietLogger,
  sqsEvent,
  sqsRecord,
  tableContents,
} from './support/webhook-records.ts';

const PROJECTS = 50;
const COPIES = 3;
const SEEDS = [1, 7, 2024];

/** mulberry32: a small seeded generator, so a failing seed can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: readonly T[], next: () => number): T[] {
  const shuffled = [...items];
  for (let index = shuffled.length - 1; index > 0; index -= 1) {
    const other = Math.floor(next() * (index + 1));
    [shuffled[index], shuffled[other]] = [shuffled[other] as T, shuffled[index] as T];
  }
  return shuffled;
}

const at = (minutes: number) => new Date(Date.UTC(2024, 2, 1, 22) + minutes * 60_000).toISOString();

/**
 * Per project: CREATED, COMPLETED, REVIEWED, two label events and an export delivery, in
 * time order. Every fifth project is completed and reviewed at the same instant (the tie
 * rule decides), and receive times cross midnight so the feed spans two day partitions.
 */
function projectLifecycles(): Delivery[] {
  const deliveries: Delivery[] = [];
  for (let project = 0; project < PROJECTS; project += 1) {
    const projectId = `project-${project}`;
    const team = { id: `team-${project % 5}` };
    const start = project * 7;
    const reviewedAt = project % 5 === 0 ? start + 3 : start + 5;
    const post = (event: unknown, minutes: number): Delivery => ({
      body: JSON.stringify(event),
      receivedAt: at(minutes + 0.5),
    });
    const labelEvent = (minutes: number, label: string) =>
      post(
        {
          ...SEED_EVENTS.BEFORE_UPDATE_LABELS,
          data: {
            ...SEED_EVENTS.BEFORE_UPDATE_LABELS.data,
            timestamp: at(minutes),
            document: { ...SEED_EVENTS.BEFORE_UPDATE_LABELS.data.document, id: `doc-${project}` },
            labelUpdateList: {
              toDeleteList: [],
              toUpsertList: [{ labelSetItemId: label, layer: 0, type: 'SPAN' }],
            },
            team,
          },
        },
        minutes,
      );
    deliveries.push(
      post(
        {
          eventType: 'PROJECT_CREATED',
          data: {
            timestamp: at(start),
            project: { id: projectId, name: `name-${project}`, tags: ['CUSTOM'] },
            team: { ...team, name: `Team ${project % 5}` },
          },
        },
        start,
      ),
      labelEvent(start + 1, 'geo'),
      labelEvent(start + 2, 'person'),
      post(
        {
          eventType: 'PROJECT_COMPLETED',
          data: {
            timestamp: at(start + 3),
            labeler: { id: `labeler-${project}` },
            project: { id: projectId, name: `name-${project}` },
            team,
          },
        },
        start + 3,
      ),
      {
        body: JSON.stringify({ userId: project, fileUrl: `https://x/${projectId}.zip`, projectId }),
        method: 'PUT',
        receivedAt: at(start + 4),
      },
      post(
        {
          eventType: 'PROJECT_REVIEWED',
          data: {
            timestamp: at(reviewedAt),
            reviewer: { id: `reviewer-${project}` },
            project: { id: projectId, name: `name-${project}`, tags: ['CUSTOM', 'REVIEWED'] },
            team,
          },
        },
        reviewedAt,
      ),
    );
  }
  return deliveries;
}

let dynamoDb: LocalDynamoDb;
beforeAll(async () => {
  dynamoDb = await startLocalDynamoDb();
});
afterAll(async () => {
  await dynamoDb.close();
});

async function workerOnFreshTable() {
  const tableName = await dynamoDb.createTable();
  const handler = createWorkerHandler({
    documents: dynamoDb.documents,
    tableName,
    logger: quietLogger(),
    concurrency: 10,
  });
  return { handler, contents: () => tableContents(dynamoDb.documents, tableName) };
}

describe(`${PROJECTS} projects, each event delivered ${COPIES} times in random order and batches`, () => {
  const deliveries = projectLifecycles();
  let inOrder: Record<string, unknown>[];

  beforeAll(async () => {
    const worker = await workerOnFreshTable();
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
    const next = random(seed);
    const records = shuffle(
      deliveries.flatMap((delivery) => Array.from({ length: COPIES }, () => sqsRecord(delivery))),
      next,
    );
    const worker = await workerOnFreshTable();
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
