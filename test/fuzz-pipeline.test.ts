/**
 * Hostile signed bodies through the whole worker path, against real local servers: each body
 * is queued as the ingest queues a signed webhook (its envelope) on a local-aws-sqs queue
 * with a DLQ after ONE receive, received from it, and handed to the worker handler
 * in-process, which stores it (dynalite, or DynamoDB Local in the conformance run), publishes
 * it (the local EventBridge endpoint) and asks for its export (a local export queue). Every
 * message must end stored or rejected on its first receive: a message whose content a later
 * step refuses would come back and land in the DLQ. The bodies aim at the limits: ids longer
 * than a DynamoDB key, timestamps `Date.parse` takes and nothing else does, numbers DynamoDB
 * refuses, deep nesting, file URLs that are not URLs.
 */
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createWorkerHandler } from '../functions/worker/handler.ts';
import { NO_ARCHIVE } from '../scripts/local/no-archive.ts';
import { SEED_EVENTS, SEED_EXPORT_DELIVERY } from '../scripts/local/seed-events.ts';
import { LOCAL_CLIENT_CONFIG } from '../scripts/local/servers.ts';
import { toSqsRecord } from '../scripts/local/sqs-records.ts';
import { createExportQueue } from '../shared/export/export-queue.ts';
import { exportRequestSchema } from '../shared/export/export-trigger.ts';
import { restoredItem } from '../shared/store/items.ts';
import { eventIdInSortKey } from '../shared/store/keys.ts';
import { encodeEnvelope } from '../shared/webhook/envelope-encoder.ts';
import { sdkQueueSender } from '../shared/webhook/sdk-queue-sender.ts';
import { eventIdOf } from '../shared/webhook/signature.ts';
import {
  drainQueue,
  type LocalDynamoDb,
  type LocalSqs,
  startLocalDynamoDb,
  startLocalSqs,
} from './support/local-aws.ts';
import { startTestEventBus, type TestEventBus } from './support/local-events.ts';
import { quietLogger, sqsEvent, tableContents } from './support/webhook-records.ts';

const RUNS = 2_000;
const BATCH_SIZE = 10;
const RECEIVED_AT = '2024-03-01T12:00:00.000Z';

let dynamoDb: LocalDynamoDb;
let sqs: LocalSqs;
let eventBus: TestEventBus;
beforeAll(async () => {
  [dynamoDb, sqs, eventBus] = await Promise.all([
    startLocalDynamoDb(),
    startLocalSqs(),
    startTestEventBus(),
  ]);
});
afterAll(async () => {
  await Promise.all([dynamoDb.close(), sqs.close(), eventBus.close()]);
});

/** Strings around the limits: empty, long, very long, multi-byte, half a surrogate pair. */
const hostileString = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.constantFrom('', ' ', '#', 'é'.repeat(600), '𝄞'.repeat(300), '\ud800', 'a\udfffb', '𝄞\ud834'),
  fc.integer({ min: 900, max: 2_200 }).map((length) => 'x'.repeat(length)),
);

/** Timestamps `Date.parse` accepts (and some it does not) that the pipeline may not. */
const hostileTimestamp = fc.oneof(
  fc.constantFrom(
    '+275760-09-13T00:00:00.000Z',
    '+010000-01-01T00:00:00.000Z',
    '-000001-01-01T00:00:00.000Z',
    '10000-01-01',
    '0000-01-01T00:00:00Z',
    '1',
    'March 7, 2024',
    '2024-02-30T00:00:00Z',
    '2024-03-01T12:00:00+14:00',
    'not a time',
  ),
  fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
  fc.integer().map(String),
);

