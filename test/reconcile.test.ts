import {
  BatchWriteCommand,
  type BatchWriteCommandInput,
  type BatchWriteCommandOutput,
  GetCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FakeDatasaur,
  type ProjectUpdate,
  startFakeDatasaur,
} from '../scripts/local/fake-datasaur/server.ts';
import { NO_ARCHIVE } from '../scripts/local/no-archive.ts';
import { SEED_EVENTS } from '../scripts/local/seed-events.ts';
import { createDatasaurClient } from '../shared/datasaur/client.ts';
import type { DatasaurProjectStatus } from '../shared/datasaur/get-projects.ts';
import { DEFAULT_HTTP_SETTINGS } from '../shared/datasaur/http.ts';
import {
  type ExportRequest,
  exportRepairedTransitions,
  exportRequestFor,
  exportRequestForRecorded,
} from '../shared/export/export-trigger.ts';
import { compareProject, STATUS_FROM_DATASAUR } from '../shared/reconcile/reconcile.ts';
import {
  type ReconcileOptions,
  type ReconcileRun,
  reconcile,
} from '../shared/reconcile/reconciler.ts';
import { limitConcurrency } from '../shared/runtime/concurrency.ts';
import { createEventStore, type ProjectTransition } from '../shared/store/event-store.ts';
import { projectKey } from '../shared/store/keys.ts';
import type { ProjectStatus } from '../shared/webhook/events.ts';
import { interpretMessage } from '../shared/webhook/interpret.ts';
import { asReconcilerRole } from './support/leading-keys.ts';
import {
  documentsWithFaults,
  type LocalDynamoDb,
  startLocalDynamoDb,
} from './support/local-aws.ts';
import { sqsRecord, tableContents } from './support/webhook-records.ts';

const TEAM = '7';
const NOW = new Date('2026-11-30T06:00:00.000Z');
const HOUR = 3_600_000;
const at = (hoursBeforeNow: number) =>
  new Date(NOW.getTime() - hoursBeforeNow * HOUR).toISOString();

const WEBHOOK_OF: Record<ProjectStatus, keyof typeof SEED_EVENTS> = {
  CREATED: 'PROJECT_CREATED',
  COMPLETED: 'PROJECT_COMPLETED',
  REVIEWED: 'PROJECT_REVIEWED',
};

/** A webhook of `status` for `projectId` at `timestamp`, built from Datasaur's example body. */
function webhook(projectId: string, status: ProjectStatus, timestamp: string): string {
  const seed = SEED_EVENTS[WEBHOOK_OF[status]] as { eventType: string; data: object };
  return JSON.stringify({
    ...seed,
    data: {
      ...seed.data,
      timestamp,
      project: { id: projectId, name: `${projectId}.txt`, tags: [] },
      team: { id: TEAM, name: 'Team seven' },
    },
  });
}

interface Scenario {
  readonly id: string;
  readonly datasaur: DatasaurProjectStatus;
  /** The statuses whose webhooks the table received. */
  readonly webhooks: readonly ProjectStatus[];
  readonly kind: 'missing' | 'behind' | 'ahead' | 'matching' | 'old';
}

/**
 * 123 projects of one team, three pages of 50: 20 missing, 30 behind by one status, 10
 * behind by two, 10 ahead, 50 matching, and 3 not touched for 60 days (outside the window).
 */
