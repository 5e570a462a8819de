import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { SEED_EVENTS, SEED_EXPORT_DELIVERY } from '../scripts/local/seed-events.ts';
import { LOCAL_CLIENT_CONFIG } from '../scripts/local/servers.ts';
import {
  archivedEventItem,
  type EventItem,
  restoredItem,
  type SyntheticStatusEventItem,
  withoutFileUrl,
} from '../shared/store/items.ts';
import {
  feedKeys,
  projectEventKey,
  projectKey,
  receiptKey,
  reconcileRunKey,
} from '../shared/store/keys.ts';
import {
  MIGRATION_MARKER_KEY,
  MIGRATION_STEPS,
  type MigrationProgress,
  migrateTable,
} from '../shared/store/migrations.ts';
import { createQueries } from '../shared/store/queries.ts';
import { startCloudFormationStandIn } from './support/cloudformation-stand-in.ts';
import { inEarlierLayout, unsharded } from './support/earlier-layout.ts';
import { type LocalDynamoDb, startedForTests, startLocalDynamoDb } from './support/local-aws.ts';
import { tableContents, webhookEventItem } from './support/webhook-records.ts';

type Stored = Record<string, unknown>;

/** Every kind of event item, today's layout, `perKind` of each (distinct ids and times). */
function currentEventItems(perKind: number): EventItem[] {
  const items: EventItem[] = [];
  for (let index = 0; index < perKind; index += 1) {
    const receivedAt = new Date(
      Date.UTC(2026, 10, 1 + (index % 20), 8, 0, index % 60),
    ).toISOString();
    const timestamp = new Date(Date.UTC(2026, 9, 1, 0, 0, index)).toISOString();
    const fromBody = (body: string | Buffer, method: 'POST' | 'PUT' = 'POST') =>
      webhookEventItem(body, receivedAt, method);
    const json = (value: unknown) => JSON.stringify(value);
    const created = SEED_EVENTS.PROJECT_CREATED;
    const labels = SEED_EVENTS.BEFORE_UPDATE_LABELS;
    const labelEvent = fromBody(
      json({
        ...labels,
        data: { ...labels.data, timestamp, document: { ...labels.data.document, id: `D${index}` } },
      }),
    );
    const largeLabels = fromBody(
      json({ ...labels, data: { ...labels.data, timestamp, document: { id: `L${index}` } } }),
    );
    const archived = archivedEventItem(largeLabels, {
      bucket: 'archive',
      key: `bodies/${largeLabels.eventId}`,
      size: 100_000,
      sha256: largeLabels.eventId,
    });
    const eventId = `reconcile-REVIEWED-${index}`;
    const synthetic: SyntheticStatusEventItem = {
      ...projectEventKey(`S${index}`, timestamp, eventId),
      ...feedKeys(receivedAt, eventId),
      itemType: 'syntheticStatusEvent',
      eventType: 'PROJECT_REVIEWED',
      eventId,
      receivedAt,
      eventTime: timestamp,
      source: 'reconcile',
      projectId: `S${index}`,
      teamId: '1',
      data: { timestamp, project: { id: `S${index}` }, team: { id: '1' } },
      datasaurStatus: 'COMPLETE',
      timestampFrom: 'completedDate',
    };
    items.push(
      fromBody(
        json({ ...created, data: { ...created.data, timestamp, project: { id: `P${index}` } } }),
      ),
      labelEvent,
      archived ?? largeLabels,
      fromBody(json({ ...SEED_EXPORT_DELIVERY, projectId: `P${index}` }), 'PUT'),
      fromBody(
        json({ eventType: 'PROJECT_ARCHIVED', data: { timestamp, team: { id: '1' }, n: index } }),
      ),
      fromBody(json({ eventType: 'PROJECT_ARCHIVED', data: { n: index } })),
      fromBody(`not json ${index}`),
      fromBody(Buffer.from([0xff, 0xfe, index % 256])),
      synthetic,
    );
  }
  return items;
}

