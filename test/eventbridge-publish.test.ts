/**
 * Publishing on EventBridge through the real SDK client and the local PutEvents endpoint:
 * the detail of each type, at-least-once publication across redeliveries and crashes,
 * partial failures retried entry by entry, and the 10-entry / 1 MiB call limits.
 */

import type { SQSRecord } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import type { WorkerHandler } from '../functions/worker/handler.ts';
import { NO_ARCHIVE } from '../scripts/local/no-archive.ts';
import { SEED_EVENTS, SEED_EXPORT_DELIVERY } from '../scripts/local/seed-events.ts';
import {
  type BusEvent,
  busEventOf,
  DETAIL_SCHEMAS,
  eventJsonSchema,
} from '../shared/bus/bus-events.ts';
import type { BusPublisher } from '../shared/bus/bus-publisher.ts';
import { publishExportArchived } from '../shared/bus/publication.ts';
import { withProject } from '../shared/store/document-projects.ts';
import { createHourlyCounts } from '../shared/store/hourly-counts.ts';
import { type EventItem, eventItem } from '../shared/store/items.ts';
import { rejectedKey } from '../shared/store/keys.ts';
import { interpretMessage } from '../shared/webhook/interpret.ts';
import { eventIdOf } from '../shared/webhook/signature.ts';
import { startedForTests, startLocalDynamoDb } from './support/local-aws.ts';
import { startTestEventBus } from './support/local-events.ts';
import { RECEIVED_AT, sqsEvent, sqsRecord, workerOnFreshTable } from './support/webhook-records.ts';

const dynamoDb = startedForTests(startLocalDynamoDb);
const events = startedForTests(startTestEventBus);
beforeEach(() => {
  events.clear();
  events.bus.injectEntryFaults(undefined);
});

const idOf = (body: unknown) => eventIdOf(Buffer.from(JSON.stringify(body)));
const person = { id: '1', email: 'user+1@datasaur.ai', username: '', name: '' };

