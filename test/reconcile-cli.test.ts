/**
 * `npm run reconcile` as a user runs it: against the fake Datasaur API and a local table, a
 * reviewed project that never sent a webhook is shown by --dry-run, then repaired, and the
 * run is recorded for `npm run query -- reconcile`.
 */
import { fileURLToPath } from 'node:url';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeDatasaur, startFakeDatasaur } from '../scripts/local/fake-datasaur/server.ts';
import { projectKey } from '../shared/store/keys.ts';
import { createQueries } from '../shared/store/queries.ts';
import { type LocalDynamoDb, startLocalDynamoDb } from './support/local-aws.ts';
import { fakeDatasaurEnvironment, runTypeScript } from './support/local-stack-process.ts';

const RECONCILE = fileURLToPath(new URL('../scripts/reconcile.ts', import.meta.url));

let dynamoDb: LocalDynamoDb;
let fake: FakeDatasaur;
let tableName: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  [dynamoDb, fake] = await Promise.all([
    startLocalDynamoDb(),
    startFakeDatasaur({
      projects: [
        { id: 'R1', name: 'never-sent.txt', status: 'COMPLETE' },
        { id: 'R2', name: 'other-team.txt', status: 'COMPLETE', team: { id: '2', name: 'Two' } },
      ],
      teams: [{ id: '3', name: 'Empty team' }],
    }),
  ]);
  tableName = await dynamoDb.createTable();
  env = {
    DYNAMODB_ENDPOINT: dynamoDb.server.endpoint,
    TABLE_NAME: tableName,
    ...fakeDatasaurEnvironment(fake),
    DATASAUR_TEAM_IDS: '1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
});
afterAll(async () => {
  await Promise.all([dynamoDb.close(), fake.close()]);
});

describe('npm run reconcile', () => {
  it('shows the gap with --dry-run, repairs it, and the query lists the run', async () => {
    const dry = await runTypeScript(RECONCILE, ['--dry-run'], env);
    expect(dry.code).toBe(0);
    expect(dry.stderr).toContain('team 1 page 1: 1 project(s); 1 checked, 1 gap(s) so far');
    expect(dry.stdout).toContain('missing R1 (team 1): Datasaur COMPLETE → REVIEWED');
    const before = await dynamoDb.documents.send(
      new GetCommand({ TableName: tableName, Key: projectKey('R1') }),
    );
    expect(before.Item).toBeUndefined();

    const repair = await runTypeScript(RECONCILE, [], env);
    expect(repair.code).toBe(0);
    expect(repair.stdout).toContain('repaired 1 of 1 gap(s)');

    // What `npm run query -- project R1` and `npm run query -- reconcile` print.
    const queries = createQueries(dynamoDb.documents, tableName);
    expect(await queries.project('R1')).toMatchObject({ status: 'REVIEWED', source: 'reconcile' });
    expect((await queries.reconcileRuns()).items).toEqual([
      expect.objectContaining({ outcome: 'succeeded', gapsFound: 1, repaired: 1 }),
    ]);
  }, 120_000);

  it('lists the projects of every team getAllTeams answers when no team id is set', async () => {
    const before = fake.counts.graphql.GetAllTeams ?? 0;
    const dry = await runTypeScript(RECONCILE, ['--dry-run', '--page-size', '20'], {
      ...env,
      DATASAUR_TEAM_IDS: '',
    });
    expect(dry.code).toBe(0);
    expect((fake.counts.graphql.GetAllTeams ?? 0) - before).toBe(1);
    expect(fake.invalidDocuments).toEqual([]);
    expect(dry.stderr).toContain('team 1 page 1: 1 project(s)');
    expect(dry.stderr).toContain('team 2 page 1: 1 project(s)');
    expect(dry.stderr).toContain('team 3 page 1: 0 project(s)');
    expect(dry.stdout).toContain('missing R2 (team 2): Datasaur COMPLETE → REVIEWED');
  }, 60_000);

  it('asks for no team list when team ids are given: they filter', async () => {
    const before = fake.counts.graphql.GetAllTeams ?? 0;
    const dry = await runTypeScript(RECONCILE, ['--dry-run', '--team', '2'], env);
    expect(dry.code).toBe(0);
    expect((fake.counts.graphql.GetAllTeams ?? 0) - before).toBe(0);
    expect(dry.stderr).toContain('team 2 page 1');
    expect(dry.stderr).not.toContain('team 1 page');
  }, 60_000);
});
