/**
 * The scheduled enrichment function (functions/enrich/handler.ts) against the local table and
 * the fake Datasaur API: one pass per invocation, its figures published, an outage counted as
 * a failed pass, an empty credentials secret as waiting, and a table error as a failure.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEnrichHandler } from '../functions/enrich/handler.ts';
import { ENRICH_ITEM_PARTITIONS } from '../infra/constructs/item-partitions.ts';
import { seedEventBody } from '../scripts/local/datasaur-sender.ts';
import { type FakeDatasaur, startFakeDatasaur } from '../scripts/local/fake-datasaur/server.ts';
import { NO_ARCHIVE } from '../scripts/local/no-archive.ts';
import { LOCAL_CLIENT_CONFIG } from '../scripts/local/servers.ts';
import { createDatasaurClient } from '../shared/datasaur/client.ts';
import { parseDatasaurCredentials } from '../shared/datasaur/credentials-secret.ts';
import { ENRICH_METRICS } from '../shared/enrich/enrich.ts';
import { METRICS_NAMESPACE } from '../shared/store/batch-figures.ts';
import { createEventStore } from '../shared/store/event-store.ts';
import { documentProjectKey } from '../shared/store/keys.ts';
import { lightTableDocuments } from '../shared/store/light-table-documents.ts';
import { createQueries } from '../shared/store/queries.ts';
import type { TableDocuments } from '../shared/store/table-documents.ts';
import { interpretMessage } from '../shared/webhook/interpret.ts';
import { limitedToPartitions } from './support/leading-keys.ts';
import { type LocalDynamoDb, startLocalDynamoDb } from './support/local-aws.ts';
import { type MetricsLine, metricsLinesOf } from './support/metrics-lines.ts';
import { recordingLogger } from './support/recording-logger.ts';
import { sqsRecord } from './support/webhook-records.ts';

let dynamoDb: LocalDynamoDb;
let fake: FakeDatasaur;

beforeAll(async () => {
  dynamoDb = await startLocalDynamoDb();
  fake = await startFakeDatasaur({
    projects: [{ id: 'function-p1', documents: [{ id: 'function-a' }, { id: 'function-b' }] }],
  });
});
afterAll(async () => {
  await fake?.close();
  await dynamoDb?.close();
});

async function storeLabelEvents(tableName: string, documentIds: readonly string[]) {
  const store = createEventStore(dynamoDb.documents, tableName, { documentProjects: true });
  for (const [index, documentId] of documentIds.entries()) {
    const time = new Date(Date.UTC(2026, 0, 5, 10, index)).toISOString();
    const body = seedEventBody('BEFORE_UPDATE_LABELS', { documentId, timestamp: time });
    await store.record(
      await interpretMessage(
        sqsRecord({ body, receivedAt: time }).body,
        new Date(time),
        NO_ARCHIVE,
      ),
    );
  }
}

function handlerFor(
  tableName: string,
  credentials: Parameters<typeof createDatasaurClient>[0]['credentials'],
  documents: TableDocuments = dynamoDb.documents,
) {
  const logger = recordingLogger();
  const handler = createEnrichHandler({
    options: async () => ({
      // Held to the partitions the enrichment's role allows, as IAM holds it in AWS.
      documents: limitedToPartitions(documents, ENRICH_ITEM_PARTITIONS),
      tableName,
      // An outage answers at once: the next scheduled pass retries.
      datasaur: createDatasaurClient({ baseUrl: fake.url, credentials, http: { maxAttempts: 1 } }),
    }),
    logger: logger as unknown as Logger,
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: ENRICH_METRICS.service }),
  });
  return { handler, logger };
}

const validCredentials = () => ({ clientId: fake.clientId, clientSecret: fake.clientSecret });
const figure = (line: MetricsLine | undefined, name: string) => line?.[name];

describe('the scheduled enrichment function', () => {
  it('runs one pass: label events get their project, and the pass publishes what it did', async () => {
    const tableName = await dynamoDb.createTable();
    await storeLabelEvents(tableName, ['function-a', 'function-b', 'function-a']);
    const { handler, logger } = handlerFor(tableName, validCredentials());

    let result: Awaited<ReturnType<typeof handler>> | undefined;
    const lines = await metricsLinesOf(async () => {
      result = await handler({});
    });

    expect(result).toMatchObject({ outcome: 'succeeded', resolved: 2, filled: 3 });
    const listed = await createQueries(dynamoDb.documents, tableName).projectLabels('function-p1');
    expect(listed.items).toHaveLength(3);
    expect(lines).toHaveLength(1);
    expect(figure(lines[0], ENRICH_METRICS.failedRuns)).toBe(0);
    expect(figure(lines[0], ENRICH_METRICS.documentsResolved)).toBe(2);
    expect(figure(lines[0], ENRICH_METRICS.labelEventsFilled)).toBe(3);
    expect(figure(lines[0], ENRICH_METRICS.datasaurRequests)).toBeGreaterThan(0);
    expect(lines[0]?.service).toBe(ENRICH_METRICS.service);
    expect(logger.lines).toEqual([
      expect.objectContaining({ level: 'info', message: 'enrichment pass' }),
    ]);
  });

  it('runs the same pass through the light client the deployed function uses', async () => {
    const tableName = await dynamoDb.createTable();
    await storeLabelEvents(tableName, ['function-a', 'function-b', 'function-a']);
    const light = lightTableDocuments({
      ...LOCAL_CLIENT_CONFIG,
      endpoint: dynamoDb.server.endpoint,
    });
    try {
      const { handler } = handlerFor(tableName, validCredentials(), light);
      let result: Awaited<ReturnType<typeof handler>> | undefined;
      await metricsLinesOf(async () => {
        result = await handler({});
      });
      expect(result).toMatchObject({ outcome: 'succeeded', resolved: 2, filled: 3 });
      const listed = await createQueries(dynamoDb.documents, tableName).projectLabels(
        'function-p1',
      );
      expect(listed.items).toHaveLength(3);
      // The mappings are resolved: a second pass (within their grace period, still looked at)
      // has nothing left to resolve or fill.
      let again: Awaited<ReturnType<typeof handler>> | undefined;
      await metricsLinesOf(async () => {
        again = await handler({});
      });
      expect(again).toMatchObject({ outcome: 'succeeded', resolved: 0, filled: 0 });
    } finally {
      light.destroy();
    }
  });

  it('counts a pass Datasaur failed as a failed run, and leaves the documents pending', async () => {
    const tableName = await dynamoDb.createTable();
    await storeLabelEvents(tableName, ['function-a']);
    const { handler, logger } = handlerFor(tableName, validCredentials());
    fake.faults.httpStatus(503, 1);

    let result: Awaited<ReturnType<typeof handler>> | undefined;
    const lines = await metricsLinesOf(async () => {
      result = await handler({});
    });

    expect(result).toMatchObject({ outcome: 'failed', resolved: 0, deferred: 1 });
    expect(figure(lines[0], ENRICH_METRICS.failedRuns)).toBe(1);
    expect(logger.lines).toEqual([
      expect.objectContaining({ level: 'error', message: 'enrichment pass failed' }),
    ]);
  });

  it('does not count a pass stopped by its request budget as failed', async () => {
    const tableName = await dynamoDb.createTable();
    await storeLabelEvents(tableName, ['function-b']);
    const logger = recordingLogger();
    const handler = createEnrichHandler({
      options: async () => ({
        documents: dynamoDb.documents,
        tableName,
        datasaur: createDatasaurClient({ baseUrl: fake.url, credentials: validCredentials() }),
        maxApiCalls: 1,
      }),
      logger: logger as unknown as Logger,
      metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: ENRICH_METRICS.service }),
    });
    let result: Awaited<ReturnType<typeof handler>> | undefined;
    const lines = await metricsLinesOf(async () => {
      result = await handler({});
    });
    expect(result).toMatchObject({ outcome: 'succeeded', stoppedBy: 'budget', apiCalls: 1 });
    expect(figure(lines[0], ENRICH_METRICS.failedRuns)).toBe(0);
  });

  it('waits, without counting a failed run or calling Datasaur, while the credentials secret is empty', async () => {
    const tableName = await dynamoDb.createTable();
    await storeLabelEvents(tableName, ['function-a']);
    const tokensBefore = fake.counts.tokens;
    // The secret as the stack creates it.
    const { handler, logger } = handlerFor(tableName, async () =>
      parseDatasaurCredentials('{"clientId": "", "clientSecret": ""}'),
    );
    let result: Awaited<ReturnType<typeof handler>> | undefined;
    const lines = await metricsLinesOf(async () => {
      result = await handler({});
    });
    expect(result).toMatchObject({ outcome: 'waiting' });
    expect(figure(lines[0], ENRICH_METRICS.failedRuns)).toBe(0);
    expect(fake.counts.tokens).toBe(tokensBefore);
    expect(logger.lines).toEqual([
      expect.objectContaining({
        level: 'warn',
        message: 'enrichment waiting: the Datasaur credentials secret is empty',
      }),
    ]);
  });

  it('counts refused credentials as a failed run, without making the documents wait longer', async () => {
    const tableName = await dynamoDb.createTable();
    await storeLabelEvents(tableName, ['function-b']);
    const { handler, logger } = handlerFor(tableName, {
      clientId: fake.clientId,
      clientSecret: 'a-secret-datasaur-does-not-know',
    });
    let result: Awaited<ReturnType<typeof handler>> | undefined;
    const lines = await metricsLinesOf(async () => {
      result = await handler({});
    });
    expect(result).toMatchObject({
      outcome: 'failed',
      stoppedBy: 'credentials',
      deferred: 0,
      unreached: 1,
    });
    expect(figure(lines[0], ENRICH_METRICS.failedRuns)).toBe(1);
    expect(logger.lines).toEqual([
      expect.objectContaining({ level: 'error', message: 'enrichment pass failed' }),
    ]);
    const { Item } = await dynamoDb.documents.send(
      new GetCommand({ TableName: tableName, Key: documentProjectKey('function-b') }),
    );
    expect(Item).toMatchObject({ status: 'UNRESOLVED', attempts: 0 });
  });

  it('fails the invocation, counting a failed run, when the table cannot be read', async () => {
    // A table that was never created: the local server answers ResourceNotFoundException.
    const { handler } = handlerFor('enrich-no-such-table', validCredentials());
    let thrown: unknown;
    const lines = await metricsLinesOf(async () => {
      thrown = await handler({}).catch((error: unknown) => error);
    });
    expect(thrown).toBeInstanceOf(Error);
    expect((thrown as Error).name).toMatch(/ResourceNotFound/);
    expect(figure(lines[0], ENRICH_METRICS.failedRuns)).toBe(1);
  });
});
