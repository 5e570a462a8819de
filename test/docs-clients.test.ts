/**
 * Runs every AWS CLI and Python (boto3) snippet of docs/querying.md against a local table fed
 * the documented example events, with the local endpoint added, and compares what each prints
 * with the output the page shows. The binaries are named, not assumed: every `aws` and every
 * `python3` with boto3 on the PATH runs the snippets (this machine's pyenv puts an AWS CLI v1
 * and a python3 with boto3 ahead of Debian's). With neither, CI fails; a developer machine
 * skips with a message.
 */
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkerHandler } from '../functions/worker/handler.ts';
import { NO_ARCHIVE } from '../scripts/local/no-archive.ts';
import { SEED_EVENTS, SEED_EXPORT_DELIVERY } from '../scripts/local/seed-events.ts';
import { createTableInput } from '../shared/store/table.ts';
import { AWS_CLI_ENVIRONMENT } from './support/aws-cli-environment.ts';
import { type LocalDynamoDb, startLocalDynamoDb } from './support/local-aws.ts';
import { type Delivery, quietLogger, sqsEvent, sqsRecord } from './support/webhook-records.ts';

const DOCS_TABLE = 'datasaur-webhooks';
const PAGE = readFileSync(new URL('../docs/querying.md', import.meta.url), 'utf8');

interface Snippet {
  readonly title: string;
  readonly shell: string;
  readonly python: string;
  readonly prints: string;
}

/**
 * Each access pattern of the section "From any client": a `sh` block, a `python` block and
 * the `text` both print, under a bold numbered title.
 */
function snippets(): Snippet[] {
  const start = PAGE.indexOf('## From any client');
  const section = PAGE.slice(start, PAGE.indexOf('\n## ', start + 1));
  const found = new Map<string, Record<string, string>>();
  for (const fence of section.matchAll(/```(sh|python|text)\n([\s\S]*?)```/g)) {
    const before = section.slice(0, fence.index);
    const title = [...before.matchAll(/\*\*(\d+\.[^*]*)\*\*/g)].at(-1)?.[1] ?? '(untitled)';
    found.set(title, { ...found.get(title), [String(fence[1])]: String(fence[2]) });
  }
  return [...found].map(([title, blocks]) => ({
    title,
    shell: blocks.sh ?? '',
    python: blocks.python ?? '',
    prints: blocks.text ?? '',
  }));
}

/**
 * Kills a snippet that hangs; the test waits a little longer, to report what it printed. A
 * snippet runs up to 20 CLI processes (about 1 s each on an idle 2-core machine, 3 s or more
 * beside the rest of the suite).
 */
const COMMAND_TIMEOUT_MS = 120_000;
const SNIPPET_TIMEOUT_MS = COMMAND_TIMEOUT_MS + 15_000;

/** Runs a program without blocking: the test's DynamoDB server answers in this process. */
function run(
  file: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { env: ENVIRONMENT, timeout: COMMAND_TIMEOUT_MS },
      (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : (error.code as number), stdout, stderr }),
    );
  });
}

/** Every distinct executable of that name on the PATH (symlinks and shims resolved). */
function onPath(name: string): string[] {
  const found = spawnSync('which', ['-a', name], { encoding: 'utf8' }).stdout.split('\n');
  const distinct = new Map<string, string>();
  for (const path of found.filter(Boolean)) {
    const real = realpathSync(path);
    if (!distinct.has(real)) distinct.set(real, path);
  }
  return [...distinct.values()];
}

const awsClis = onPath('aws').map((path) => ({
  path,
  version: spawnSync(path, ['--version'], { encoding: 'utf8' }).stdout.trim().split(' ')[0] ?? '',
}));
const pythons = onPath('python3')
  .map((path) => {
    const run = spawnSync(path, ['-c', 'import boto3; print(boto3.__version__)'], {
      encoding: 'utf8',
    });
    return { path, version: run.status === 0 ? `boto3/${run.stdout.trim()}` : undefined };
  })
  .filter((python): python is { path: string; version: string } => python.version !== undefined);

const inCi = process.env.CI === 'true';
const ENVIRONMENT = AWS_CLI_ENVIRONMENT;