const SCENARIOS: Scenario[] = Array.from({ length: 123 }, (_, index) => {
  const id = `P${String(index).padStart(3, '0')}`;
  const cycle = (list: readonly DatasaurProjectStatus[]) =>
    list[index % list.length] as DatasaurProjectStatus;
  if (index < 20)
    return {
      id,
      kind: 'missing',
      datasaur: cycle(['CREATED', 'IN_PROGRESS', 'REVIEW_READY', 'IN_REVIEW', 'COMPLETE']),
      webhooks: [],
    };
  if (index < 40)
    return {
      id,
      kind: 'behind',
      datasaur: cycle(['REVIEW_READY', 'IN_REVIEW']),
      webhooks: ['CREATED'],
    };
  if (index < 50)
    return { id, kind: 'behind', datasaur: 'COMPLETE', webhooks: ['CREATED', 'COMPLETED'] };
  if (index < 60) return { id, kind: 'behind', datasaur: 'COMPLETE', webhooks: ['CREATED'] };
  if (index < 70)
    return {
      id,
      kind: 'ahead',
      datasaur: 'IN_REVIEW',
      webhooks: ['CREATED', 'COMPLETED', 'REVIEWED'],
    };
  if (index < 120) {
    const datasaur = cycle(['IN_PROGRESS', 'IN_REVIEW', 'COMPLETE']);
    const upTo = STATUS_FROM_DATASAUR[datasaur];
    const all: ProjectStatus[] = ['CREATED', 'COMPLETED', 'REVIEWED'];
    return { id, kind: 'matching', datasaur, webhooks: all.slice(0, all.indexOf(upTo) + 1) };
  }
  return { id, kind: 'old', datasaur: 'COMPLETE', webhooks: [] };
});

/** One per project behind; per missing one PROJECT_CREATED, then its status when past CREATED. */
const SYNTHETIC_EVENTS = 40 + 20 + 12;

const projectsOf = (scenarios: readonly Scenario[]): ProjectUpdate[] =>
  scenarios.map((scenario) => {
    const old = scenario.kind === 'old';
    return {
      id: scenario.id,
      name: `${scenario.id}.txt`,
      status: scenario.datasaur,
      team: { id: TEAM, name: 'Team seven' },
      createdDate: at(old ? 24 * 90 : 10),
      updatedDate: at(old ? 24 * 60 : 2),
      completedDate: scenario.datasaur === 'COMPLETE' ? at(old ? 24 * 60 : 3) : null,
    };
  });

let dynamoDb: LocalDynamoDb;
let fake: FakeDatasaur;
/** The table after one clean run over the scenario: what every other way must end with. */
let afterOneRun: Record<string, unknown>[];
beforeAll(async () => {
  [dynamoDb, fake] = await Promise.all([
    startLocalDynamoDb(),
    startFakeDatasaur({ projects: projectsOf(SCENARIOS) }),
  ]);
});
afterAll(async () => {
  await Promise.all([dynamoDb.close(), fake.close()]);
});

/** The scenario's webhooks as the worker's event store stored them, written once. */
let webhookItems: Record<string, unknown>[] | undefined;

/** A fresh table holding the scenario's webhooks (stored once, then copied). */
async function tableWithWebhooks(): Promise<string> {
  const tableName = await dynamoDb.createTable();
  if (webhookItems === undefined) {
    const store = createEventStore(dynamoDb.documents, tableName);
    // As the worker would, a few at a time (not 190 requests queued on 50 sockets at once).
    const limited = limitConcurrency(10);
    await Promise.all(
      SCENARIOS.flatMap((scenario) =>
        scenario.webhooks.map((status, step) =>
          limited(async () =>
            store.record(
              await interpretMessage(
                sqsRecord({
                  body: webhook(scenario.id, status, at(9 - step)),
                  receivedAt: at(9 - step),
                }).body,
                new Date(at(9 - step)),
                NO_ARCHIVE,
              ),
            ),
          ),
        ),
      ),
    );
    webhookItems = await tableContents(dynamoDb.documents, tableName);
    return tableName;
  }
  for (let start = 0; start < webhookItems.length; start += 25) {
    const batch = webhookItems.slice(start, start + 25);
    let pending: BatchWriteCommandInput['RequestItems'] = {
      [tableName]: batch.map((Item) => ({ PutRequest: { Item } })),
    };
    while (pending !== undefined && Object.keys(pending).length > 0) {
      const answer: BatchWriteCommandOutput = await dynamoDb.documents.send(
        new BatchWriteCommand({ RequestItems: pending }),
      );
      pending = answer.UnprocessedItems;
    }
  }
  return tableName;
}

