/**
 * SQS delivers at least once and in any order: the table must come out the same whatever
 * the order, the duplication and the batching.
 */

import type { SQSRecord } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { paddedLabelBody } from '../scripts/local/datasaur-sender.ts';
import { claimCheckedSqsRecord } from '../scripts/local/sqs-records.ts';
import { projectLifecycles, seededRandom, shuffle } from '../scripts/local/workload.ts';
import { restoredItem } from '../shared/store/items.ts';
import { s3BodyReader, s3BodyWriter } from '../shared/webhook/body-archive.ts';
import { startedForTests, startLocalDynamoDb, startLocalS3 } from './support/local-aws.ts';
import {
  type Delivery,
  sqsEvent,
  tableContents,
  workerOnFreshTable,
} from './support/webhook-records.ts';

const PROJECTS = 50;
const COPIES = 3;
const SEEDS = [1, 7, 2024];

/** Label events this large go through the archive (and their items keep only a summary). */
const LARGE_LABEL_BYTES = 600_000;

/**
 * Per project: CREATED, two label events, COMPLETED, an export delivery and REVIEWED, each
 * received half a minute after it happened. The run starts at 22:00 and lasts hours, so the
 * feed spans two day partitions; every fifth project is completed and reviewed at the same
 * instant (the tie rule decides); one label event in fifty is a large save.
 */
function projectDeliveries(): Delivery[] {
  const events = projectLifecycles({ projects: PROJECTS, labelEventsPerProject: 2 });
  let labelEvents = 0;
  return events.map((event) => {
    const isLabel = event.kind === 'BEFORE_UPDATE_LABELS';
    // One label event in fifty: two in the run.
    const large = isLabel && labelEvents++ % 50 === 49;
    return {
      body: large ? paddedLabelBody(event.body, LARGE_LABEL_BYTES) : event.body,
      method: event.method,
      receivedAt: new Date(Date.parse(event.time) + 30_000).toISOString(),
    };
  });
}

const dynamoDb = startedForTests(startLocalDynamoDb);
const s3 = startedForTests(startLocalS3);
let bucket: string;
beforeAll(async () => {
  bucket = await s3.createBucket();
});

/** A fresh table, its worker, and a way to read the whole table back. */
async function freshWorker() {
  const { tableName, handler } = await workerOnFreshTable(dynamoDb, {
    concurrency: 10,
    bodies: s3BodyReader(s3.s3),
  });
  return { handler, contents: () => tableContents(dynamoDb.documents, tableName) };
}

describe(`${PROJECTS} projects, each event delivered ${COPIES} times in random order and batches`, () => {
  const deliveries = projectDeliveries();
  let records: SQSRecord[];
  let inOrder: Record<string, unknown>[];

  beforeAll(async () => {
    // As the ingest enqueued them: each large body put in the archive once, a pointer queued.
    const writer = s3BodyWriter(s3.s3, bucket);
    records = [];
    for (const delivery of deliveries) records.push(await claimCheckedSqsRecord(delivery, writer));
    const worker = await freshWorker();
    for (const record of records) {
      const response = await worker.handler(sqsEvent([record]));
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
    const archived = inOrder.filter((item) => item.bodyObject !== undefined);
    expect(archived).toHaveLength(2);
    expect(archived.every((item) => restoredItem(item).itemType === 'labelEvent')).toBe(true);
  });

  it.each(SEEDS)('gives the same table with seed %i', async (seed) => {
    const next = seededRandom(seed);
    const copies = shuffle(
      records.flatMap((record) => Array.from({ length: COPIES }, () => record)),
      next,
    );
    const worker = await freshWorker();
    // Lambda runs several batches at once: up to three invocations overlap here.
    const batches: SQSRecord[][] = [];
    for (let index = 0; index < copies.length; ) {
      const size = 1 + Math.floor(next() * 10);
      batches.push(copies.slice(index, index + size));
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
