/**
 * Large events kept whole, against real servers (local-aws-sqs, dynalite, s3rver): the ingest
 * puts a body too large for a message in the archive and queues a pointer, the worker reads
 * and verifies it, the item keeps what the queries show, and the queries return the body.
 */
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { createIngestHandler } from '../functions/ingest/handler.ts';
import { createWorkerHandler } from '../functions/worker/handler.ts';
import { paddedLabelBody, seedEventBody } from '../scripts/local/datasaur-sender.ts';
import { createQueuePoller } from '../scripts/local/queue-poller.ts';
import { SEED_EVENTS } from '../scripts/local/seed-events.ts';
import { ensureBucket, LOCAL_CLIENT_CONFIG } from '../scripts/local/servers.ts';
import { rawSqsRecord, sqsEvent } from '../scripts/local/sqs-records.ts';
import { staticSecrets } from '../shared/runtime/secrets.ts';
import { createEventStore } from '../shared/store/event-store.ts';
import { restoredItem } from '../shared/store/items.ts';
import { documentPartition } from '../shared/store/keys.ts';
import { createQueries } from '../shared/store/queries.ts';
import { totalWriteUnits, writeUnits } from '../shared/store/write-units.ts';
import { s3BodyReader, s3BodyWriter } from '../shared/webhook/body-archive.ts';
import { type BodyReader, bodyKey, INLINE_BODY_BYTES } from '../shared/webhook/claim-check.ts';
import { DEFAULT_MAX_BODY_BYTES } from '../shared/webhook/ingest.ts';
import { interpretMessage } from '../shared/webhook/interpret.ts';
import { sdkQueueSender } from '../shared/webhook/sdk-queue-sender.ts';
import { eventIdOf } from '../shared/webhook/signature.ts';
import {
  drainQueue,
  startedForTests,
  startLocalDynamoDb,
  startLocalS3,
  startLocalSqs,
} from './support/local-aws.ts';
import { quietLogger, tableContents, withoutReceipts } from './support/webhook-records.ts';
import { signedEvent, TEST_SECRET } from './support/webhook-requests.ts';

const sqs = startedForTests(startLocalSqs);
const dynamoDb = startedForTests(startLocalDynamoDb);
const s3 = startedForTests(startLocalS3);

const TIMESTAMP = '2026-11-23T10:00:00.000Z';
const SEED_DOCUMENT_ID = SEED_EVENTS.BEFORE_UPDATE_LABELS.data.document.id;
const DEPLOYED_LENGTH_BUCKET = 'datasaurwebhooks-archivebucket49f1ac64-1a2b3c4d5e6f';
const labelEvent = (labels: number, documentId: string) =>
  seedEventBody('BEFORE_UPDATE_LABELS', { timestamp: TIMESTAMP, labels, documentId });

/** A fresh queue, bucket and table with the ingest, worker and queries wired to them. */
async function freshPipeline(options: { maxReceiveCount?: number } = {}) {
  const [queues, bucket, tableName] = await Promise.all([
    sqs.createQueues({ visibilityTimeoutSeconds: 1, maxReceiveCount: options.maxReceiveCount }),
    s3.createBucket(),
    dynamoDb.createTable(),
  ]);
  const bodies = s3BodyReader(s3.s3);
  const ingest = createIngestHandler({
    sqs: sdkQueueSender(sqs.sqs),
    queueUrl: queues.queueUrl,
    bodies: s3BodyWriter(s3.s3, bucket),
    secrets: staticSecrets([TEST_SECRET]),
    maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
    logger: quietLogger(),
  });
  const worker = createWorkerHandler({
    documents: dynamoDb.documents,
    tableName,
    bodies,
    logger: quietLogger(),
  });
  /** Every queued message as the record Lambda would deliver (received, so hidden for a while). */
  const records = async () =>
    (await drainQueue(sqs.sqs, queues.queueUrl)).map((message) =>
      rawSqsRecord(message.Body ?? '', Number(message.Attributes?.SentTimestamp ?? Date.now())),
    );
  return {
    queues,
    bucket,
    tableName,
    ingest,
    worker,
    records,
    queries: createQueries(dynamoDb.documents, tableName, { bodies }),
  };
}