function runOptions(tableName: string, overrides: Partial<ReconcileOptions> = {}) {
  const transitions: ProjectTransition[] = [];
  const options: ReconcileOptions = {
    client: createDatasaurClient({
      baseUrl: fake.url,
      credentials: { clientId: fake.clientId, clientSecret: fake.clientSecret },
    }),
    documents: dynamoDb.documents,
    tableName,
    teamIds: [TEAM],
    now: () => NOW,
    onTransition: async (transition) => {
      transitions.push(transition);
    },
    ...overrides,
  };
  // Held to the partitions the reconciler's role allows, as IAM holds it in AWS.
  const limited = { ...options, documents: asReconcilerRole(options.documents) };
  return { options: limited, transitions };
}

/** The table without the run items, which differ by run id. */
async function contentsWithoutRuns(tableName: string) {
  return (await tableContents(dynamoDb.documents, tableName)).filter(
    (item) => item.itemType !== 'reconcileRun',
  );
}

async function projectItem(tableName: string, projectId: string) {
  const { Item } = await dynamoDb.documents.send(
    new GetCommand({ TableName: tableName, Key: projectKey(projectId) }),
  );
  return Item;
}

describe('the status mapping', () => {
  it('maps every Datasaur status onto CREATED, COMPLETED or REVIEWED', () => {
    expect(STATUS_FROM_DATASAUR).toEqual({
      CREATED: 'CREATED',
      IN_PROGRESS: 'CREATED',
      REVIEW_READY: 'COMPLETED',
      IN_REVIEW: 'COMPLETED',
      COMPLETE: 'REVIEWED',
    });
  });

  it('calls a table ahead of the API nothing to repair', () => {
    const project = {
      id: 'P',
      name: 'P',
      status: 'IN_REVIEW',
      createdDate: null,
      updatedDate: null,
      completedDate: null,
      team: { id: TEAM, name: null },
      tags: null,
    } as const;
    expect(compareProject(project, { status: 'REVIEWED' }).comparison).toBe('ahead');
    expect(compareProject(project, { status: 'COMPLETED' }).comparison).toBe('matching');
    expect(compareProject(project, { status: 'CREATED' }).comparison).toBe('behind');
    expect(compareProject(project, undefined).comparison).toBe('missing');
  });
});