/** Items the migration must leave as they are: projects, first receipts, reconcile runs. */
function otherItems(count: number): Stored[] {
  return Array.from({ length: count }, (_, index) => [
    {
      ...projectKey(`P${index}`),
      itemType: 'project',
      projectId: `P${index}`,
      eventCount: 1,
      lastEventAt: '2026-11-01T00:00:00.000Z',
    },
    { ...receiptKey(`r${index}`), itemType: 'receipt', receivedAt: '2026-11-01T00:00:00.000Z' },
    { ...reconcileRunKey('2026-11-01T00:00:00.000Z', `run${index}`), itemType: 'reconcileRun' },
  ]).flat();
}

async function putAll(dynamoDb: LocalDynamoDb, tableName: string, items: readonly Stored[]) {
  for (let start = 0; start < items.length; start += 25) {
    let requests = items.slice(start, start + 25).map((Item) => ({ PutRequest: { Item } }));
    while (requests.length > 0) {
      const output = await dynamoDb.documents.send(
        new BatchWriteCommand({ RequestItems: { [tableName]: requests } }),
      );
      requests = (output.UnprocessedItems?.[tableName] ?? []) as typeof requests;
    }
  }
}

const PER_KIND = 400;
const current = currentEventItems(PER_KIND);
const others = otherItems(100);
const byKey = (items: readonly Stored[]) =>
  new Map(items.map((item) => [`${item.pk}\u0000${item.sk}`, item]));

const dynamoDb = startedForTests(startLocalDynamoDb);

/** A table as the earlier code left it: every event item in the earlier layout. */
/**
 * An item as the migration leaves it: a delivery's pre-signed link is removed (no export reads
 * it from the item), at the time of the run.
 */
function asMigrated(item: EventItem): EventItem {
  if (item.itemType !== 'export' || item.data.fileUrl === undefined) return item;
  return withoutFileUrl(item, expect.any(String) as unknown as string, 'MIGRATED');
}

async function earlierTable(): Promise<string> {
  const tableName = await dynamoDb.createTable();
  await putAll(dynamoDb, tableName, [...current.map(inEarlierLayout), ...others]);
  return tableName;
}

describe('npm run migrate, step 1: self-describing event items', () => {
  it(`builds ${current.length} event items of every kind`, () => {
    const kinds = new Set(current.map((item) => item.itemType));
    expect([...kinds].sort()).toEqual([
      'export',
      'labelEvent',
      'projectEvent',
      'rejected',
      'syntheticStatusEvent',
      'unknownEvent',
    ]);
    expect(current.filter((item) => 'bodyObject' in item)).toHaveLength(PER_KIND);
    expect(current.length).toBeGreaterThanOrEqual(3000);
  });

  it('reads every item of the earlier layout as the item written today', () => {
    for (const item of current) {
      expect(restoredItem(inEarlierLayout(item))).toEqual(unsharded({ ...item }));
    }
  });

  it('rewrites every earlier item in place, resumes after a stop, and leaves other items alone', async () => {
    const tableName = await earlierTable();
    const before = await tableContents(dynamoDb.documents, tableName);

    const dryRun = await migrateTable(dynamoDb.documents, tableName, { dryRun: true });
    expect(dryRun).toEqual({
      from: 0,
      to: 2,
      steps: [
        { version: 1, scanned: before.length, rewritten: current.length },
        // A dry run does not rewrite step 1, so step 2 sees the same unsharded items.
        { version: 2, scanned: before.length, rewritten: current.length },
      ],
      stopped: false,
    });
    expect(await tableContents(dynamoDb.documents, tableName)).toEqual(before);

    // Stopped after its second page (as Ctrl-C does): the position is saved in the marker.
    const stop = new AbortController();
    const progress: MigrationProgress[] = [];
    const first = await migrateTable(dynamoDb.documents, tableName, {
      pageSize: 500,
      signal: stop.signal,
      onProgress: (line) => {
        progress.push(line);
        if (progress.length === 2) stop.abort();
      },
    });
    expect(first).toMatchObject({ from: 0, to: 0, stopped: true });
    const { Item: marker } = await dynamoDb.documents.send(
      new GetCommand({ TableName: tableName, Key: MIGRATION_MARKER_KEY, ConsistentRead: true }),
    );
    expect(marker).toMatchObject({ version: 0, running: { version: 1, scanned: 1000 } });
    // Until the marker says version 2, the queries still read the unsharded day partitions.

    const resumed: MigrationProgress[] = [];
    const second = await migrateTable(dynamoDb.documents, tableName, {
      pageSize: 500,
      onProgress: (line) => resumed.push(line),
    });
    // The counts carry on from the saved position (and add up to the table: no page is read twice).
    expect(resumed[0]?.scanned).toBeGreaterThan(1000);
    expect(second).toMatchObject({
      from: 0,
      to: 2,
      steps: [
        { version: 1, scanned: before.length, rewritten: current.length },
        { version: 2, rewritten: current.length },
      ],
      stopped: false,
    });
    // Rejected and unknown items move to their sharded key: the scan may meet them again there.
    expect(second.steps[1]?.scanned).toBeGreaterThanOrEqual(before.length);

    const after = byKey(await tableContents(dynamoDb.documents, tableName));
    for (const item of current) {
      expect(after.get(`${item.pk}\u0000${item.sk}`)).toEqual(asMigrated(item));
    }
    for (const item of others) expect(after.get(`${item.pk}\u0000${item.sk}`)).toEqual(item);
    expect(after.get(`${MIGRATION_MARKER_KEY.pk}\u0000${MIGRATION_MARKER_KEY.sk}`)).toMatchObject({
      itemType: 'migrationState',
      version: 2,
    });
    // Moved items leave no copy at their unsharded key.
    expect(after.size).toBe(before.length + 1);

    // Idempotent: the table is at version 2, so a second run reads nothing and writes nothing.
    const again = await migrateTable(dynamoDb.documents, tableName);
    expect(again).toEqual({ from: 2, to: 2, steps: [], stopped: false });
  }, 240_000);

  it('makes migrated events findable by their id (GSI3), whatever their kind', async () => {
    const tableName = await earlierTable();
    const queries = createQueries(dynamoDb.documents, tableName);
    const sample = current.filter((_, index) => index % 97 === 0);
    expect(await queries.event(sample[0]?.eventId ?? '')).toBeUndefined();
    await migrateTable(dynamoDb.documents, tableName);
    for (const item of sample) {
      expect(await queries.event(item.eventId)).toMatchObject({
        eventId: item.eventId,
        itemType: item.itemType,
      });
    }
  }, 240_000);
});