describe('the detail of each type', () => {
  it('publishes every stored event type once, with its documented detail', async () => {
    const { handler } = await workerOnFreshTable(dynamoDb, {
      publisher: events.publisher(),
      publishLabelEvents: true,
    });
    const rejectedBody = '{"eventType":"PROJECT_CREATED","data":{}}';
    const records = [
      ...Object.values(SEED_EVENTS).map((body) => sqsRecord({ body: JSON.stringify(body) })),
      sqsRecord({ body: JSON.stringify(SEED_EXPORT_DELIVERY), method: 'PUT' }),
      sqsRecord({ body: rejectedBody }),
    ];
    const response = await handler(sqsEvent(records));
    expect(response.batchItemFailures).toEqual([]);

    const byType = Object.fromEntries(
      events.events().map((event) => [event['detail-type'], event]),
    );
    expect(Object.keys(byType).sort()).toEqual([
      'Event Rejected',
      'Export Delivered',
      'Labels Updated',
      'Project Completed',
      'Project Created',
      'Project Reviewed',
    ]);
    for (const event of Object.values(byType)) {
      expect(event.source).toBe('datasaur.webhooks');
      expect(
        DETAIL_SCHEMAS[event['detail-type'] as keyof typeof DETAIL_SCHEMAS]().parse(event.detail),
      ).toEqual(event.detail);
    }
    const created = SEED_EVENTS.PROJECT_CREATED;
    expect(byType['Project Created']?.detail).toEqual({
      version: 1,
      eventId: idOf(created),
      eventTime: '2023-11-17T09:02:45.258Z',
      receivedAt: RECEIVED_AT,
      item: { pk: 'PROJECT#N2E4MjNlYTc', sk: `EVENT#2023-11-17T09:02:45.258Z#${idOf(created)}` },
      projectId: 'N2E4MjNlYTc',
      projectName: 'hamlet.TXT',
      tags: ['CUSTOM'],
      teamId: '1',
      teamName: "User's Team Workspace",
      status: 'CREATED',
    });
    const completed = SEED_EVENTS.PROJECT_COMPLETED;
    expect(byType['Project Completed']?.detail).toEqual({
      version: 1,
      eventId: idOf(completed),
      eventTime: '2023-11-17T09:52:57.478Z',
      receivedAt: RECEIVED_AT,
      item: { pk: 'PROJECT#ZTYzZjRhYjE', sk: `EVENT#2023-11-17T09:52:57.478Z#${idOf(completed)}` },
      projectId: 'ZTYzZjRhYjE',
      projectName: 'hamlet.TXT',
      tags: ['CUSTOM'],
      teamId: '1',
      status: 'COMPLETED',
      completedBy: person,
    });
    const reviewed = SEED_EVENTS.PROJECT_REVIEWED;
    expect(byType['Project Reviewed']?.detail).toEqual({
      version: 1,
      eventId: idOf(reviewed),
      eventTime: '2023-11-17T09:53:23.514Z',
      receivedAt: RECEIVED_AT,
      item: { pk: 'PROJECT#ZTYzZjRhYjE', sk: `EVENT#2023-11-17T09:53:23.514Z#${idOf(reviewed)}` },
      projectId: 'ZTYzZjRhYjE',
      projectName: 'hamlet.TXT',
      tags: ['CUSTOM'],
      teamId: '1',
      status: 'REVIEWED',
      reviewedBy: person,
    });
    const labels = SEED_EVENTS.BEFORE_UPDATE_LABELS;
    expect(byType['Labels Updated']?.detail).toEqual({
      version: 1,
      eventId: idOf(labels),
      eventTime: '2023-11-17T09:49:54.108Z',
      receivedAt: RECEIVED_AT,
      item: {
        pk: 'DOCUMENT#cdf0631f-66b6-4330-be05-4c87fd169afb',
        sk: `EVENT#2023-11-17T09:49:54.108Z#${idOf(labels)}`,
      },
      documentId: 'cdf0631f-66b6-4330-be05-4c87fd169afb',
      documentName: 'hamlet.TXT',
      fileName: 'hamlet.TXT',
      teamId: '1',
      isReviewDocument: false,
      owner: person,
      upserts: 1,
      deletes: 0,
    });
    const delivery = idOf(SEED_EXPORT_DELIVERY);
    expect(byType['Export Delivered']?.detail).toEqual({
      version: 1,
      eventId: delivery,
      eventTime: RECEIVED_AT,
      receivedAt: RECEIVED_AT,
      item: { pk: 'PROJECT#ZTYzZjRhYjE', sk: `EVENT#${RECEIVED_AT}#${delivery}` },
      projectId: 'ZTYzZjRhYjE',
      userId: '1',
    });
    // The pre-signed link is a credential: never on the bus.
    expect(JSON.stringify(byType)).not.toContain(SEED_EXPORT_DELIVERY.fileUrl);
    const rejected = eventIdOf(Buffer.from(rejectedBody));
    expect(byType['Event Rejected']?.detail).toEqual({
      version: 1,
      eventId: rejected,
      eventTime: RECEIVED_AT,
      receivedAt: RECEIVED_AT,
      item: rejectedKey(RECEIVED_AT, rejected),
      reason: expect.stringContaining('PROJECT_CREATED does not match its schema'),
    });
  });

  it('publishes Export Archived for the exporter, with the same id each time', async () => {
    const archived = {
      projectId: 'P1',
      teamId: '1',
      status: 'REVIEWED',
      statusAt: '2023-11-17T09:53:23.514Z',
      exportId: 'export-1',
      bucket: 'archive-bucket',
      key: 'exports/1/P1/REVIEWED-2023-11-17T09:53:23.514Z.zip',
      bytes: 1234,
      sha256: 'a'.repeat(64),
      format: 'json_advanced',
      archivedAt: '2023-11-17T09:55:00.000Z',
    };
    const first = await publishExportArchived(events.publisher(), archived);
    const again = await publishExportArchived(events.publisher(), archived);
    expect(again.detail.eventId).toBe(first.detail.eventId);
    const put = events.events();
    expect(put.map((event) => event['detail-type'])).toEqual([
      'Export Archived',
      'Export Archived',
    ]);
    expect(put[0]?.detail).toEqual({
      version: 1,
      eventId: first.detail.eventId,
      eventTime: archived.archivedAt,
      ...archived,
    });
    await expect(
      publishExportArchived(events.publisher(), { ...archived, sha256: 'not a digest' }),
    ).rejects.toThrow(/InvalidDetail/);
  });

  it('publishes label events only when publishLabelEvents is on', async () => {
    const body = JSON.stringify(SEED_EVENTS.BEFORE_UPDATE_LABELS);
    const off = await workerOnFreshTable(dynamoDb, { publisher: events.publisher() });
    await off.handler(sqsEvent([sqsRecord({ body })]));
    expect(events.events()).toEqual([]);
    const on = await workerOnFreshTable(dynamoDb, {
      publisher: events.publisher(),
      publishLabelEvents: true,
    });
    await on.handler(sqsEvent([sqsRecord({ body })]));
    expect(events.events().map((event) => event['detail-type'])).toEqual(['Labels Updated']);
  });
});

