/**
 * The enrichment pass against the fake Datasaur API and a local table: what it costs in API
 * calls, how it fills earlier label events, and how it waits after an outage.
 */
import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENRICH_ITEM_PARTITIONS } from '../infra/constructs/item-partitions.ts';
import { seedEventBody } from '../scripts/local/datasaur-sender.ts';
import { type FakeDatasaur, startFakeDatasaur } from '../scripts/local/fake-datasaur/server.ts';
import { NO_ARCHIVE } from '../scripts/local/no-archive.ts';
import { createDatasaurClient, type DatasaurClient } from '../shared/datasaur/client.ts';
import { parseDatasaurCredentials } from '../shared/datasaur/credentials-secret.ts';
import { DatasaurGraphqlError } from '../shared/datasaur/errors.ts';
import { runEnrichment } from '../shared/enrich/enrich.ts';
import { createEventStore } from '../shared/store/event-store.ts';
import { ITEM_SCHEMAS } from '../shared/store/item-schemas.ts';
import {
  documentProjectKey,
  ENRICH_PARTITION,
  projectLabelCountsKey,
} from '../shared/store/keys.ts';
import { createQueries } from '../shared/store/queries.ts';
import { interpretMessage } from '../shared/webhook/interpret.ts';
import { limitedToPartitions } from './support/leading-keys.ts';
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
      // The API user's own copy of a document; other labelers' copies share its originId.
      { id: 'enrich-p3', documents: [{ id: 'api-user-copy', originId: 'origin-1' }] },
    ],
  });
});

afterAll(async () => {
  await fake?.close();
  await dynamoDb?.close();
});

function datasaur(
  server: FakeDatasaur = fake,
  credentials: Parameters<typeof createDatasaurClient>[0]['credentials'] = {
    clientId: server.clientId,
    clientSecret: server.clientSecret,
  },
) {
  return createDatasaurClient({
    baseUrl: server.url,
    credentials,
    // An outage answers at once: no retries inside one pass, the next pass retries.
    http: { maxAttempts: 1 },
  });
}

/** `client`, except that the cabinets of the projects `failing` names always answer an error. */
function withFailingCabinets(
  client: DatasaurClient,
  failing: (projectId: string) => boolean,
): DatasaurClient {
  return {
    baseUrl: client.baseUrl,
    request(operation, variables) {
      const projectId = String(variables.projectId);
      if (operation.operationName === 'GetProjectCabinetsQuery' && failing(projectId)) {
        return Promise.reject(
          new DatasaurGraphqlError(operation.operationName, [
            { message: `Internal server error reading ${projectId}` },
          ]),
        );
      }
      return client.request(operation, variables);
    },
  };
}

/** The table as the enrichment's role sees it: its item writes held to the role's partitions. */
function enrichDocuments() {
  return limitedToPartitions(dynamoDb.documents, ENRICH_ITEM_PARTITIONS);
}

interface LabelledDocument {
  readonly id: string;
  readonly originId?: string;
}

