/**
 * The enrichment pass against the fake Datasaur API and a local table: what it costs in API
 * calls, how it fills earlier label events, and how it waits after an outage.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedEventBody } from '../scripts/local/datasaur-sender.ts';
import { type FakeDatasaur, startFakeDatasaur } from '../scripts/local/fake-datasaur/server.ts';
import { NO_ARCHIVE } from '../scripts/local/no-archive.ts';
import { createDatasaurClient } from '../shared/datasaur/client.ts';
import { runEnrichment } from '../shared/enrich/enrich.ts';
import { createEventStore } from '../shared/store/event-store.ts';
import { documentProjectKey } from '../shared/store/keys.ts';
import { createQueries } from '../shared/store/queries.ts';
import { interpretMessage } from '../shared/webhook/interpret.ts';
import { type LocalDynamoDb, startLocalDynamoDb } from './support/local-aws.ts';
import { sqsRecord } from './support/webhook-records.ts';

let dynamoDb: LocalDynamoDb;
let fake: FakeDatasaur;

const PROJECT_DOCUMENTS = ['enrich-a', 'enrich-b', 'enrich-c'];

beforeAll(async () => {
  dynamoDb = await startLocalDynamoDb();
  fake = await startFakeDatasaur({
    projects: [
      { id: 'enrich-p0', documents: [{ id: 'enrich-other' }] },
      { id: 'enrich-p1', documents: PROJECT_DOCUMENTS.map((id) => ({ id })) },
      { id: 'enrich-p2', documents: [{ id: 'enrich-z' }] },
    ],
  });
});

afterAll(async () => {
  await fake?.close();
  await dynamoDb?.close();
});

function datasaur() {
  return createDatasaurClient({
    baseUrl: fake.url,
    credentials: { clientId: fake.clientId, clientSecret: fake.clientSecret },
    // An outage answers at once: no retries inside one pass, the next pass retries.
    http: { maxAttempts: 1 },
  });
}

async function storeLabelEvents(tableName: string, documentIds: readonly string[], minute = 0) {
  const store = createEventStore(dynamoDb.documents, tableName, { documentProjects: true });
  const stored = [];
  for (const [index, documentId] of documentIds.entries()) {
    const time = new Date(Date.UTC(2026, 0, 5, 10, minute + index)).toISOString();
    const body = seedEventBody('BEFORE_UPDATE_LABELS', { documentId, timestamp: time });
    stored.push(
      await store.record(
        await interpretMessage(
          sqsRecord({ body, receivedAt: time }).body,
          new Date(time),
          NO_ARCHIVE,
        ),
      ),
    );
  }
  return stored.map((recorded) => recorded.item);
}

const callsSoFar = () =>
  (fake.counts.graphql.GetProjectsQuery ?? 0) + (fake.counts.graphql.GetProjectCabinetsQuery ?? 0);

describe('an enrichment pass', () => {
  it("resolves a project's new documents with one projects page and one cabinets call per project read", async () => {
    const tableName = await dynamoDb.createTable();
    await storeLabelEvents(tableName, [...PROJECT_DOCUMENTS, 'enrich-a']);
    const before = callsSoFar();
    const summary = await runEnrichment({
      documents: dynamoDb.documents,
      tableName,
      datasaur: datasaur(),
    });
    // Team 1: one getProjects page, then cabinets of enrich-p0 and enrich-p1 (the documents'
    // project): 3 calls for 3 new documents, however many label events they had.
    expect(summary).toMatchObject({ pending: 3, resolved: 3, deferred: 0, filled: 4, apiCalls: 3 });
    expect(callsSoFar() - before).toBe(3);
    expect(summary.projects).toEqual([
      { projectId: 'enrich-p1', documentCount: 3, labelEventCount: 4 },
    ]);
    const listed = await createQueries(dynamoDb.documents, tableName).projectLabels('enrich-p1');
    expect(listed.items.map((item) => item.documentId)).toEqual([
      'enrich-a',
      'enrich-c',
      'enrich-b',
      'enrich-a',
    ]);

    // A label event stored once the project is known carries it without another pass.
    const [later] = await storeLabelEvents(tableName, ['enrich-b'], 30);
    expect(later).toMatchObject({ projectId: 'enrich-p1', gsi4pk: 'PROJECT#enrich-p1' });
    const again = await runEnrichment({
      documents: dynamoDb.documents,
      tableName,
      datasaur: datasaur(),
    });
    expect(again).toMatchObject({ resolved: 0, filled: 0, apiCalls: 0 });
  });

  it('leaves a document pending after an outage, waits before retrying, then resolves it', async () => {
    const tableName = await dynamoDb.createTable();
    await storeLabelEvents(tableName, ['enrich-z']);
    const now = new Date('2026-01-05T12:00:00.000Z');
    fake.faults.httpStatus(503, 1);
    const failed = await runEnrichment({
      documents: dynamoDb.documents,
      tableName,
      datasaur: datasaur(),
      now: () => now,
    });
    expect(failed).toMatchObject({ resolved: 0, deferred: 1, filled: 0 });
    expect(failed.error).toMatch(/Datasaur/);
    const { Item } = await dynamoDb.documents.send(
      new GetCommand({ TableName: tableName, Key: documentProjectKey('enrich-z') }),
    );
    expect(Item).toMatchObject({ status: 'UNRESOLVED', attempts: 1 });

    // Not due yet half a minute later: no API call.
    const early = await runEnrichment({
      documents: dynamoDb.documents,
      tableName,
      datasaur: datasaur(),
      now: () => new Date(now.getTime() + 30_000),
    });
    expect(early).toMatchObject({ pending: 0, apiCalls: 0 });

    const retried = await runEnrichment({
      documents: dynamoDb.documents,
      tableName,
      datasaur: datasaur(),
      now: () => new Date(now.getTime() + 61_000),
    });
    expect(retried).toMatchObject({ resolved: 1, filled: 1 });
  });

  it('stops at its API budget and resumes on the next pass', async () => {
    const tableName = await dynamoDb.createTable();
    await storeLabelEvents(tableName, ['enrich-c']);
    const first = await runEnrichment({
      documents: dynamoDb.documents,
      tableName,
      datasaur: datasaur(),
      maxApiCalls: 2,
      retryBaseSeconds: 0,
    });
    expect(first).toMatchObject({ resolved: 0, deferred: 1, apiCalls: 2 });
    expect(first.error).toMatch(/stopped after 2 Datasaur requests/);
    const second = await runEnrichment({
      documents: dynamoDb.documents,
      tableName,
      datasaur: datasaur(),
    });
    expect(second).toMatchObject({ resolved: 1, filled: 1 });
  });
});

describe('npm run enrich', () => {
  it('prints what it expected and exits 2 on a bad argument', async () => {
    const { runTypeScript } = await import('./support/local-stack-process.ts');
    const result = await runTypeScript('scripts/enrich.ts', ['--max-api-calls', 'zero']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--max-api-calls must be a whole number from 1 to 10000');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