describe('a reconcile run over 123 projects in three pages', () => {
  let tableName: string;
  let first: ReconcileRun;
  let firstTransitions: ProjectTransition[];
  let before: Record<string, unknown>[];

  beforeAll(async () => {
    tableName = await tableWithWebhooks();
    before = await contentsWithoutRuns(tableName);
    const pages: number[] = [];
    const { options, transitions } = runOptions(tableName, {
      onPage: (progress) => pages.push(progress.page),
    });
    first = await reconcile(options);
    firstTransitions = transitions;
    afterOneRun = await contentsWithoutRuns(tableName);
    expect(pages).toEqual([1, 2, 3]);
  });

  it('finds exactly the gaps and repairs them', async () => {
    expect(first).toMatchObject({
      outcome: 'succeeded',
      pages: 3,
      projectsChecked: 120,
      projectsOutsideWindow: 3,
      compared: { missing: 20, behind: 40, ahead: 10, matching: 50 },
      gapsFound: 60,
      repaired: 60,
      errors: [],
    });
    expect(fake.invalidDocuments).toEqual([]);
    for (const scenario of SCENARIOS.filter((one) => one.kind !== 'old')) {
      const item = await projectItem(tableName, scenario.id);
      const expected =
        scenario.kind === 'ahead' ? 'REVIEWED' : STATUS_FROM_DATASAUR[scenario.datasaur];
      expect(item?.status, scenario.id).toBe(expected);
      if (scenario.kind === 'missing' || scenario.kind === 'behind') {
        expect(item?.source, scenario.id).toBe('reconcile');
      } else {
        expect(item?.source, scenario.id).toBeUndefined();
      }
    }
  });

  it('stores synthetic status events with the API timestamps, never as webhooks', async () => {
    const items = await tableContents(dynamoDb.documents, tableName);
    const synthetic = items.filter((item) => item.itemType === 'syntheticStatusEvent');
    expect(synthetic).toHaveLength(SYNTHETIC_EVENTS);
    const reviewed = synthetic.find((item) => item.projectId === 'P050');
    expect(reviewed).toMatchObject({
      eventType: 'PROJECT_REVIEWED',
      source: 'reconcile',
      datasaurStatus: 'COMPLETE',
      timestampFrom: 'completedDate',
      data: { timestamp: at(3) },
      eventTime: at(3),
      receivedAt: NOW.toISOString(),
    });
    expect(await projectItem(tableName, 'P050')).toMatchObject({
      status: 'REVIEWED',
      statusAt: at(3),
      reviewedAt: at(3),
    });
  });

  it('leaves projects ahead of the API and matching ones untouched', async () => {
    const after = await contentsWithoutRuns(tableName);
    const untouched = SCENARIOS.filter((one) => one.kind === 'ahead' || one.kind === 'matching');
    const of = (items: Record<string, unknown>[], id: string) =>
      items.filter((item) => item.pk === projectKey(id).pk);
    for (const scenario of untouched) {
      expect(of(after, scenario.id), scenario.id).toEqual(of(before, scenario.id));
    }
  });

  it('hands each repaired transition to the export trigger once', async () => {
    const past = firstTransitions.filter((transition) => transition.status !== 'CREATED');
    // 40 behind, and the 12 missing projects past CREATED.
    expect(past).toHaveLength(52);
    expect(new Set(past.map((transition) => transition.projectId)).size).toBe(52);
    // Through the exporter's trigger, as a webhook's transition: exports of REVIEWED only.
    const sent: ExportRequest[] = [];
    const trigger = exportRepairedTransitions(
      { send: async (request) => void sent.push(request) },
      'REVIEWED',
    );
    for (const transition of firstTransitions) await trigger(transition);
    const reviewed = SCENARIOS.filter(
      (one) => (one.kind === 'missing' || one.kind === 'behind') && one.datasaur === 'COMPLETE',
    );
    expect(sent.map((request) => request.projectId).sort()).toEqual(
      reviewed.map((one) => one.id).sort(),
    );
    expect(sent[0]).toMatchObject({ kind: 'transition', status: 'REVIEWED' });
  });

  it('finds no gap on the second run and writes nothing but its run item', async () => {
    const tableBefore = await contentsWithoutRuns(tableName);
    const { options, transitions } = runOptions(tableName);
    const second = await reconcile(options);
    expect(second).toMatchObject({
      gapsFound: 0,
      repaired: 0,
      writeUnits: 0,
      outcome: 'succeeded',
    });
    expect(second.compared).toEqual({ missing: 0, behind: 0, ahead: 10, matching: 110 });
    expect(transitions).toEqual([]);
    expect(await contentsWithoutRuns(tableName)).toEqual(tableBefore);
  });

  it('records each run as a reconcile item', async () => {
    const runs = (await tableContents(dynamoDb.documents, tableName)).filter(
      (item) => item.itemType === 'reconcileRun',
    );
    expect(runs).toHaveLength(2);
    // Both runs started at the test's fixed time: which sorts first depends on the run id.
    const repairing = runs.find((run) => run.gapsFound === 60);
    expect(repairing).toMatchObject({
      pk: 'RECONCILE',
      repaired: 60,
      pages: 3,
      outcome: 'succeeded',
    });
    expect(runs.filter((run) => run.gapsFound === 0)).toHaveLength(1);
  });

  it('a webhook arriving after its repair changes nothing further and asks for the same export', async () => {
    const store = createEventStore(dynamoDb.documents, tableName);
    const repaired = await projectItem(tableName, 'P055');
    const reconciled = firstTransitions.find(
      (transition) => transition.projectId === 'P055' && transition.status === 'REVIEWED',
    );
    // The late webhook carries Datasaur's own time, a little after the API's completedDate.
    const later = new Date(NOW.getTime() + HOUR).toISOString();
    const body = webhook('P055', 'REVIEWED', at(2.9));
    const late = await store.record(
      await interpretMessage(
        sqsRecord({ body, receivedAt: later }).body,
        new Date(later),
        NO_ARCHIVE,
      ),
    );
    expect(late.duplicate).toBe(false);
    expect(late.transition).toEqual(reconciled);
    // The worker asks for the export the reconciler already asked for: the same archive.
    expect(exportRequestForRecorded(late, 'REVIEWED')).toEqual(
      reconciled && exportRequestFor(reconciled, 'REVIEWED'),
    );
    const after = await projectItem(tableName, 'P055');
    expect(after).toMatchObject({
      status: repaired?.status,
      statusAt: repaired?.statusAt,
      gsi1sk: repaired?.gsi1sk,
      reviewedBy: { email: expect.any(String) },
    });
    expect(after?.source).toBeUndefined();
    const { options } = runOptions(tableName);
    expect((await reconcile(options)).gapsFound).toBe(0);
  });
});