/** Numbers DynamoDB refuses or cannot hold exactly, and ordinary ones. */
const hostileNumber = fc.oneof(
  fc.constantFrom(1e-131, -1e-200, 5e-324, 1e126, 2 ** 53 + 2, 1e308, 0, -0, 1e-130, 0.1),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

const nested = fc.integer({ min: 28, max: 36 }).map((depth) => {
  let value: unknown = 'bottom';
  for (let level = 0; level < depth; level++) value = [value];
  return value;
});

const hostileValue = fc.oneof(
  hostileString,
  hostileNumber,
  hostileTimestamp,
  nested,
  fc.jsonValue({ maxDepth: 3 }),
);

/** A known event with one field (at any of these paths) replaced by a hostile value. */
const mutatedEvent = fc
  .tuple(
    fc.constantFrom(...Object.values(SEED_EVENTS)),
    fc.constantFrom(
      ['data', 'timestamp'],
      ['data', 'project', 'id'],
      ['data', 'project', 'name'],
      ['data', 'team', 'id'],
      ['data', 'document', 'id'],
      ['data', 'labeler', 'id'],
      ['data', 'owner'],
      ['data', 'extra'],
      // Keys the DynamoDB document client reads as the object's type.
      ['data', 'project', 'constructor'],
      ['data', '__proto__'],
    ),
    hostileValue,
  )
  .map(([event, path, value]) => {
    const copy = structuredClone(event) as Record<string, unknown>;
    let target = copy;
    for (const key of path.slice(0, -1)) {
      const next = target[key];
      if (typeof next !== 'object' || next === null) return JSON.stringify(copy);
      target = next as Record<string, unknown>;
    }
    // An own key whatever its name, as JSON.parse makes it (`__proto__` included).
    Object.defineProperty(target, path.at(-1) as string, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
    return JSON.stringify(copy);
  });

/** Export deliveries (PUT) with hostile project ids and file URLs. */
const hostileDelivery = fc
  .record({
    fileUrl: fc.oneof(
      fc.constantFrom(
        'not a url',
        'file:///etc/passwd',
        'http://169.254.169.254/latest/meta-data/',
        'https://[::1]/x',
        `https://example.com/${'a'.repeat(9_000)}`,
        SEED_EXPORT_DELIVERY.fileUrl,
      ),
      hostileString,
      fc.webUrl(),
    ),
    projectId: hostileString,
    userId: fc.oneof(hostileString, hostileNumber),
  })
  .map((delivery) => JSON.stringify(delivery));

/** Unknown event types with hostile timestamps and payloads. */
const unknownEvent = fc
  .record({
    eventType: fc.oneof(fc.constant('NEW_EVENT'), hostileString),
    data: fc.record({ timestamp: hostileTimestamp, value: hostileValue }),
  })
  .map((event) => JSON.stringify(event));

const signed = fc.oneof(
  { weight: 6, arbitrary: mutatedEvent.map((body) => ({ body, method: 'POST' as const })) },
  { weight: 2, arbitrary: hostileDelivery.map((body) => ({ body, method: 'PUT' as const })) },
  { weight: 2, arbitrary: unknownEvent.map((body) => ({ body, method: 'POST' as const })) },
);

it(`files ${RUNS} hostile signed bodies stored or rejected on their first receive, nothing in the DLQ`, async () => {
  const [webhookQueues, exportQueues, tableName] = await Promise.all([
    // One receive: a message the worker fails even once goes to the DLQ.
    sqs.createQueues({ maxReceiveCount: 1, visibilityTimeoutSeconds: 1 }),
    sqs.createQueues(),
    dynamoDb.createTable(),
  ]);
  const worker = createWorkerHandler({
    documents: dynamoDb.documents,
    tableName,
    bodies: NO_ARCHIVE,
    logger: quietLogger(),
    concurrency: 10,
    publisher: eventBus.publisher({ maxAttempts: 1 }),
    publishLabelEvents: true,
    exports: {
      exportOn: 'both',
      queue: createExportQueue(sdkQueueSender(sqs.sqs), exportQueues.queueUrl),
    },
  });

  // The same bodies every run; each eventId is a different body (the eventId hashes it).
  const deliveries = new Map<string, { body: string; method: 'POST' | 'PUT' }>();
  for (const delivery of fc.sample(signed, { numRuns: 2 * RUNS, seed: 20261206 })) {
    if (deliveries.size === RUNS) break;
    deliveries.set(eventIdOf(Buffer.from(delivery.body)), delivery);
  }
  expect(deliveries.size).toBe(RUNS);
  const messages = [...deliveries].map(([eventId, { body, method }]) =>
    encodeEnvelope(Buffer.from(body), {
      eventId,
      receivedAt: RECEIVED_AT,
      method,
      requestId: 'fuzz',
      sourceIp: '203.0.113.7',
      userAgent: 'Datasaur',
    }),
  );
  for (let start = 0; start < messages.length; start += BATCH_SIZE) {
    await sqs.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: webhookQueues.queueUrl,
        Entries: messages.slice(start, start + BATCH_SIZE).map((body, index) => ({
          Id: String(index),
          MessageBody: body,
        })),
      }),
    );
  }

  const received = await drainQueue(sqs.sqs, webhookQueues.queueUrl);
  expect(received).toHaveLength(messages.length);
  for (let start = 0; start < received.length; start += BATCH_SIZE) {
    const batch = received.slice(start, start + BATCH_SIZE);
    const records = batch.map((message) =>
      toSqsRecord(message, {
        queueArn: webhookQueues.queueArn,
        region: LOCAL_CLIENT_CONFIG.region,
      }),
    );
    expect(records.map((record) => record.attributes.ApproximateReceiveCount)).toEqual(
      records.map(() => '1'),
    );
    const response = await worker(sqsEvent(records));
    expect(response.batchItemFailures).toEqual([]);
    await sqs.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: webhookQueues.queueUrl,
        Entries: batch.map((message, index) => ({
          Id: String(index),
          ReceiptHandle: String(message.ReceiptHandle),
        })),
      }),
    );
  }

  // Nothing left to come back, nothing dead-lettered.
  for (const queueUrl of [webhookQueues.queueUrl, webhookQueues.deadLetterQueueUrl]) {
    const { Attributes } = await sqs.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    expect(Attributes).toMatchObject({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
    });
  }

  // Each body filed once, as one kind of item.
  const filed = new Map<string, string>();
  for (const item of await tableContents(dynamoDb.documents, tableName)) {
    if (typeof item.gsi2sk !== 'string') continue;
    const eventId = eventIdInSortKey(String(item.sk));
    expect(filed.has(eventId), `event ${eventId} filed twice`).toBe(false);
    filed.set(eventId, String(restoredItem(item).itemType));
  }
  expect(new Set(filed.keys())).toEqual(new Set(deliveries.keys()));

  // Every export request the worker queued is one the exporter accepts.
  for (const request of await drainQueue(sqs.sqs, exportQueues.queueUrl)) {
    expect(exportRequestSchema().safeParse(JSON.parse(String(request.Body))).success).toBe(true);
  }

  const counts: Record<string, number> = {};
  for (const type of filed.values()) counts[type] = (counts[type] ?? 0) + 1;
  console.info('pipeline fuzz: items per type', counts);
  // The generators reach both outcomes in numbers.
  expect(counts.rejected).toBeGreaterThan(RUNS / 10);
  expect((counts.projectEvent ?? 0) + (counts.export ?? 0)).toBeGreaterThan(RUNS / 10);
}, 300_000);