describe('label events of any size up to the limit', () => {
  it.each([
    [1, 'inline'],
    [1_000, 'inline'],
    [5_000, 'archived'],
    [15_000, 'archived'],
  ])(
    'keeps %i upserts whole: acknowledged, stored once, returned as sent (%s)',
    async (labels, how) => {
      const pipeline = await freshPipeline();
      const documentId = `document-${labels}`;
      const body = labelEvent(labels, documentId);
      expect(Buffer.byteLength(body) > INLINE_BODY_BYTES).toBe(how === 'archived');

      const response = await pipeline.ingest(signedEvent(body));
      expect(response.statusCode).toBe(202);
      const records = await pipeline.records();
      expect(records).toHaveLength(1);
      // Delivered twice, as SQS may: stored once all the same.
      for (let delivery = 0; delivery < 2; delivery += 1) {
        expect((await pipeline.worker(sqsEvent(records))).batchItemFailures).toEqual([]);
      }

      const items = (await tableContents(dynamoDb.documents, pipeline.tableName))
        .filter((item) => item.pk === documentPartition(documentId))
        .map(restoredItem);
      expect(items).toHaveLength(1);
      expect(items[0]?.bodyObject !== undefined).toBe(how === 'archived');
      if (how === 'archived') {
        expect(items[0]).toMatchObject({
          labelCounts: { toUpsert: labels, toDelete: 0 },
          data: { document: { id: documentId }, owner: { email: 'user+1@datasaur.ai' } },
        });
      }

      const { items: views } = await pipeline.queries.documentLabels(documentId);
      expect(views).toHaveLength(1);
      expect(views[0]?.eventId).toBe(eventIdOf(body));
      expect(views[0]?.data).toEqual(JSON.parse(body).data);
      expect(views[0]).not.toHaveProperty('bodyObject');
    },
  );
});

describe('a pointer the worker cannot trust', () => {
  /** A claim-checked label event, acknowledged and still waiting in the queue. */
  async function acceptedLargeEvent() {
    const pipeline = await freshPipeline({ maxReceiveCount: 2 });
    const body = labelEvent(2_000, 'document-untrusted');
    const event = signedEvent(body);
    expect((await pipeline.ingest(event)).statusCode).toBe(202);
    const key = bodyKey(new Date(event.requestContext.timeEpoch), eventIdOf(body));
    return { pipeline, body, object: { Bucket: pipeline.bucket, Key: key } };
  }

  it('fails the record whose object is missing, and dead-letters it, storing nothing', async () => {
    const { pipeline, object } = await acceptedLargeEvent();
    await s3.s3.send(new DeleteObjectCommand(object));
    const poller = createQueuePoller({
      sqs: sqs.sqs,
      queueUrl: pipeline.queues.queueUrl,
      queueArn: pipeline.queues.queueArn,
      region: LOCAL_CLIENT_CONFIG.region,
      batchSize: 10,
      waitTimeSeconds: 1,
      logger: quietLogger(),
      handler: pipeline.worker,
    });
    const inDeadLetterQueue = async () => {
      const { Attributes } = await sqs.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: pipeline.queues.deadLetterQueueUrl,
          AttributeNames: ['ApproximateNumberOfMessages'],
        }),
      );
      return Number(Attributes?.ApproximateNumberOfMessages ?? 0);
    };
    const deadline = Date.now() + 20_000;
    while ((await inDeadLetterQueue()) === 0 && Date.now() < deadline) await poller.pollOnce();
    expect(await inDeadLetterQueue()).toBe(1);
    expect(await tableContents(dynamoDb.documents, pipeline.tableName)).toEqual([]);
  });

  it('fails the record whose object is not the body the pointer names', async () => {
    const { pipeline, object, body } = await acceptedLargeEvent();
    // Same size, one byte different: only the sha256 can tell.
    const altered = Buffer.from(body);
    altered[altered.length - 2] = 0x20;
    await s3.s3.send(new PutObjectCommand({ ...object, Body: altered }));
    const [record] = await pipeline.records();
    if (record === undefined) throw new Error('the event was not queued');
    const response = await pipeline.worker(sqsEvent([record]));
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(await tableContents(dynamoDb.documents, pipeline.tableName)).toEqual([]);
  });
});

