import type { SQSRecord } from 'aws-lambda';
import { expect, it } from 'vitest';
import { createWorkerHandler } from '../functions/worker/handler.ts';
import { NO_ARCHIVE } from '../scripts/local/no-archive.ts';
import { projectLifecycles, seededRandom, shuffle } from '../scripts/local/workload.ts';
import type { TableDocuments } from '../shared/store/table-documents.ts';
import { eventIdOf } from '../shared/webhook/signature.ts';
import {
  documentsWithFaults,
  startedForTests,
  startLocalDynamoDb,
  throttlingError,
} from './support/local-aws.ts';
import { quietLogger, sqsEvent, sqsRecord, tableContents } from './support/webhook-records.ts';

const BATCH_SIZE = 10;
const MAX_DELIVERIES = 10;

const dynamoDb = startedForTests(startLocalDynamoDb);

interface FaultPlan {
  /** Keys (eventIds or projectIds) whose next calls fail, and how many more times. */
  readonly remaining: Map<string, number>;
  injected: number;
}

/** A real client whose calls fail while they mention a key the plan still holds faults for. */
function faultyDocuments(plan: FaultPlan): TableDocuments {
  return documentsWithFaults(dynamoDb, (input) => {
    for (const [key, count] of plan.remaining) {
      if (count > 0 && input.includes(key)) {
        plan.remaining.set(key, count - 1);
        plan.injected += 1;
        return plan.injected % 2 === 0
          ? throttlingError()
          : Object.assign(new Error('socket timed out'), { name: 'TimeoutError' });
      }
    }
    return undefined;
  });
}

async function processAll(
  documents: TableDocuments,
  tableName: string,
  records: readonly SQSRecord[],
) {
  const handle = createWorkerHandler({
    documents,
    tableName,
    bodies: NO_ARCHIVE,
    logger: quietLogger(),
    concurrency: 4,
  });
  const failedPerDelivery: string[][] = [];
  let pending = [...records];
  // Like SQS: what a batch reports failed comes back in a later batch, until none is left.
  for (let delivery = 0; pending.length > 0 && delivery < MAX_DELIVERIES; delivery += 1) {
    const failed: SQSRecord[] = [];
    for (let start = 0; start < pending.length; start += BATCH_SIZE) {
      const batch = pending.slice(start, start + BATCH_SIZE);
      const { batchItemFailures } = await handle(sqsEvent(batch));
      const failedIds = new Set(batchItemFailures.map((failure) => failure.itemIdentifier));
      failed.push(...batch.filter((record) => failedIds.has(record.messageId)));
    }
    failedPerDelivery.push(failed.map((record) => record.messageId));
    pending = failed;
  }
  return { failedPerDelivery, unfinished: pending };
}

it('reports only the records a fault hit, and redeliveries leave the table as if none happened', async () => {
  const next = seededRandom(42);
  const events = projectLifecycles({ projects: 12, idPrefix: 'faults' });
  const records = events.map((event) => sqsRecord({ body: event.body, method: event.method }));

  const cleanTable = await dynamoDb.createTable();
  const clean = await processAll(dynamoDb.documents, cleanTable, records);
  expect(clean.failedPerDelivery.flat()).toEqual([]);

  // A quarter of the events fail their first one or two calls (the event put), and a few
  // projects fail their refresh (query or project put) once or twice.
  const plan: FaultPlan = { remaining: new Map(), injected: 0 };
  const hitEvents = new Set<string>();
  for (const event of events) {
    if (next() < 0.25) {
      const eventId = eventIdOf(Buffer.from(event.body));
      plan.remaining.set(eventId, 1 + Math.floor(next() * 2));
      hitEvents.add(eventId);
    }
  }
  const hitProjects = ['faults-project-3', 'faults-project-7', 'faults-project-10'];
  for (const projectId of hitProjects) plan.remaining.set(`"PROJECT#${projectId}"`, 2);

  const faultyTable = await dynamoDb.createTable();
  const faulty = await processAll(faultyDocuments(plan), faultyTable, shuffle(records, next));

  expect(plan.injected).toBeGreaterThan(15);
  expect(faulty.unfinished).toEqual([]);
  // Every record reported failed was one a fault could reach, and every event hit on its
  // own put was reported.
  const mayFail = new Set(
    records
      .filter((_, index) => {
        const body = events[index]?.body ?? '';
        return (
          hitEvents.has(eventIdOf(Buffer.from(body))) ||
          hitProjects.some((projectId) => body.includes(`"${projectId}"`))
        );
      })
      .map((record) => record.messageId),
  );
  const firstFailures = new Set(faulty.failedPerDelivery[0]);
  for (const messageId of firstFailures) expect(mayFail.has(messageId)).toBe(true);
  const hitOnPut = records.filter((_, index) =>
    hitEvents.has(eventIdOf(Buffer.from(events[index]?.body ?? ''))),
  );
  for (const record of hitOnPut) expect(firstFailures.has(record.messageId)).toBe(true);

  expect(await tableContents(dynamoDb.documents, faultyTable)).toEqual(
    await tableContents(dynamoDb.documents, cleanTable),
  );
});