async function storeLabelEvents(
  tableName: string,
  documentsLabelled: readonly (string | LabelledDocument)[],
  minute = 0,
) {
  const store = createEventStore(dynamoDb.documents, tableName, { documentProjects: true });
  const stored = [];
  for (const [index, labelled] of documentsLabelled.entries()) {
    const document = typeof labelled === 'string' ? { id: labelled } : labelled;
    const time = new Date(Date.UTC(2026, 0, 5, 10, minute + index)).toISOString();
    const event = JSON.parse(
      seedEventBody('BEFORE_UPDATE_LABELS', { documentId: document.id, timestamp: time }),
    );
    if (document.originId !== undefined) event.data.document.originId = document.originId;
    const body = JSON.stringify(event);
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

async function mappingOf(tableName: string, documentId: string) {
  const { Item } = await dynamoDb.documents.send(
    new GetCommand({
      TableName: tableName,
      Key: documentProjectKey(documentId),
      ConsistentRead: true,
    }),
  );
  return Item;
}

async function labelCountsOf(tableName: string, projectId: string) {
  const { Item } = await dynamoDb.documents.send(
    new GetCommand({
      TableName: tableName,
      Key: projectLabelCountsKey(projectId),
      ConsistentRead: true,
    }),
  );
  return Item;
}

/** `minutes` after 2026-01-05 12:00 UTC, as a pass's clock. */
const at = (minutes: number) => () => new Date(Date.UTC(2026, 0, 5, 12, minutes));

describe('an enrichment pass', () => {
  it("resolves a project's new documents with one projects page and one cabinets call per project read", async () => {
    const tableName = await dynamoDb.createTable();
    await storeLabelEvents(tableName, [...PROJECT_DOCUMENTS, 'enrich-a']);
    const before = callsSoFar();
    const summary = await runEnrichment({
      documents: enrichDocuments(),
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
      documents: enrichDocuments(),
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
      documents: enrichDocuments(),
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
      documents: enrichDocuments(),
      tableName,
      datasaur: datasaur(),
      now: () => new Date(now.getTime() + 30_000),
    });
    expect(early).toMatchObject({ pending: 0, apiCalls: 0 });

    const retried = await runEnrichment({
      documents: enrichDocuments(),
      tableName,
      datasaur: datasaur(),
      now: () => new Date(now.getTime() + 61_000),
    });
    expect(retried).toMatchObject({ resolved: 1, filled: 1 });
  });

  it('stops at its API budget, leaves the document due without an attempt, and goes on from there next pass', async () => {
    const tableName = await dynamoDb.createTable();
    await storeLabelEvents(tableName, ['enrich-c']);
    const first = await runEnrichment({
      documents: enrichDocuments(),
      tableName,
      datasaur: datasaur(),
      maxApiCalls: 2,
    });
    expect(first).toMatchObject({
      resolved: 0,
      deferred: 0,
      unreached: 1,
      apiCalls: 2,
      stoppedBy: 'budget',
    });
    expect(first.error).toMatch(/stopped after 2 Datasaur requests/);
    expect(await mappingOf(tableName, 'enrich-c')).toMatchObject({ attempts: 0 });
    // enrich-p0 was read: the walk goes on from enrich-p1, one page and one cabinets call.
    const second = await runEnrichment({
      documents: enrichDocuments(),
      tableName,
      datasaur: datasaur(),
    });
    expect(second).toMatchObject({ resolved: 1, filled: 1, apiCalls: 2 });
  });

  it('waits longer for a document no project of its team lists, after reading every project', async () => {
    const tableName = await dynamoDb.createTable();
    await storeLabelEvents(tableName, ['enrich-nowhere']);
    const summary = await runEnrichment({
      documents: enrichDocuments(),
      tableName,
      datasaur: datasaur(),
    });
    // One page, then the cabinets of each of the 4 projects once.
    expect(summary).toMatchObject({ resolved: 0, deferred: 1, apiCalls: 5 });
    expect(summary.stoppedBy).toBeUndefined();
    expect(await mappingOf(tableName, 'enrich-nowhere')).toMatchObject({
      status: 'UNRESOLVED',
      attempts: 1,
      lastError: 'no project of team 1 lists it',
    });
  });
});

describe("a label made in another labeler's copy of a document", () => {
  it('finds its project by the originId the copies share, and keeps the originId on the mapping', async () => {
    const tableName = await dynamoDb.createTable();
    // Datasaur lists only the API user's cabinets: this copy's own id appears in none of them.
    await storeLabelEvents(tableName, [{ id: 'labeler-2-copy', originId: 'origin-1' }]);
    expect(await mappingOf(tableName, 'labeler-2-copy')).toMatchObject({
      status: 'UNRESOLVED',
      originId: 'origin-1',
    });
    const summary = await runEnrichment({
      documents: enrichDocuments(),
      tableName,
      datasaur: datasaur(),
    });
    expect(summary).toMatchObject({ resolved: 1, filled: 1 });
    expect(await mappingOf(tableName, 'labeler-2-copy')).toMatchObject({
      status: 'FILLING',
      projectId: 'enrich-p3',
    });
    const listed = await createQueries(dynamoDb.documents, tableName).projectLabels('enrich-p3');
    expect(listed.items.map((item) => item.documentId)).toEqual(['labeler-2-copy']);
  });

  it('is found too when its mapping was recorded before mappings kept the originId', async () => {
    const tableName = await dynamoDb.createTable();
    await storeLabelEvents(tableName, [{ id: 'labeler-3-copy', originId: 'origin-1' }]);
    await dynamoDb.documents.send(
      new UpdateCommand({
        TableName: tableName,
        Key: documentProjectKey('labeler-3-copy'),
        UpdateExpression: 'REMOVE originId',
      }),
    );
    const summary = await runEnrichment({
      documents: enrichDocuments(),
      tableName,
      datasaur: datasaur(),
    });
    expect(summary).toMatchObject({ resolved: 1 });
    expect(await mappingOf(tableName, 'labeler-3-copy')).toMatchObject({ projectId: 'enrich-p3' });
  });
});

describe('a team with more projects than one pass can read', () => {
  /** 70 projects of team 1, walk-p01 … walk-p70, each with one document walk-doc-NN. */
  let many: FakeDatasaur;
  const projectId = (number: number) => `walk-p${String(number).padStart(2, '0')}`;
  const documentId = (number: number) => `walk-doc-${String(number).padStart(2, '0')}`;
  beforeAll(async () => {
    many = await startFakeDatasaur({
      projects: Array.from({ length: 70 }, (_, index) => ({
        id: projectId(index + 1),
        documents: [{ id: documentId(index + 1) }],
      })),
    });
  });
  afterAll(async () => {
    await many?.close();
  });

  it('finds a document in its 60th project within ceil(70 / 49) + 1 passes, then wraps around to the first', async () => {
    const tableName = await dynamoDb.createTable();
    await storeLabelEvents(tableName, [documentId(60)]);
    const summaries = [];
    for (let pass = 0; pass < Math.ceil(70 / 49) + 1; pass += 1) {
      const summary = await runEnrichment({
        documents: enrichDocuments(),
        tableName,
        datasaur: datasaur(many),
        now: at(pass * 10),
      });
      summaries.push(summary);
      if (summary.resolved === 1) break;
    }
    // One page and 49 cabinets calls, then on from the 50th project: one page and 11 more.
    expect(summaries).toEqual([
      expect.objectContaining({ resolved: 0, unreached: 1, apiCalls: 50, stoppedBy: 'budget' }),
      expect.objectContaining({ resolved: 1, apiCalls: 12 }),
    ]);
    expect(await mappingOf(tableName, documentId(60))).toMatchObject({
      projectId: projectId(60),
      attempts: 0,
    });

    // A new document in the 5th project: on from the 61st, past the 70th, then from the first.
    await storeLabelEvents(tableName, [documentId(5)], 30);
    const wrapped = await runEnrichment({
      documents: enrichDocuments(),
      tableName,
      datasaur: datasaur(many),
      now: at(30),
    });
    expect(wrapped).toMatchObject({ resolved: 1, apiCalls: 1 + 10 + 1 + 5 });
    expect(await mappingOf(tableName, documentId(5))).toMatchObject({ projectId: projectId(5) });

    // Where the walk stopped is an item of the table, as its schema says.
    const { Items = [] } = await dynamoDb.documents.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': ENRICH_PARTITION },
      }),
    );
    const walk = Items.find((item) => item.itemType === 'projectWalk');
    expect(walk).toMatchObject({ teamId: '1', index: 5 });
    expect(ITEM_SCHEMAS.projectWalk.safeParse(walk).error).toBeUndefined();
  });

  it('starts again from the first page when Datasaur no longer takes the saved cursor', async () => {
    // 105 projects: the walk's second page has a cursor to save. Datasaur's fake lists them by
    // id (walk-p01 … walk-p10, walk-p100 … walk-p105, walk-p11 …): walk-p99 is the last.
    const paged = await startFakeDatasaur({
      projects: Array.from({ length: 105 }, (_, index) => ({
        id: projectId(index + 1),
        documents: [{ id: documentId(index + 1) }],
      })),
    });
    try {
      const tableName = await dynamoDb.createTable();
      const pass = (minutes: number) =>
        runEnrichment({
          documents: enrichDocuments(),
          tableName,
          datasaur: datasaur(paged),
          now: at(minutes),
        });
      await storeLabelEvents(tableName, [documentId(99)]);
      let resolvedIn = 0;
      while (resolvedIn < 4 && (await pass(resolvedIn * 10)).resolved === 0) resolvedIn += 1;
      expect(resolvedIn).toBeLessThan(4);
      // The walk now stands in the second page, at a cursor Datasaur refuses once.
      await storeLabelEvents(tableName, [documentId(5)], 60);
      paged.faults.graphqlError('GetProjectsQuery', 'Invalid cursor');
      const refused = await pass(60);
      expect(refused).toMatchObject({ resolved: 0, stoppedBy: 'datasaur' });
      // From the first page: one page and five cabinets calls, not a refusal on every pass.
      const again = await pass(60 + 7 * 60);
      expect(again).toMatchObject({ resolved: 1, apiCalls: 1 + 5 });
      expect(await mappingOf(tableName, documentId(5))).toMatchObject({ projectId: projectId(5) });
    } finally {
      await paged.close();
    }
  });

  it('passes over a project whose cabinets Datasaur will not give, and finds documents after it', async () => {
    const tableName = await dynamoDb.createTable();
    await storeLabelEvents(tableName, [documentId(3), documentId(20)]);
    const summary = await runEnrichment({
      documents: enrichDocuments(),
      tableName,
      datasaur: withFailingCabinets(datasaur(many), (id) => id === projectId(3)),
    });
    // Passed over, not stopped at: the walk went on to the 20th, then to the end of its budget.
    expect(summary).toMatchObject({ resolved: 1, deferred: 0, unreached: 1, stoppedBy: 'budget' });
    expect(summary.skippedProjects).toEqual([
      {
        teamId: '1',
        projectId: projectId(3),
        error: `GetProjectCabinetsQuery: Internal server error reading ${projectId(3)}`,
      },
    ]);
    expect(await mappingOf(tableName, documentId(20))).toMatchObject({
      projectId: projectId(20),
    });
    // The failing project is read again next time round, and its document found once it answers.
    const later = await runEnrichment({
      documents: enrichDocuments(),
      tableName,
      datasaur: datasaur(many),
      now: at(10),
    });
    expect(later).toMatchObject({ resolved: 1, apiCalls: 1 + 21 + 1 + 3, skippedProjects: [] });
    expect(await mappingOf(tableName, documentId(3))).toMatchObject({ projectId: projectId(3) });
  });

  it('takes three cabinets calls failing in a row for Datasaur failing, and stops there', async () => {
    const tableName = await dynamoDb.createTable();
    await storeLabelEvents(tableName, [documentId(40)]);
    const summary = await runEnrichment({
      documents: enrichDocuments(),
      tableName,
      datasaur: withFailingCabinets(datasaur(many), () => true),
    });
    expect(summary).toMatchObject({ resolved: 0, deferred: 1, apiCalls: 4, stoppedBy: 'datasaur' });
    expect(summary.skippedProjects.map((skipped) => skipped.projectId)).toEqual([
      projectId(1),
      projectId(2),
    ]);
    expect(await mappingOf(tableName, documentId(40))).toMatchObject({ attempts: 1 });
  });
});