describe('other large bodies', () => {
  it('keeps a rejected body too large for an item in the archive, and returns it', async () => {
    const pipeline = await freshPipeline();
    const body = `not JSON ${'x'.repeat(500_000)}`;
    expect((await pipeline.ingest(signedEvent(body))).statusCode).toBe(202);
    expect((await pipeline.worker(sqsEvent(await pipeline.records()))).batchItemFailures).toEqual(
      [],
    );
    const [item] = withoutReceipts(await tableContents(dynamoDb.documents, pipeline.tableName));
    expect(item).toMatchObject({ itemType: 'rejected', reason: 'body is not JSON' });
    expect(item).not.toHaveProperty('body');
    expect(item?.bodyObject).toMatchObject({ sha256: eventIdOf(body) });

    const day = 24 * 3600 * 1000;
    const range = {
      from: new Date(Date.now() - day).toISOString(),
      to: new Date(Date.now() + day).toISOString(),
    };
    const { items } = await pipeline.queries.rejectedAndUnknown(range);
    expect(items).toHaveLength(1);
    expect(items[0]?.body).toBe(body);
  });

  it('keeps an unknown event type too large for an item in the archive, and returns it', async () => {
    const pipeline = await freshPipeline();
    const event = {
      eventType: 'LABELS_IMPORTED',
      data: { timestamp: TIMESTAMP, rows: Array.from({ length: 45_000 }, (_, i) => `row ${i}`) },
    };
    const body = JSON.stringify(event);
    expect(Buffer.byteLength(body)).toBeGreaterThan(500_000);
    expect((await pipeline.ingest(signedEvent(body))).statusCode).toBe(202);
    expect((await pipeline.worker(sqsEvent(await pipeline.records()))).batchItemFailures).toEqual(
      [],
    );
    const [item] = withoutReceipts(await tableContents(dynamoDb.documents, pipeline.tableName));
    expect(item).toMatchObject({ itemType: 'unknownEvent', eventType: 'LABELS_IMPORTED' });
    expect(item).not.toHaveProperty('payload');
    const { items } = await pipeline.queries.rejectedAndUnknown({
      from: '2026-11-23T00:00:00.000Z',
      to: '2026-11-24T00:00:00.000Z',
    });
    expect(items[0]?.payload).toEqual(event);
  });
});

describe('what a 1 MB label event costs', () => {
  it('one S3 PUT, one S3 GET and four write units: its summary item, its feed and event-id entries', async () => {
    // As long as the name CloudFormation gives the archive bucket.
    const bucket = DEPLOYED_LENGTH_BUCKET;
    await ensureBucket(s3.s3, bucket);
    const [queues, tableName] = await Promise.all([sqs.createQueues(), dynamoDb.createTable()]);
    const writer = s3BodyWriter(s3.s3, bucket);
    const reader = s3BodyReader(s3.s3);
    const requests = { puts: 0, gets: 0 };
    const ingest = createIngestHandler({
      sqs: sdkQueueSender(sqs.sqs),
      queueUrl: queues.queueUrl,
      bodies: {
        put: (key, bytes) => {
          requests.puts += 1;
          return writer.put(key, bytes);
        },
      },
      secrets: staticSecrets([TEST_SECRET]),
      maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
      logger: quietLogger(),
    });
    const counting: BodyReader = {
      get: (object) => {
        requests.gets += 1;
        return reader.get(object);
      },
    };
    // The documented label event (its document, owner and team) grown to 1 MB by its labels.
    const body = paddedLabelBody(labelEvent(1, SEED_DOCUMENT_ID), 1_000_000);
    expect(Buffer.byteLength(body)).toBe(1_000_000);
    expect((await ingest(signedEvent(body))).statusCode).toBe(202);
    const [message] = await drainQueue(sqs.sqs, queues.queueUrl);
    const store = createEventStore(dynamoDb.documents, tableName);
    const recorded = await store.record(
      await interpretMessage(message?.Body ?? '', new Date(), counting),
    );

    expect(requests).toEqual({ puts: 1, gets: 1 });
    expect(recorded.writes).toHaveLength(1);
    // The summary item describes itself (type, ids, times) and passes 1 KB; its feed and
    // event-id (GSI3) entries are 1 unit each.
    expect(writeUnits(recorded.writes[0] ?? { item: {} })).toEqual({
      table: 2,
      indexes: { GSI1: 0, GSI2: 1, GSI3: 1, GSI4: 0 },
      total: 4,
    });
    expect(totalWriteUnits(recorded.writes)).toBe(4);
    // Its queue message is the pointer: one 64 KB SQS request whatever the body.
    expect(Buffer.byteLength(message?.Body ?? '')).toBeLessThan(1_024);
  });
});
