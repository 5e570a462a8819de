/**
 * The staged index upgrade (issue 24): CloudFormation creates or deletes one global secondary
 * index per table update, so a table deployed by 0.1.0 (GSI1, GSI2) reaches this version's
 * four indexes one deploy at a time. The documented commands are walked here on the templates
 * they synthesize, each stage's template is checked for what it grants and builds, and every
 * reader of an index a stage lacks is shown to say so.
 */
import { execFile, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../infra/config.ts';
import { createConsoleApp } from '../scripts/console/app.ts';
import { localSource } from '../scripts/console/source.ts';
import { readLocalTarget } from '../scripts/local/config.ts';
import { seedEventBody } from '../scripts/local/datasaur-sender.ts';
import { startFakeDatasaur } from '../scripts/local/fake-datasaur/server.ts';
import { NO_ARCHIVE } from '../scripts/local/no-archive.ts';
import { createDatasaurClient } from '../shared/datasaur/client.ts';
import { ENRICH_METRICS, runEnrichment } from '../shared/enrich/enrich.ts';
import { createEventStore } from '../shared/store/event-store.ts';
import { createQueries } from '../shared/store/queries.ts';
import {
  createTableInput,
  INDEX_NAMES,
  IndexNotDeployedError,
  indexesNamed,
} from '../shared/store/table.ts';
import { interpretMessage } from '../shared/webhook/interpret.ts';
import { AWS_CLI_ENVIRONMENT } from './support/aws-cli-environment.ts';
import {
  type CfnResource,
  environmentOf,
  resourcesOfType,
  statementsOfFunctionRole,
  synthesizeTemplate,
} from './support/cdk-template.ts';
import { startCloudFormationStandIn } from './support/cloudformation-stand-in.ts';
import { type LocalDynamoDb, startLocalDynamoDb } from './support/local-aws.ts';
import { runTypeScript } from './support/local-stack-process.ts';
import { sqsRecord } from './support/webhook-records.ts';

/** The table of the released version, 0.1.0 (git history up to 2026-11-30, e.g. e0e2407). */
const RELEASED_TABLE_INDEXES = ['GSI1', 'GSI2'];

const UPGRADE_SECTION = (() => {
  const page = readFileSync(new URL('../docs/querying.md', import.meta.url), 'utf8');
  const start = page.indexOf('## Upgrading an existing table');
  return page.slice(start, page.indexOf('\n## ', start + 1));
})();
const CHANGELOG = readFileSync(new URL('../CHANGELOG.md', import.meta.url), 'utf8');

/** The `npx cdk deploy` commands of a text's shell blocks, in order, as written. */
function deployCommands(text: string): string[] {
  return [...text.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap(([, block = '']) =>
    block
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.startsWith('npx cdk deploy')),
  );
}

/** The `-c name=value` options of a command. */
function contextOf(command: string): Record<string, string> {
  return Object.fromEntries(
    [...command.matchAll(/-c (\w+)=(\S+)/g)].map(([, name = '', value = '']) => [name, value]),
  );
}

function tableIndexNames(template: Template): string[] {
  const [table] = resourcesOfType(template, 'AWS::DynamoDB::Table');
  const indexes = (table?.Properties.GlobalSecondaryIndexes ?? []) as { IndexName: string }[];
  return indexes.map((index) => index.IndexName).sort();
}

function enrichFunctions(template: Template): CfnResource[] {
  return resourcesOfType(template, 'AWS::Lambda::Function').filter(
    (fn) => environmentOf(fn).POWERTOOLS_SERVICE_NAME === ENRICH_METRICS.service,
  );
}

const STEPS = deployCommands(UPGRADE_SECTION);
/** One template per documented deploy, synthesized once (synthesis is slow). */
const templates = new Map<string, Template>();

/** Stores a seed label event of `documentId` with its own time and receive time `time`. */
async function recordLabelEvent(
  store: ReturnType<typeof createEventStore>,
  documentId: string,
  time: string,
): Promise<void> {
  const body = seedEventBody('BEFORE_UPDATE_LABELS', { documentId, timestamp: time });
  await store.record(
    await interpretMessage(sqsRecord({ body, receivedAt: time }).body, new Date(time), NO_ARCHIVE),
  );
}
beforeAll(() => {
  for (const command of STEPS) {
    templates.set(command, synthesizeTemplate(contextOf(command)));
  }
}, 180_000);

describe('the documented upgrade from 0.1.0', () => {
  it('creates or deletes at most one index per deploy, from GSI1 and GSI2 to every index', () => {
    expect(STEPS.length).toBeGreaterThanOrEqual(2);
    let deployed = RELEASED_TABLE_INDEXES;
    const staged = STEPS.filter((command) => contextOf(command).previousTableIndexes);
    for (const command of staged) {
      const next = tableIndexNames(templates.get(command) as Template);
      const changed = [
        ...next.filter((name) => !deployed.includes(name)),
        ...deployed.filter((name) => !next.includes(name)),
      ];
      expect(changed.length, `${command}: ${deployed.join(',')} → ${next.join(',')}`).toBe(1);
      // Each step names what the table has, so synthesis itself checks the step.
      expect(contextOf(command).previousTableIndexes?.split(',')).toEqual(deployed);
      deployed = next;
    }
    expect(deployed).toEqual([...INDEX_NAMES].sort());
    // Then one plain deploy, which changes no index.
    expect(STEPS.slice(staged.length)).toEqual(['npx cdk deploy']);
    expect(tableIndexNames(templates.get('npx cdk deploy') as Template)).toEqual(deployed);
  });

  it("keeps 0.1.0's webhook URL routed through every staged deploy, and drops it with the plain one", () => {
    const releasedRoutes = (command: string) =>
      resourcesOfType(templates.get(command) as Template, 'AWS::ApiGatewayV2::Route')
        .filter((route) => route.Properties.RouteKey === 'POST /webhooks/datasaur')
        .map((route) => route.logicalId);
    for (const command of STEPS.slice(0, -1)) {
      expect(releasedRoutes(command), command).toEqual(['IngestApiPOSTwebhooksdatasaur7DD979DB']);
    }
    expect(releasedRoutes(STEPS.at(-1) as string)).toEqual([]);
  });

  it('is the sequence the changelog gives', () => {
    expect(deployCommands(CHANGELOG)).toEqual(STEPS);
    expect(CHANGELOG).toContain('npm run migrate -- --stack DatasaurWebhooks');
  });

  it('leaves GSI4 out of the first stage entirely: no index, no grant, no alarm, no enrichment', () => {
    const [first] = STEPS;
    const template = templates.get(first as string) as Template;
    expect(tableIndexNames(template)).toEqual(['GSI1', 'GSI2', 'GSI3']);
    expect(enrichFunctions(template)).toEqual([]);
    expect(JSON.stringify(template.toJSON())).not.toContain('GSI4');
    // The throttle alarms watch the indexes the table has.
    const watched = resourcesOfType(template, 'AWS::CloudWatch::Alarm').flatMap((alarm) =>
      ((alarm.Properties.Dimensions ?? []) as { Name: string; Value: unknown }[])
        .filter((dimension) => dimension.Name === 'GlobalSecondaryIndexName')
        .map((dimension) => dimension.Value),
    );
    expect(watched.sort()).toEqual(['GSI1', 'GSI2', 'GSI3']);
  });

  it('deploys the enrichment with GSI4, its Query grant naming the indexes it reads', () => {
    const template = templates.get(STEPS.at(-1) as string) as Template;
    expect(tableIndexNames(template)).toEqual([...INDEX_NAMES].sort());
    const [enricher] = enrichFunctions(template);
    expect(enricher).toBeDefined();
    const queried = statementsOfFunctionRole(template, enricher as CfnResource)
      .filter((statement) => [statement.Action].flat().includes('dynamodb:Query'))
      .flatMap((statement) => [statement.Resource].flat())
      .map((resource) => JSON.stringify(resource).match(/\/index\/(\w+)/)?.[1])
      .filter((name) => name !== undefined);
    expect(queried.sort()).toEqual(['GSI1', 'GSI4']);
  });
});

describe('tableIndexes and previousTableIndexes', () => {
  const configOf = (context: Record<string, string>) =>
    readConfig({ tryGetContext: (name) => context[name] });

  it('declare every index by default', () => {
    expect(configOf({}).tableIndexes).toEqual(INDEX_NAMES);
  });

  it('refuse a deploy that would create two indexes, naming the first stage to deploy', () => {
    expect(() => configOf({ previousTableIndexes: 'GSI1,GSI2' })).toThrow(
      /tableIndexes creates GSI3 and GSI4 on a table with GSI1,GSI2: .* deploy -c tableIndexes=GSI1,GSI2,GSI3 first/,
    );
  });

  it('refuse a deploy that would delete two indexes', () => {
    expect(() =>
      configOf({ previousTableIndexes: 'GSI1,GSI2,GSI3,GSI4', tableIndexes: 'GSI1,GSI2' }),
    ).toThrow(/deletes GSI3 and GSI4 .* deploy -c tableIndexes=GSI1,GSI2,GSI4 first/);
  });

  it('refuse an unknown index, and a stage without GSI1 or GSI2', () => {
    expect(() => configOf({ tableIndexes: 'GSI1,GSI2,GSI5' })).toThrow(
      /tableIndexes must be a comma-separated list of the table's indexes \(GSI1, GSI2, GSI3, GSI4\), got "GSI1,GSI2,GSI5"/,
    );
    expect(() => configOf({ tableIndexes: 'GSI1,GSI3' })).toThrow(
      /tableIndexes must include GSI1 and GSI2/,
    );
  });
});

describe('readers and writers of GSI3 and GSI4, on tables of each stage', () => {
  let dynamoDb: LocalDynamoDb;
  const released = `events-released-${randomUUID()}`;
  const firstStage = `events-first-stage-${randomUUID()}`;
  beforeAll(async () => {
    dynamoDb = await startLocalDynamoDb();
    for (const [tableName, names] of [
      [released, RELEASED_TABLE_INDEXES],
      [firstStage, ['GSI1', 'GSI2', 'GSI3']],
    ] as const) {
      await dynamoDb.client.send(
        new CreateTableCommand(createTableInput(tableName, indexesNamed(names))),
      );
    }
  });
  afterAll(async () => {
    await dynamoDb?.close();
  });

  it('the event lookup says the table has no GSI3 yet and where the upgrade is', async () => {
    const queries = createQueries(dynamoDb.documents, released);
    const lookup = queries.event('0'.repeat(64));
    await expect(lookup).rejects.toBeInstanceOf(IndexNotDeployedError);
    await expect(lookup).rejects.toThrow(
      `table ${released} has no index GSI3 (lookup by event id) yet`,
    );
    await expect(lookup).rejects.toThrow('docs/querying.md#upgrading-an-existing-table');
  });

  it("the documented index check prints each index's status, run as written with every AWS CLI on the PATH", async () => {
    const [check] = [...UPGRADE_SECTION.matchAll(/^\s*(aws dynamodb describe-table .*)$/gm)].map(
      ([, line]) => line as string,
    );
    expect(check).toBeDefined();
    const awsClis = spawnSync('which', ['-a', 'aws'], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter(Boolean);
    expect(awsClis.length, 'an AWS CLI on the PATH (.ci/run installs one)').toBeGreaterThan(0);
    const cloudFormation = await startCloudFormationStandIn([
      { name: 'DatasaurWebhooks', outputs: { TableName: firstStage } },
    ]);
    try {
      for (const awsCli of awsClis) {
        // Older CLIs ignore AWS_ENDPOINT_URL_*: each call gets its local endpoint as a flag.
        const script = [
          'aws() { case "$1" in',
          `  cloudformation) "${awsCli}" "$@" --endpoint-url "${cloudFormation.endpoint}" ;;`,
          `  dynamodb) "${awsCli}" "$@" --endpoint-url "${dynamoDb.server.endpoint}" ;;`,
          'esac; }',
          check as string,
        ].join('\n');
        // Not spawnSync: the stand-in and the local DynamoDB answer in this process.
        const run = await new Promise<{ stdout: string; stderr: string }>((resolve) => {
          execFile(
            'bash',
            ['-c', script],
            {
              timeout: 60_000,
              env: AWS_CLI_ENVIRONMENT,
            },
            (_error, stdout, stderr) => resolve({ stdout, stderr }),
          );
        });
        expect(run.stderr, awsCli).toBe('');
        expect(run.stdout.trim().split('\n').sort(), awsCli).toEqual([
          'GSI1\tACTIVE',
          'GSI2\tACTIVE',
          'GSI3\tACTIVE',
        ]);
      }
    } finally {
      await cloudFormation.close();
    }
  }, 120_000);

  it("a project's label events say the table has no GSI4 yet", async () => {
    const queries = createQueries(dynamoDb.documents, firstStage);
    await expect(queries.projectLabels('a-project')).rejects.toThrow(
      `table ${firstStage} has no index GSI4 (a project's label events) yet`,
    );
  });

  it('npm run query -- event prints that line and exits 1, without a stack trace', async () => {
    const run = await runTypeScript(
      'scripts/query.ts',
      ['--endpoint', dynamoDb.server.endpoint, '--table', released, 'event', '0'.repeat(64)],
      {},
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`table ${released} has no index GSI3 (lookup by event id) yet`);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it("the console's event search shows the same sentence on its page", async () => {
    const unreachable = 'http://127.0.0.1:1';
    const source = localSource(
      readLocalTarget({
        DYNAMODB_ENDPOINT: dynamoDb.server.endpoint,
        TABLE_NAME: released,
        SQS_ENDPOINT: unreachable,
        S3_ENDPOINT: unreachable,
      }),
    );
    try {
      const app = createConsoleApp({ source, port: () => 4020 });
      const response = await app.request(`/feed?id=${'0'.repeat(64)}`, {
        headers: { Host: '127.0.0.1:4020' },
      });
      expect(response.status).toBe(502);
      const page = await response.text();
      expect(page).toContain(`has no index GSI3 (lookup by event id) yet`);
      expect(page).not.toMatch(/\n\s+at /);
    } finally {
      source.close();
    }
  });

  it('stores no copy of the sort key for GSI4, which pages a project newest first on sk itself', async () => {
    const tableName = `events-all-indexes-${randomUUID()}`;
    await dynamoDb.client.send(new CreateTableCommand(createTableInput(tableName)));
    const fake = await startFakeDatasaur({
      projects: [{ id: 'paged-project', documents: [{ id: 'paged-document' }] }],
    });
    try {
      const store = createEventStore(dynamoDb.documents, tableName, { documentProjects: true });
      const times = ['2026-01-05T10:00:00.000Z', '2026-01-05T10:01:00.000Z'];
      for (const time of times) await recordLabelEvent(store, 'paged-document', time);
      const summary = await runEnrichment({
        documents: dynamoDb.documents,
        tableName,
        datasaur: createDatasaurClient({
          baseUrl: fake.url,
          credentials: { clientId: fake.clientId, clientSecret: fake.clientSecret },
          http: { maxAttempts: 1 },
        }),
      });
      expect(summary.filled).toBe(2);
      const { Items = [] } = await dynamoDb.documents.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': 'DOCUMENT#paged-document' },
        }),
      );
      const labelItems = Items.filter((item) => item.itemType === 'labelEvent');
      expect(labelItems).toHaveLength(2);
      for (const item of labelItems) {
        expect(item).toMatchObject({ projectId: 'paged-project', gsi4pk: 'PROJECT#paged-project' });
        expect(item).not.toHaveProperty('gsi4sk');
      }
      const queries = createQueries(dynamoDb.documents, tableName);
      const first = await queries.projectLabels('paged-project', { limit: 1 });
      const second = await queries.projectLabels('paged-project', {
        limit: 1,
        cursor: first.cursor as string,
      });
      expect([...first.items, ...second.items].map((item) => item.eventTime)).toEqual(
        [...times].reverse(),
      );
    } finally {
      await fake.close();
    }
  });

  it("the enrichment's recount says the table has no GSI4 yet", async () => {
    const fake = await startFakeDatasaur({
      projects: [{ id: 'stage-project', documents: [{ id: 'stage-document' }] }],
    });
    try {
      const store = createEventStore(dynamoDb.documents, firstStage, { documentProjects: true });
      await recordLabelEvent(store, 'stage-document', '2026-01-05T10:00:00.000Z');
      const pass = runEnrichment({
        documents: dynamoDb.documents,
        tableName: firstStage,
        datasaur: createDatasaurClient({
          baseUrl: fake.url,
          credentials: { clientId: fake.clientId, clientSecret: fake.clientSecret },
          http: { maxAttempts: 1 },
        }),
      });
      await expect(pass).rejects.toThrow(
        `table ${firstStage} has no index GSI4 (a project's label events) yet`,
      );
    } finally {
      await fake.close();
    }
  });
});