describe('the migrate command', () => {
  const script = fileURLToPath(new URL('../scripts/migrate.ts', import.meta.url));
  const migrate = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', import.meta.resolve('tsx'), script, ...args],
        { timeout: 120_000, env: { ...process.env, ...env } },
        (error, stdout, stderr) =>
          resolve({ code: error === null ? 0 : (error.code as number), stdout, stderr }),
      );
    });

  it('prints its progress, then nothing to do on a second run', async () => {
    const tableName = await dynamoDb.createTable();
    await putAll(dynamoDb, tableName, current.slice(0, 300).map(inEarlierLayout));
    const target = ['--endpoint', dynamoDb.server.endpoint, '--table', tableName];
    const dryRun = await migrate(['--dry-run', ...target]);
    expect(dryRun.stderr).toBe('');
    expect(dryRun.stdout).toContain(
      'step 1 (self-describing event items): 300 items read, 300 to rewrite, done',
    );
    expect(dryRun.stdout).toContain(
      'step 2 (day partitions sharded by event id): 300 items read, 300 to rewrite, done',
    );
    expect(dryRun.stdout).toContain(`dry run: table ${tableName} would move from version 0 to 2`);
    const run = await migrate(['--page-size', '100', ...target]);
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    // One line per page of 100 (the marker item, skipped, may take a place in a page).
    const stepTwo = lines.filter((line) => line.startsWith('step 2 '));
    const progress = lines.slice(0, -1 - stepTwo.length).map((line) => {
      const match =
        /^step 1 \(self-describing event items\): (\d+) items read, (\d+) rewritten(, done)?$/.exec(
          line,
        );
      expect(match, line).not.toBeNull();
      return Number(match?.[1]);
    });
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(progress).toEqual([...progress].sort((left, right) => left - right));
    expect(lines.at(-2 - stepTwo.length)).toBe(
      'step 1 (self-describing event items): 300 items read, 300 rewritten, done',
    );
    expect(stepTwo.at(-1)).toMatch(
      /^step 2 \(day partitions sharded by event id\): \d+ items read, 300 rewritten, done$/,
    );
    expect(lines.at(-1)).toBe(`table ${tableName} moved from version 0 to 2`);
    const again = await migrate(target);
    expect(again.stdout.trim()).toBe(`table ${tableName} is at version 2: nothing to do`);
  }, 120_000);

  it("migrates a deployed stack's table found by --stack alone, and exits 2 with one line for a missing stack", async () => {
    const tableName = await dynamoDb.createTable();
    await putAll(dynamoDb, tableName, current.slice(0, 20).map(inEarlierLayout));
    const cloudFormation = await startCloudFormationStandIn([
      { name: 'Deployed', outputs: { TableName: tableName } },
    ]);
    try {
      // What a user's AWS configuration would say, pointed at the local servers.
      const aws = {
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        AWS_ENDPOINT_URL_CLOUDFORMATION: cloudFormation.endpoint,
        AWS_ENDPOINT_URL_DYNAMODB: dynamoDb.server.endpoint,
        // Where the local stack would be: --stack must not use it.
        DYNAMODB_PORT: '1',
        DYNAMODB_ENDPOINT: '',
      };
      const run = await migrate(['--stack', 'Deployed'], aws);
      expect(run.stderr).toBe('');
      expect(run.stdout.trim().split('\n').at(-1)).toBe(
        `table ${tableName} moved from version 0 to ${MIGRATION_STEPS.length}`,
      );
      expect(run.code).toBe(0);
      expect(cloudFormation.calls).toEqual(['DescribeStacks']);

      const missing = await migrate(['--stack', 'NoSuchStack'], aws);
      expect(missing.code).toBe(2);
      expect(missing.stdout).toBe('');
      expect(missing.stderr.trim().split('\n')).toEqual([
        'npm run migrate: stack NoSuchStack not found in eu-west-1: check --stack, --region and --profile (npx cdk list shows the name)',
      ]);

      const both = await migrate(['--stack', 'Deployed', '--table', tableName], aws);
      expect(both.code).toBe(2);
      expect(both.stderr).toContain('--stack finds the table from its outputs');
    } finally {
      await cloudFormation.close();
    }
  }, 120_000);

  it('prints what it expected and exits 2 on a bad argument', async () => {
    const run = await migrate(['--page-size', 'lots']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--page-size must be a whole number from 1 to 1000');
    expect(run.stderr).toContain('Usage: npm run migrate');
    expect(run.stderr).toMatch(/^ {2}--stack <name> /m);
    expect(run.stderr).toMatch(/^ {2}--profile <name> /m);
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });
});