/** 300 events of every kind, each delivered 3 times as separate messages. */
function deliveries(): SQSRecord[] {
  const records: SQSRecord[] = [];
  for (let index = 0; index < 300; index++) {
    const kind = index % 4;
    const timestamp = new Date(Date.UTC(2024, 2, 1, 10, 0, index)).toISOString();
    const labels = SEED_EVENTS.BEFORE_UPDATE_LABELS;
    const project = SEED_EVENTS.PROJECT_REVIEWED;
    const body =
      kind === 3
        ? { ...labels, data: { ...labels.data, timestamp, document: { id: `D${index}` } } }
        : {
            ...project,
            eventType: ['PROJECT_CREATED', 'PROJECT_COMPLETED', 'PROJECT_REVIEWED'][kind],
            data: { ...project.data, timestamp, project: { id: `P${index}` } },
          };
    for (let delivery = 0; delivery < 3; delivery++) {
      const record = sqsRecord({
        body: JSON.stringify(body),
        receivedAt: new Date(Date.parse(RECEIVED_AT) + delivery * 1000).toISOString(),
      });
      records.push({ ...record, messageId: `${index}-${delivery}` });
    }
  }
  return records;
}

/** A deterministic shuffle (a linear congruential generator), so a failure replays. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const result = [...items];
  let state = seed;
  for (let index = result.length - 1; index > 0; index--) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    const other = state % (index + 1);
    [result[index], result[other]] = [result[other] as T, result[index] as T];
  }
  return result;
}

/**
 * A publisher whose `publish` dies for the batches `crashes` names: what the worker sees when
 * its process is killed after storing a batch and before publishing it. No server can
 * produce a crash, so this wraps the real publisher; the queue then hands the whole batch
 * out again, as SQS does after a failed invocation.
 */
function crashingOn(publisher: BusPublisher, crashes: Set<string>): BusPublisher {
  return {
    target: publisher.target,
    publish: (publications) => {
      if (publications.some(({ id }) => crashes.has(String(id)))) {
        return Promise.reject(new Error('worker crashed before publishing'));
      }
      return publisher.publish(publications);
    },
  };
}

/** The event a delivery carries: its deliveries share the body but for the receive time. */
function eventKey(record: SQSRecord): string {
  return record.messageId.split('-')[0] as string;
}

function redelivered(record: SQSRecord): SQSRecord {
  const count = Number(record.attributes.ApproximateReceiveCount) + 1;
  return {
    ...record,
    attributes: { ...record.attributes, ApproximateReceiveCount: String(count) },
  };
}

describe('after the batch is stored', () => {
  it('updates the hourly counters while it publishes, not after: one round trip less', async () => {
    const counted: { tableName?: string } = {};
    const countsSeen = async (): Promise<boolean> => {
      if (counted.tableName === undefined) return false;
      const counts = createHourlyCounts(dynamoDb.documents, counted.tableName);
      return (await counts.read('2000-01-01T00', '2999-12-31T23')).length > 0;
    };
    // Publishes only once the counters are written: a worker that counted after publishing
    // would leave this waiting until its deadline, and the record would fail.
    const publisher = events.publisher();
    const waitingForCounts: BusPublisher = {
      target: publisher.target,
      publish: async (publications) => {
        const deadline = Date.now() + 10_000;
        while (!(await countsSeen())) {
          if (Date.now() > deadline) throw new Error('the hourly counters were not written');
          await new Promise((resolve) => setImmediate(resolve));
        }
        return publisher.publish(publications);
      },
    };
    const { tableName, handler } = await workerOnFreshTable(dynamoDb, {
      publisher: waitingForCounts,
    });
    counted.tableName = tableName;
    const response = await handler(
      sqsEvent([sqsRecord({ body: JSON.stringify(SEED_EVENTS.PROJECT_CREATED) })]),
    );
    expect(response.batchItemFailures).toEqual([]);
    expect(events.events().map((event) => event['detail-type'])).toEqual(['Project Created']);
  }, 30_000);
});