describe('a pass without usable credentials', () => {
  const credentialSources = {
    missing: async () => parseDatasaurCredentials('{"clientId": "", "clientSecret": ""}'),
    malformed: async () => parseDatasaurCredentials('{"clientId": "x", "clientSecret": "short"}'),
    refused: async () => ({
      clientId: fake.clientId,
      clientSecret: 'not-the-secret-at-all-0123456789',
    }),
  };

  it.each(Object.keys(credentialSources) as (keyof typeof credentialSources)[])(
    'leaves the documents due, with no attempt counted, when the credentials are %s',
    async (kind) => {
      const tableName = await dynamoDb.createTable();
      await storeLabelEvents(tableName, ['enrich-a']);
      const before = await mappingOf(tableName, 'enrich-a');
      const waiting = await runEnrichment({
        documents: enrichDocuments(),
        tableName,
        datasaur: datasaur(fake, credentialSources[kind]),
        now: at(0),
      });
      expect(waiting).toMatchObject({
        resolved: 0,
        deferred: 0,
        unreached: 1,
        stoppedBy: 'credentials',
      });
      expect(waiting.error).toMatch(/^Datasaur credentials: /);
      const after = await mappingOf(tableName, 'enrich-a');
      expect(after).toMatchObject({ attempts: 0, gsi1sk: before?.gsi1sk });
      expect(after).not.toHaveProperty('lastError');

      // The credentials put right, the very next pass resolves it.
      const resolved = await runEnrichment({
        documents: enrichDocuments(),
        tableName,
        datasaur: datasaur(),
        now: at(0),
      });
      expect(resolved).toMatchObject({ resolved: 1, filled: 1 });
    },
  );
});