describe('npm run migrate alongside other writers', () => {
  it('rewrites an item another writer changed after the migration read it from what it holds now', async () => {
    const tableName = await dynamoDb.createTable();
    const label = current.find((item) => item.itemType === 'labelEvent');
    if (label === undefined) throw new Error('no label item built');
    await putAll(dynamoDb, tableName, [inEarlierLayout(label)]);
    // A real client whose first rewrite of the item is preceded by another writer's update
    // (as the enrichment sets a label event's project): the interleaving no server produces
    // on demand, injected in front of the real request.
    let raced = false;
    const client = new DynamoDBClient({
      ...LOCAL_CLIENT_CONFIG,
      endpoint: dynamoDb.server.endpoint,
    });
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { Item?: Stored };
        if (!raced && context.commandName === 'PutItemCommand' && input.Item?.sk === label.sk) {
          raced = true;
          await dynamoDb.documents.send(
            new UpdateCommand({
              TableName: tableName,
              Key: { pk: label.pk, sk: label.sk },
              UpdateExpression: 'SET projectId = :project',
              ExpressionAttributeValues: { ':project': 'P-raced' },
            }),
          );
        }
        return next(args);
      },
      { step: 'initialize', name: 'anotherWriterFirst' },
    );
    const documents = DynamoDBDocumentClient.from(client);
    await migrateTable(documents, tableName, { steps: MIGRATION_STEPS.slice(0, 1) });
    client.destroy();

    expect(raced).toBe(true);
    const { Item } = await dynamoDb.documents.send(
      new GetCommand({ TableName: tableName, Key: { pk: label.pk, sk: label.sk } }),
    );
    expect(Item).toMatchObject({
      itemType: 'labelEvent',
      eventId: label.eventId,
      projectId: 'P-raced',
    });
  });
});
