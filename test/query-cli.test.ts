import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_EVENTS, SEED_EXPORT_DELIVERY } from '../scripts/local/seed-events.ts';
import { eventIdOf } from '../shared/webhook/signature.ts';
import { type LocalDynamoDb, startLocalDynamoDb } from './support/local-aws.ts';
import {
  type Delivery,
  sqsEvent,
  sqsRecord,
  workerOnFreshTable,
} from './support/webhook-records.ts';

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const QUERY_SCRIPT = fileURLToPath(new URL('../scripts/query.ts', import.meta.url));

/**
 * Runs `npm run query` as a child process (stdout is a pipe, so JSON is the default), in
 * `cwd` (where it reads `.env`) with `env` added to a clean local environment.
 */
function query(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', import.meta.resolve('tsx'), QUERY_SCRIPT, ...args],
      {
        cwd: options.cwd,
        env: { ...withoutLocalTarget(process.env), ...options.env },
        timeout: 45_000,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** The environment without the variables that point the CLI somewhere (so `.env` can). */
function withoutLocalTarget(environment: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { DYNAMODB_ENDPOINT, DYNAMODB_PORT, TABLE_NAME, ...rest } = environment;
  return rest;
}

/** One delivery of each kind the worker stores, besides the seed events. */
const OTHER_DELIVERIES: Record<string, Delivery> = {
  export: { body: JSON.stringify(SEED_EXPORT_DELIVERY), method: 'PUT' },
  unknownEvent: { body: JSON.stringify({ eventType: 'PROJECT_ARCHIVED', data: { x: 1 } }) },
  rejected: { body: 'not json' },
};

let dynamoDb: LocalDynamoDb;
let tableName: string;
let target: string[];
beforeAll(async () => {
  dynamoDb = await startLocalDynamoDb();
  const fresh = await workerOnFreshTable(dynamoDb);
  tableName = fresh.tableName;
  const { handler } = fresh;
  await handler(
    sqsEvent(
      Object.values(SEED_EVENTS).map((event) =>
        sqsRecord({ body: JSON.stringify(event), receivedAt: '2024-03-01T12:00:00.000Z' }),
      ),
    ),
  );
  await handler(
    sqsEvent(
      Object.values(OTHER_DELIVERIES).map((delivery) =>
        sqsRecord({ ...delivery, receivedAt: '2024-03-02T12:00:00.000Z' }),
      ),
    ),
  );
  target = ['--endpoint', dynamoDb.server.endpoint, '--table', tableName];
});
afterAll(async () => {
  await dynamoDb.close();
});

describe('npm run query', () => {
  it('finds the local stack from DYNAMODB_PORT and TABLE_NAME in .env, as npm start does', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'query-dotenv-'));
    try {
      const port = new URL(dynamoDb.server.endpoint).port;
      writeFileSync(join(folder, '.env'), `DYNAMODB_PORT=${port}\nTABLE_NAME=${tableName}\n`);
      const run = await query(['project', 'ZTYzZjRhYjE'], { cwd: folder });
      expect(run.stderr).toBe('');
      expect(JSON.parse(run.stdout)).toMatchObject({
        projectId: 'ZTYzZjRhYjE',
        status: 'REVIEWED',
      });
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('refuses DYNAMODB_PORT 0 with a line saying which port to give', async () => {
    const run = await query(['project', 'ZTYzZjRhYjE'], { env: { DYNAMODB_PORT: '0' } });
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(
      'npm run query: DYNAMODB_PORT is 0, so npm start picked a free port: set DYNAMODB_PORT to the port its banner shows, or DYNAMODB_ENDPOINT',
    );
  });

  it('prints a project as JSON when stdout is not a terminal', async () => {
    const run = await query(['project', 'ZTYzZjRhYjE', ...target]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ projectId: 'ZTYzZjRhYjE', status: 'REVIEWED' });
  });

  it.each([
    ...Object.values(SEED_EVENTS).map(
      (event) => [event.eventType, { body: JSON.stringify(event) }] as const,
    ),
    ...Object.entries(OTHER_DELIVERIES),
  ])('finds the %s event by its id alone', async (kind, delivery) => {
    const eventId = eventIdOf(delivery.body);
    const run = await query(['event', eventId, ...target]);
    expect(run.stderr).toBe('');
    const found = JSON.parse(run.stdout);
    expect(found.eventId).toBe(eventId);
    if (kind in OTHER_DELIVERIES) expect(found.itemType).toBe(kind);
    else expect(found.eventType).toBe(kind);
  });

  it('says in one line when no event has the id, and exits 1', async () => {
    const run = await query(['event', 'f'.repeat(64), ...target]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe(`no event ${'f'.repeat(64)} in table ${tableName}`);
  });

  it('pages the feed with --limit and prints the cursor for the next page', async () => {
    const range = ['--from', '2024-03-01T00:00:00Z', '--to', '2024-03-02T00:00:00Z'];
    const first = await query(['feed', ...range, '--limit', '3', '--json', ...target]);
    expect(first.code).toBe(0);
    const page = JSON.parse(first.stdout);
    expect(page.items).toHaveLength(3);
    const second = await query([
      'feed',
      ...range,
      '--limit',
      '3',
      '--cursor',
      page.cursor,
      ...target,
    ]);
    expect(JSON.parse(second.stdout)).toEqual({
      items: [expect.objectContaining({ receivedAt: '2024-03-01T12:00:00.000Z' })],
    });
  });

  it.each([
    ['an unknown flag', ['projects', '--team', '1', '--bogus'], "Unknown option '--bogus'"],
    ['an unknown command', ['nonsense'], 'unknown command "nonsense"'],
    [
      'a flag of another command',
      ['events', '--project', 'x', '--team', '1'],
      '"events" does not take --team',
    ],
    ['a bad status', ['projects', '--team', '1', '--status', 'DONE'], '--status must be one of'],
    ['an event without its id', ['event'], '"event" takes 1 argument(s), got 0'],
    [
      'an event id cut short, as the table view shows it',
      ['event', 'dad63a983795'],
      'an event id is 64 hex digits',
    ],
  ])('prints the usage and exits 2 on %s', async (_, args, message) => {
    const run = await query([...args, ...target]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stderr).toContain('Usage: npm run query');
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });

  it('says in one line when the table is missing or the endpoint unreachable', async () => {
    const missing = await query([
      'project',
      'x',
      '--endpoint',
      dynamoDb.server.endpoint,
      '--table',
      'nope',
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe(
      `table nope does not exist at ${dynamoDb.server.endpoint} (pass --table <name>)`,
    );
    const unreachable = await query([
      'project',
      'x',
      '--endpoint',
      'http://127.0.0.1:9',
      '--table',
      'nope',
    ]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr.trim().split('\n')).toHaveLength(1);
    expect(unreachable.stderr).toContain('cannot reach DynamoDB at http://127.0.0.1:9');
  });
});