describe('publishing across redeliveries', () => {
  it('300 events ×3 deliveries, shuffled, with crashes between store and publish', async () => {
    const crashes = new Set<string>();
    const { handler } = await workerOnFreshTable(dynamoDb, {
      publisher: crashingOn(events.publisher(), crashes),
      publishLabelEvents: true,
    });
    const all = shuffled(deliveries(), 7);
    expect(all).toHaveLength(900);
    let expectedPublications = 0;
    let crashed = 0;

    /** One queue consumer; each lane gets its own events, so lanes never share one. */
    const lane = async (queue: SQSRecord[]) => {
      const stored = new Set<string>();
      for (let batchNumber = 1; queue.length > 0; batchNumber++) {
        const batch = queue.splice(0, 10);
        // Every fifth batch of first deliveries crashes after storing.
        const crash =
          batchNumber % 5 === 0 &&
          batch.every((record) => record.attributes.ApproximateReceiveCount === '1');
        if (crash) for (const record of batch) crashes.add(record.messageId);
        const response = await invoke(handler, batch);
        if (response === 'crashed') {
          crashed += 1;
          for (const record of batch) {
            stored.add(eventKey(record));
            crashes.delete(record.messageId);
          }
          // The whole batch comes back, received once more.
          queue.push(...batch.map(redelivered));
          continue;
        }
        expect(response).toEqual([]);
        for (const record of batch) {
          const firstStore = !stored.has(eventKey(record));
          stored.add(eventKey(record));
          const redelivery = record.attributes.ApproximateReceiveCount !== '1';
          if (firstStore || redelivery) expectedPublications += 1;
        }
      }
    };
    const lanes = 3;
    await Promise.all(
      Array.from({ length: lanes }, (_, index) =>
        lane(all.filter((record) => Number(eventKey(record)) % lanes === index)),
      ),
    );
    expect(crashed).toBeGreaterThan(5);

    const put = events.events();
    const perEvent = new Map<string, number>();
    for (const event of put) {
      const id = String(event.detail.eventId);
      perEvent.set(id, (perEvent.get(id) ?? 0) + 1);
    }
    // Every event published at least once; exactly as many publications as first stores
    // plus redeliveries after a crash.
    expect(perEvent.size).toBe(300);
    expect(put.length).toBe(expectedPublications);
    expect(put.length).toBeGreaterThan(300);
  }, 60_000);
});

/** Runs one batch as Lambda would: a rejected invocation means every record comes back. */
async function invoke(
  handler: WorkerHandler,
  batch: SQSRecord[],
): Promise<'crashed' | { itemIdentifier: string }[]> {
  try {
    return (await handler(sqsEvent(batch))).batchItemFailures;
  } catch {
    return 'crashed';
  }
}