describe("a project's label counters", () => {
  it('follow label events stored with the project already known, after the document is finished', async () => {
    const tableName = await dynamoDb.createTable();
    await storeLabelEvents(tableName, ['enrich-a', 'enrich-b']);
    const first = await runEnrichment({
      documents: enrichDocuments(),
      tableName,
      datasaur: datasaur(),
      now: at(0),
    });
    expect(first.projects).toEqual([
      { projectId: 'enrich-p1', documentCount: 2, labelEventCount: 2 },
    ]);
    // 20 minutes on, past the grace period: both documents finished, no longer pending.
    const settled = await runEnrichment({
      documents: enrichDocuments(),
      tableName,
      datasaur: datasaur(),
      now: at(20),
    });
    expect(settled).toMatchObject({ finished: 2 });

    // The worker stores these with their project, and nothing of them is pending.
    const later = await storeLabelEvents(tableName, ['enrich-a', 'enrich-a', 'enrich-b'], 30);
    expect(later).toEqual(Array(3).fill(expect.objectContaining({ projectId: 'enrich-p1' })));
    const recounted = await runEnrichment({
      documents: enrichDocuments(),
      tableName,
      datasaur: datasaur(),
      now: at(30),
    });
    expect(recounted).toMatchObject({ pending: 0, apiCalls: 0 });
    expect(recounted.projects).toEqual([
      { projectId: 'enrich-p1', documentCount: 2, labelEventCount: 5 },
    ]);
    const counts = await labelCountsOf(tableName, 'enrich-p1');
    expect(counts).toMatchObject({ labelEventCount: 5, countedAt: at(30)().toISOString() });
    expect(ITEM_SCHEMAS.projectLabelCounts.safeParse(counts).error).toBeUndefined();

    // Nothing new: checked, not recounted.
    const quiet = await runEnrichment({
      documents: enrichDocuments(),
      tableName,
      datasaur: datasaur(),
      now: at(40),
    });
    expect(quiet.projects).toEqual([]);

    // A label event stored late, older than the newest counted: in the count once it is a day old.
    await storeLabelEvents(tableName, ['enrich-b'], 5);
    const nextDay = await runEnrichment({
      documents: enrichDocuments(),
      tableName,
      datasaur: datasaur(),
      now: at(40 + 24 * 60),
    });
    expect(nextDay.projects).toEqual([
      { projectId: 'enrich-p1', documentCount: 2, labelEventCount: 6 },
    ]);

    // The project's own item gives them.
    const store = createEventStore(dynamoDb.documents, tableName, { documentProjects: true });
    const createdAt = '2026-01-05T09:00:00.000Z';
    const created = seedEventBody('PROJECT_CREATED', {
      projectId: 'enrich-p1',
      timestamp: createdAt,
    });
    await store.record(
      await interpretMessage(
        sqsRecord({ body: created, receivedAt: createdAt }).body,
        new Date(createdAt),
        NO_ARCHIVE,
      ),
    );
    const project = await createQueries(dynamoDb.documents, tableName).project('enrich-p1');
    expect(project?.labels).toEqual({
      documentCount: 2,
      labelEventCount: 6,
      countedAt: at(40 + 24 * 60)().toISOString(),
    });
  });

  it('are checked a few projects a pass, in turn', async () => {
    const tableName = await dynamoDb.createTable();
    await storeLabelEvents(tableName, ['enrich-a', 'enrich-z']);
    await runEnrichment({
      documents: enrichDocuments(),
      tableName,
      datasaur: datasaur(),
      now: at(0),
    });
    await runEnrichment({
      documents: enrichDocuments(),
      tableName,
      datasaur: datasaur(),
      now: at(20),
    });
    await storeLabelEvents(tableName, ['enrich-a', 'enrich-z'], 30);
    const recountedProjects = [];
    for (const minutes of [30, 40, 50]) {
      const summary = await runEnrichment({
        documents: enrichDocuments(),
        tableName,
        datasaur: datasaur(),
        maxCountChecks: 1,
        now: at(minutes),
      });
      recountedProjects.push(summary.projects.map((counts) => counts.projectId));
    }
    expect(recountedProjects.flat().sort()).toEqual(['enrich-p1', 'enrich-p2']);
    expect(recountedProjects.every((projects) => projects.length <= 1)).toBe(true);
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