describe('concurrency and failures', () => {
  it('a dry run reports the gaps and writes nothing; two concurrent runs then give the table of one', async () => {
    const tableName = await tableWithWebhooks();
    const before = await tableContents(dynamoDb.documents, tableName);
    const dry = runOptions(tableName, { dryRun: true });
    const run = await reconcile(dry.options);
    expect(run).toMatchObject({ dryRun: true, gapsFound: 60, repaired: 0 });
    expect(run.gaps[0]).toMatchObject({ projectId: 'P000', kind: 'missing' });
    expect(dry.transitions).toEqual([]);
    expect(await tableContents(dynamoDb.documents, tableName)).toEqual(before);

    const concurrent = await Promise.all([
      reconcile(runOptions(tableName).options),
      reconcile(runOptions(tableName).options),
    ]);
    expect(concurrent.map((one) => one.outcome)).toEqual(['succeeded', 'succeeded']);
    expect(await contentsWithoutRuns(tableName)).toEqual(afterOneRun);
  });

  it('two concurrent runs that read different API times still write one event per gap', async () => {
    const tableName = await tableWithWebhooks();
    const later = new Date(NOW.getTime() + 60_000);
    await Promise.all([
      reconcile(runOptions(tableName).options),
      reconcile(runOptions(tableName, { now: () => later }).options),
    ]);
    const synthetic = (await tableContents(dynamoDb.documents, tableName)).filter(
      (item) => item.itemType === 'syntheticStatusEvent',
    );
    expect(synthetic).toHaveLength(SYNTHETIC_EVENTS);
  });

  it('records an API error mid-run, and the next run finishes the repair', async () => {
    const tableName = await tableWithWebhooks();
    const { options } = runOptions(tableName, {
      // Page 2 answers with a GraphQL error, as Datasaur does (HTTP 200 with errors).
      onPage: (progress) => {
        if (progress.page === 1) fake.faults.graphqlError('GetProjectsQuery', 'database busy');
      },
    });
    const failed = await reconcile(options);
    expect(failed).toMatchObject({ outcome: 'failed', pages: 1, projectsChecked: 50 });
    expect(failed.errors).toEqual([expect.stringContaining('page 2')]);
    expect(failed.errors[0]).toContain('database busy');

    const next = await reconcile(runOptions(tableName).options);
    expect(next).toMatchObject({ outcome: 'succeeded', gapsFound: 60 - failed.gapsFound });

    expect(await contentsWithoutRuns(tableName)).toEqual(afterOneRun);
  });

  it('checks the other projects of a team when one has a date that is no date', async () => {
    const tableName = await dynamoDb.createTable();
    const team = { id: 'dates-team', name: 'Dates' };
    // An epoch-millisecond string where an ISO date belongs: data, not a reason to stop.
    fake.upsertProject({ id: 'DATES-1', status: 'COMPLETE', team, updatedDate: '1764460800000' });
    fake.upsertProject({ id: 'DATES-2', status: 'COMPLETE', team });
    const run = await reconcile(runOptions(tableName, { teamIds: [team.id] }).options);
    expect(run.errors).toEqual([]);
    expect(run).toMatchObject({ outcome: 'succeeded', projectsChecked: 2, repaired: 2 });
    expect(await projectItem(tableName, 'DATES-2')).toMatchObject({ status: 'REVIEWED' });
  });

  it('repairs a project Datasaur answers without its team (Project.team is nullable) under the team it was listed for', async () => {
    const tableName = await dynamoDb.createTable();
    const team = { id: 'hidden-team', name: 'Hidden' };
    fake.upsertProject({ id: 'HIDDEN-1', status: 'COMPLETE', team, teamHidden: true });
    const run = await reconcile(runOptions(tableName, { teamIds: [team.id] }).options);
    expect(run.errors).toEqual([]);
    expect(run).toMatchObject({ outcome: 'succeeded', gapsFound: 1, repaired: 1 });
    expect(run.gaps).toEqual([expect.objectContaining({ projectId: 'HIDDEN-1', teamId: team.id })]);
    expect(await projectItem(tableName, 'HIDDEN-1')).toMatchObject({
      status: 'REVIEWED',
      teamId: team.id,
    });
  });

  it('records a run that could not list the teams as failed, with the reason', async () => {
    const tableName = await dynamoDb.createTable();
    // Every attempt at listing the teams answers 503; nothing is left for the next test.
    fake.faults.httpStatus(503, DEFAULT_HTTP_SETTINGS.maxAttempts);
    const run = await reconcile(
      runOptions(tableName, {
        teamIds: undefined,
        client: createDatasaurClient({
          baseUrl: fake.url,
          credentials: { clientId: fake.clientId, clientSecret: fake.clientSecret },
          http: { sleep: async () => {} },
        }),
      }).options,
    );
    expect(run).toMatchObject({ outcome: 'failed', projectsChecked: 0, teamIds: [] });
    expect(run.errors).toEqual([expect.stringContaining('listing the teams')]);
    expect(run.errors[0]).toContain('503');
    const runs = (await tableContents(dynamoDb.documents, tableName)).filter(
      (item) => item.itemType === 'reconcileRun',
    );
    expect(runs).toEqual([expect.objectContaining({ runId: run.runId, outcome: 'failed' })]);
  });

  it('a write that fails half-way through a repair is finished by the next run', async () => {
    const tableName = await tableWithWebhooks();
    // DynamoDB refusing one synthetic event's put, after its receipt was written: a fault
    // dynalite cannot produce on demand, so the client is wrapped to throw it.
    const documents = documentsWithFaults(dynamoDb, (input) =>
      input.includes('"syntheticStatusEvent"') && input.includes('"P050"')
        ? new Error('injected: the connection reset')
        : undefined,
    );
    const failed = await reconcile(runOptions(tableName, { documents }).options);
    expect(failed).toMatchObject({ outcome: 'failed', repaired: 59, gapsFound: 60 });
    expect(failed.errors).toEqual([expect.stringContaining('project P050')]);

    const next = await reconcile(runOptions(tableName).options);
    expect(next).toMatchObject({ outcome: 'succeeded', gapsFound: 1, repaired: 1 });
    expect(await contentsWithoutRuns(tableName)).toEqual(afterOneRun);
  });
});
