/**
 * The worker publishes what each batch did as one line of CloudWatch's embedded metric format
 * (Powertools Metrics, written to stdout as in Lambda), instead of a log line per record.
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkerHandler } from '../functions/worker/handler.ts';
import { NO_ARCHIVE } from '../scripts/local/no-archive.ts';
import { SEED_EVENTS, SEED_EXPORT_DELIVERY } from '../scripts/local/seed-events.ts';
import { BATCH_FIGURES, METRICS_NAMESPACE } from '../shared/store/batch-figures.ts';
import { type LocalDynamoDb, startLocalDynamoDb } from './support/local-aws.ts';
import { quietLogger, sqsEvent, sqsRecord } from './support/webhook-records.ts';

interface MetricsLine {
  readonly _aws: {
    readonly CloudWatchMetrics: readonly {
      readonly Namespace: string;
      readonly Dimensions: readonly (readonly string[])[];
      readonly Metrics: readonly { readonly Name: string; readonly Unit: string }[];
    }[];
  };
  readonly [field: string]: unknown;
}

/** The embedded-metric-format lines written to stdout while `run` runs. */
async function metricsLinesOf(run: () => Promise<unknown>): Promise<MetricsLine[]> {
  const written: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  try {
    await run();
  } finally {
    process.stdout.write = write;
  }
  return written
    .join('')
    .split('\n')
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as MetricsLine);
}

let dynamoDb: LocalDynamoDb;
beforeAll(async () => {
  dynamoDb = await startLocalDynamoDb();
});
afterAll(async () => {
  await dynamoDb.close();
});

describe('worker metrics', () => {
  it('publishes one line per batch: stored by type, duplicates, rejected and write units', async () => {
    const handler = createWorkerHandler({
      documents: dynamoDb.documents,
      tableName: await dynamoDb.createTable(),
      bodies: NO_ARCHIVE,
      logger: quietLogger(),
      metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'worker-metrics-test' }),
    });
    const label = JSON.stringify(SEED_EVENTS.BEFORE_UPDATE_LABELS);
    const firstBatch = sqsEvent([
      sqsRecord({ body: label }),
      sqsRecord({ body: label }),
      sqsRecord({ body: JSON.stringify(SEED_EVENTS.PROJECT_CREATED) }),
      sqsRecord({ body: JSON.stringify({ eventType: 'PROJECT_ARCHIVED' }) }),
      sqsRecord({ body: 'not json' }),
    ]);
    const secondBatch = sqsEvent([
      sqsRecord({ body: JSON.stringify(SEED_EXPORT_DELIVERY), method: 'PUT' }),
    ]);

    const lines = await metricsLinesOf(async () => {
      await handler(firstBatch);
      await handler(secondBatch);
    });

    expect(lines).toHaveLength(2);
    const [first, second] = lines;
    expect(first?._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: METRICS_NAMESPACE,
        Dimensions: [['service']],
        Metrics: BATCH_FIGURES.map((name) => ({ Name: name, Unit: 'Count' })),
      },
    ]);
    // Label 2 + its duplicate 1 + a new project 4 + unknown without a timestamp 3 + rejected 3,
    // and 1 for the batch's hourly counters (one hour touched).
    expect(first).toMatchObject({
      service: 'worker-metrics-test',
      LabelEventsStored: 1,
      ProjectEventsStored: 1,
      ExportsStored: 0,
      UnknownEventsStored: 1,
      Duplicates: 1,
      Rejected: 1,
      WriteUnits: 14,
    });
    // An export: its first receipt, its item, its feed entry and the project item it refreshes;
    // and the hourly counters.
    expect(second).toMatchObject({ ExportsStored: 1, LabelEventsStored: 0, WriteUnits: 5 });
  });
});
