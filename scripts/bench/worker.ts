/**
 * The worker handler against dynalite, called directly with SQS-shaped batches built from a
 * project workload, one invocation at a time (what one Lambda container does). Batches of 10
 * take turns with single-record batches, so a batch's duration splits into a fixed part and a
 * part per record; the cost model bills the worker from those two.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createWorkerHandler } from '../../functions/worker/handler.ts';
import { NO_ARCHIVE } from '../local/no-archive.ts';
import { ensureTable, LOCAL_CLIENT_CONFIG, localTable, startDynalite } from '../local/servers.ts';
import { sqsEvent, sqsRecord } from '../local/sqs-records.ts';
import {
  LOAD_EVENTS_PER_PROJECT,
  LOAD_LABEL_EVENTS_PER_PROJECT,
  projectLifecycles,
  seededRandom,
  shuffle,
} from '../local/workload.ts';
import { median } from './measure.ts';

const BATCH_SIZE = 10;

export interface WorkerResult {
  readonly batchSize: number;
  /** Events persisted in batches of `batchSize`. */
  readonly events: number;
  readonly eventsPerSecond: number;
  readonly batchMedianMs: number;
  readonly singleRecordMedianMs: number;
  /** batch = fixed + records × perRecord, fitted to the two medians. */
  readonly fixedMillisecondsPerBatch: number;
  readonly millisecondsPerRecord: number;
}

export async function benchWorker(options: { events: number }): Promise<WorkerResult> {
  const server = await startDynalite();
  const tables = new DynamoDBClient({ ...LOCAL_CLIENT_CONFIG, endpoint: server.endpoint });
  const documents = localTable(server.endpoint);
  try {
    const tableName = 'bench';
    await ensureTable(tables, tableName);
    const handler = createWorkerHandler({
      documents,
      tableName,
      bodies: NO_ARCHIVE,
      logger: new Logger({ logLevel: 'SILENT' }),
    });
    // Twice the events: half go in full batches, half one by one.
    const projects = Math.max(1, Math.ceil((2 * options.events) / LOAD_EVENTS_PER_PROJECT));
    const receivedAt = new Date().toISOString();
    const records = shuffle(
      projectLifecycles({ projects, labelEventsPerProject: LOAD_LABEL_EVENTS_PER_PROJECT }),
      seededRandom(1),
    ).map((event) => sqsRecord({ body: event.body, method: event.method, receivedAt }));

    const invoke = async (batch: typeof records): Promise<number> => {
      const started = performance.now();
      const response = await handler(sqsEvent(batch));
      const elapsed = performance.now() - started;
      if (response.batchItemFailures.length > 0) {
        throw new Error(`${response.batchItemFailures.length} records failed in the bench`);
      }
      return elapsed;
    };
    // A first invocation creates the clients' connections and warms the code.
    await invoke(records.splice(0, 1));

    const batchTimes: number[] = [];
    const singleTimes: number[] = [];
    for (let start = 0; start + 2 * BATCH_SIZE <= records.length; start += 2 * BATCH_SIZE) {
      batchTimes.push(await invoke(records.slice(start, start + BATCH_SIZE)));
      for (const record of records.slice(start + BATCH_SIZE, start + 2 * BATCH_SIZE)) {
        singleTimes.push(await invoke([record]));
      }
    }
    const batchMedianMs = median(batchTimes);
    const singleRecordMedianMs = median(singleTimes);
    const millisecondsPerRecord = Math.max(
      0,
      (batchMedianMs - singleRecordMedianMs) / (BATCH_SIZE - 1),
    );
    return {
      batchSize: BATCH_SIZE,
      events: batchTimes.length * BATCH_SIZE,
      eventsPerSecond:
        (batchTimes.length * BATCH_SIZE) / (batchTimes.reduce((sum, time) => sum + time, 0) / 1000),
      batchMedianMs,
      singleRecordMedianMs,
      fixedMillisecondsPerBatch: Math.max(0, singleRecordMedianMs - millisecondsPerRecord),
      millisecondsPerRecord,
    };
  } finally {
    tables.destroy();
    documents.destroy();
    await server.close();
  }
}