let dynamoDb: LocalDynamoDb;
let endpoint: string;
beforeAll(async () => {
  dynamoDb = await startLocalDynamoDb();
  endpoint = dynamoDb.server.endpoint;
  // The example data of docs/querying.md, under the table name the snippets use.
  await dynamoDb.client.send(new CreateTableCommand(createTableInput(DOCS_TABLE)));
  const handler = createWorkerHandler({
    documents: dynamoDb.documents,
    tableName: DOCS_TABLE,
    bodies: NO_ARCHIVE,
    logger: quietLogger(),
  });
  const at = (minute: number) => `2026-11-23T09:0${minute}:00.000Z`;
  const post = (event: unknown, minute: number): Delivery => ({
    body: JSON.stringify(event),
    receivedAt: at(minute),
  });
  const created = SEED_EVENTS.PROJECT_CREATED;
  const deliveries: Delivery[] = [
    post(created, 0),
    post(
      {
        ...created,
        data: {
          ...created.data,
          timestamp: '2023-11-17T09:40:00.000Z',
          project: { ...created.data.project, id: 'ZTYzZjRhYjE' },
        },
      },
      1,
    ),
    post(SEED_EVENTS.BEFORE_UPDATE_LABELS, 2),
    post(SEED_EVENTS.PROJECT_COMPLETED, 3),
    post(SEED_EVENTS.PROJECT_REVIEWED, 4),
    { body: JSON.stringify(SEED_EXPORT_DELIVERY), method: 'PUT', receivedAt: at(5) },
    post({ eventType: 'PROJECT_ARCHIVED', data: { project: { id: 'ZTYzZjRhYjE' } } }, 6),
    post({ eventType: 'PROJECT_CREATED' }, 7),
  ];
  // One at a time, so the project derives in order as on the local stack.
  for (const delivery of deliveries) await handler(sqsEvent([sqsRecord(delivery)]));
});
afterAll(async () => {
  await dynamoDb.close();
});

describe('docs/querying.md, from other clients', () => {
  it('shows every access pattern with the AWS CLI and Python', () => {
    const found = snippets();
    expect(found.map((snippet) => snippet.title.replace(/\.\s.*/, ''))).toEqual([
      '1',
      '2',
      '3',
      '4',
      '5',
      '6',
      '7',
    ]);
    for (const snippet of found) {
      expect(snippet.shell, snippet.title).toContain('aws dynamodb ');
      expect(snippet.python, snippet.title).toContain('boto3.resource("dynamodb")');
      expect(snippet.prints, snippet.title).not.toBe('');
    }
  });

  it('has an AWS CLI or boto3 to run them with (CI installs Debian awscli)', () => {
    const missing = [
      ...(awsClis.length === 0 ? ['no `aws` on the PATH'] : []),
      ...(pythons.length === 0 ? ['no python3 with boto3 on the PATH'] : []),
    ];
    if (missing.length > 0 && !inCi) {
      console.warn(`docs snippets not run here: ${missing.join('; ')}`);
      return;
    }
    expect(missing, 'CI must run the docs snippets: see .ci/run').toEqual([]);
  });

  // A snippet runs up to a dozen CLI processes (the shard queries one after another): on a
  // busy 2-core runner that outlasts the default 30 s, so each gets its commands' own limit.
  describe.each(awsClis)('$version ($path)', ({ path }) => {
    it.each(snippets())(
      '$title',
      async ({ shell, prints }) => {
        // The binary named, and the local endpoint after every `aws dynamodb <operation>`.
        const script = shell.replace(
          /\baws dynamodb ([a-z-]+)/g,
          (_, operation) => `"${path}" dynamodb ${operation} --endpoint-url ${endpoint}`,
        );
        const ran = await run('bash', ['-c', `set -euo pipefail\n${script}`]);
        expect(ran.stderr).toBe('');
        expect(ran.code).toBe(0);
        expect(ran.stdout).toBe(prints);
      },
      SNIPPET_TIMEOUT_MS,
    );
  });

  describe.each(pythons)('$version ($path)', ({ path }) => {
    it.each(snippets())(
      '$title',
      async ({ python, prints }) => {
        const program = python.replaceAll(
          'boto3.resource("dynamodb")',
          `boto3.resource("dynamodb", endpoint_url="${endpoint}")`,
        );
        expect(program).toContain(endpoint);
        const ran = await run(path, ['-c', program]);
        expect(ran.stderr).toBe('');
        expect(ran.code).toBe(0);
        expect(ran.stdout).toBe(prints);
      },
      SNIPPET_TIMEOUT_MS,
    );
  });
});