describe('PutEvents limits and partial failures', () => {
  const rejectedEvent = (index: number, reason = 'x'): BusEvent => ({
    detailType: 'Event Rejected',
    detail: {
      version: 1,
      eventId: `event-${index}`,
      eventTime: RECEIVED_AT,
      receivedAt: RECEIVED_AT,
      item: rejectedKey(RECEIVED_AT, `event-${index}`),
      reason,
    },
  });

  it('retries only the entries a call reports as failed', async () => {
    const failedOnce = new Set<string>();
    // Every third entry fails on its first attempt, as under throttling.
    events.bus.injectEntryFaults((entry) => {
      const { eventId } = JSON.parse(String(entry.Detail)) as { eventId: string };
      if (Number(eventId.split('-')[1]) % 3 !== 0 || failedOnce.has(eventId)) return undefined;
      failedOnce.add(eventId);
      return 'ThrottlingException';
    });
    const publications = Array.from({ length: 25 }, (_, index) => ({
      id: index,
      event: rejectedEvent(index),
    }));
    const outcome = await events.publisher().publish(publications);
    expect(failedOnce.size).toBe(9);
    expect(outcome.failed).toEqual([]);
    expect(outcome.published.sort((a, b) => a - b)).toEqual(publications.map(({ id }) => id));
    // 3 calls for 25 entries, then 1 for the 9 that failed.
    expect(outcome.calls).toBe(4);
    const ids = events.events().map((event) => event.detail.eventId);
    expect(ids).toHaveLength(25);
    expect(new Set(ids).size).toBe(25);
  });

  it('gives up after its attempts, and the worker returns those records to the queue', async () => {
    events.bus.injectEntryFaults((entry) =>
      String(entry.DetailType) === 'Project Reviewed' ? 'InternalFailure' : undefined,
    );
    const { handler } = await workerOnFreshTable(dynamoDb, { publisher: events.publisher() });
    const reviewed = sqsRecord({ body: JSON.stringify(SEED_EVENTS.PROJECT_REVIEWED) });
    const created = sqsRecord({ body: JSON.stringify(SEED_EVENTS.PROJECT_CREATED) });
    const response = await handler(sqsEvent([reviewed, created]));
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: reviewed.messageId }]);
    expect(events.events().map((event) => event['detail-type'])).toEqual(['Project Created']);

    events.bus.injectEntryFaults(undefined);
    const again = await handler(sqsEvent([redelivered(reviewed)]));
    expect(again.batchItemFailures).toEqual([]);
    expect(events.events().map((event) => event['detail-type'])).toEqual([
      'Project Created',
      'Project Reviewed',
    ]);
  });

  it('publishes an event redriven from the DLQ that was stored but never published, not the same body sent again by Datasaur', async () => {
    events.bus.injectEntryFaults((entry) =>
      String(entry.DetailType) === 'Project Reviewed' ? 'InternalFailure' : undefined,
    );
    const { handler } = await workerOnFreshTable(dynamoDb, { publisher: events.publisher() });
    const body = JSON.stringify(SEED_EVENTS.PROJECT_REVIEWED);
    const reviewed = sqsRecord({ body });
    // Every receive fails to publish: the message ends in the DLQ, its event stored.
    for (const attempt of [reviewed, redelivered(reviewed), redelivered(redelivered(reviewed))]) {
      const response = await handler(sqsEvent([attempt]));
      expect(response.batchItemFailures).toEqual([{ itemIdentifier: reviewed.messageId }]);
    }
    events.bus.injectEntryFaults(undefined);

    // Datasaur sends the same body again: a new message with a later receive time.
    const resent = sqsRecord({ body, receivedAt: '2024-03-01T13:00:00.000Z' });
    expect((await handler(sqsEvent([resent]))).batchItemFailures).toEqual([]);
    expect(events.events()).toEqual([]);

    // The redrive: the same message body, which SQS gives a new id and counts from 1 again.
    const redriven = { ...reviewed, messageId: `${reviewed.messageId}-redriven` };
    expect(redriven.attributes.ApproximateReceiveCount).toBe('1');
    expect((await handler(sqsEvent([redriven]))).batchItemFailures).toEqual([]);
    expect(events.events().map((event) => event['detail-type'])).toEqual(['Project Reviewed']);
  });

  it('splits a batch into calls of at most 10 entries and 1 MiB', async () => {
    const large = Array.from({ length: 3 }, (_, index) => ({
      id: index,
      event: rejectedEvent(index, 'r'.repeat(400_000)),
    }));
    const small = Array.from({ length: 12 }, (_, index) => ({
      id: 3 + index,
      event: rejectedEvent(3 + index),
    }));
    expect((await events.publisher().publish(large)).calls).toBe(2);
    expect((await events.publisher().publish(small)).calls).toBe(2);
    expect(events.events()).toHaveLength(15);
  });
});

describe('a label event whose project is known', () => {
  it("carries the project's id in its Labels Updated detail, valid by the registered schema", async () => {
    const message = await interpretMessage(
      sqsRecord({ body: JSON.stringify(SEED_EVENTS.BEFORE_UPDATE_LABELS) }).body,
      new Date(RECEIVED_AT),
      NO_ARCHIVE,
    );
    const item = withProject(eventItem(message), 'ZTYzZjRhYjE') as EventItem;
    const event = busEventOf(item);
    expect(event?.detailType).toBe('Labels Updated');
    expect(event?.detail).toMatchObject({ projectId: 'ZTYzZjRhYjE', teamId: '1' });
    expect(DETAIL_SCHEMAS['Labels Updated']().safeParse(event?.detail).success).toBe(true);
    expect(JSON.stringify(eventJsonSchema('Labels Updated', 'datasaur.webhooks'))).toContain(
      '"projectId"',
    );
  });
});
