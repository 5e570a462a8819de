/**
 * The worker publishes what each batch did as one line of CloudWatch's embedded metric format
 * (Powertools Metrics, written to stdout as in Lambda), instead of a log line per record.
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it } from 'vitest';
import { createWorkerHandler } from '../functions/worker/handler.ts';
import { NO_ARCHIVE } from '../scripts/local/no-archive.ts';
import { SEED_EVENTS, SEED_EXPORT_DELIVERY } from '../scripts/local/seed-events.ts';
import { BATCH_FIGURES, METRICS_NAMESPACE } from '../shared/store/batch-figures.ts';
import { startedForTests, startLocalDynamoDb } from './support/local-aws.ts';
import { metricsLinesOf } from './support/metrics-lines.ts';
import { quietLogger, sqsEvent, sqsRecord } from './support/webhook-records.ts';

const dynamoDb = startedForTests(startLocalDynamoDb);

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
    // Label 4 + its duplicate 2 + a new project 5 + unknown without a timestamp 4 + rejected 4
    // (each event item with its GSI3 entry, by eventId), and 1 for the batch's hourly counters
    // (one hour touched).
    expect(first).toMatchObject({
      service: 'worker-metrics-test',
      LabelEventsStored: 1,
      ProjectEventsStored: 1,
      ExportsStored: 0,
      UnknownEventsStored: 1,
      Duplicates: 1,
      Rejected: 1,
      WriteUnits: 20,
    });
    // An export: its first receipt, its item, its feed and GSI3 entries and the project item it
    // refreshes; and the hourly counters.
    expect(second).toMatchObject({ ExportsStored: 1, LabelEventsStored: 0, WriteUnits: 6 });
  });
});
