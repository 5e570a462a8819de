/**
 * `npm start` and `npm run send` as a user runs them: real child processes, real local
 * servers on free ports, a temporary DATA_DIR, and the table read through the query module.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { type Message, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLocalConfig } from '../scripts/local/config.ts';
import {
  type DatasaurRequest,
  seedEventBody,
  sendDatasaurRequest,
  signDatasaurRequest,
} from '../scripts/local/datasaur-sender.ts';
import {
  DEFAULT_ARCHIVE_BUCKET,
  DEFAULT_TABLE_NAME,
  EVENTS_FILE_NAME,
} from '../scripts/local/defaults.ts';
import { resolveWebhookSecrets, signingSecret } from '../scripts/local/dev-secret.ts';
import { SEED_EVENTS } from '../scripts/local/seed-events.ts';
import { localDynamoDb, localS3 } from '../scripts/local/servers.ts';
import { receiveForRecords, toSqsRecord } from '../scripts/local/sqs-records.ts';
import { createQueries, type Queries, type View } from '../shared/store/queries.ts';
import { API_GATEWAY_MAX_BODY_BYTES } from '../shared/webhook/ingest.ts';
import { startLocalSqs } from './support/local-aws.ts';
import {
  runTypeScript,
  type StackProcess,
  startStackProcess,
  stopLeftoverStacks,
  TEST_STACK_ENVIRONMENT,
} from './support/local-stack-process.ts';
import { TEST_SECRETS } from './support/test-secrets.ts';

const SECRET = TEST_SECRETS.localStack;
const temporaryDirectories: string[] = [];

function temporaryDataDir(): string {
  const directory = mkdtempSync(join(tmpdir(), 'local-stack-'));
  temporaryDirectories.push(directory);
  return directory;
}

afterAll(async () => {
  await stopLeftoverStacks();
  for (const directory of temporaryDirectories) rmSync(directory, { recursive: true, force: true });
});

/**
 * Polls `read` until `done` holds, for at most `timeoutMs`: long enough for DynamoDB Local on
 * disk (DYNAMODB_BACKEND=dynamodb-local), which stores some 20 events a second on a busy machine.
 */
async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function queriesOf(stack: StackProcess): { queries: Queries; close: () => void } {
  const documents = localDynamoDb(stack.dynamoDbEndpoint);
  return {
    queries: createQueries(documents, DEFAULT_TABLE_NAME),
    close: () => documents.destroy(),
  };
}

/** Every event in the feed from yesterday to tomorrow, all pages. */
async function wholeFeed(queries: Queries): Promise<View[]> {
  const day = 24 * 3600 * 1000;
  const range = {
    from: new Date(Date.now() - day).toISOString(),
    to: new Date(Date.now() + day).toISOString(),
  };
  const items: View[] = [];
  let cursor: string | undefined;
  do {
    const page = await queries.feed(range, { limit: 1000, ...(cursor && { cursor }) });
    items.push(...page.items);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return items;
}

async function sendAll(url: string, requests: readonly DatasaurRequest[]) {
  return Promise.all(requests.map((request) => sendDatasaurRequest(url, request)));
}

describe('npm start', () => {
  // Two stack starts: under a loaded machine this outlasts the default 30 s.
  it('runs the pipeline end to end and keeps the table and the archive across a restart', async () => {
    const dataDir = temporaryDataDir();
    const environment = { DATA_DIR: dataDir, DATASAUR_WEBHOOK_SECRET: SECRET };
    const seeds = Object.values(SEED_EVENTS).map((event) =>
      signDatasaurRequest(JSON.stringify(event), SECRET),
    );
    // Scrambled and duplicated: completion and review before creation, each sent twice.
    const deliveries = [3, 1, 2, 0, 2, 3, 0, 1].map((index) => seeds[index] as DatasaurRequest);

    const first = await startStackProcess(environment);
    const outcomes = await sendAll(first.webhookUrl, deliveries);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(Array(8).fill(202));

    const readState = async (stack: StackProcess) => {
      const { queries, close } = queriesOf(stack);
      try {
        return await eventually(
          async () => ({
            created: await queries.project('N2E4MjNlYTc'),
            reviewed: await queries.project('ZTYzZjRhYjE'),
            labels: (await queries.documentLabels('cdf0631f-66b6-4330-be05-4c87fd169afb')).items,
            feed: await wholeFeed(queries),
          }),
          // Each project item is written after its event item: wait for both projects.
          (state) =>
            state.created !== undefined &&
            state.reviewed?.status === 'REVIEWED' &&
            state.labels.length > 0 &&
            state.feed.length >= 4,
        );
      } finally {
        close();
      }
    };
    const expectState = (state: Awaited<ReturnType<typeof readState>>) => {
      expect(state.created).toMatchObject({ status: 'CREATED', name: 'hamlet.TXT', teamId: '1' });
      expect(state.reviewed).toMatchObject({
        status: 'REVIEWED',
        statusAt: '2023-11-17T09:53:23.514Z',
      });
      expect(state.labels).toHaveLength(1);
      expect(state.labels[0]).toMatchObject({ eventType: 'BEFORE_UPDATE_LABELS' });
      expect(state.feed.map((item) => item.eventId).sort()).toEqual(
        seeds.map((seed) => seed.eventId).sort(),
      );
    };

    const before = await readState(first);
    expectState(before);
    // Published on the local bus too (label events are off by default), each at least once.
    const eventsFile = join(dataDir, EVENTS_FILE_NAME);
    const readPublished = async () =>
      readFileSync(eventsFile, { encoding: 'utf8', flag: 'a+' })
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as { 'detail-type': string; detail: { eventId: string } });
    const published = await eventually(readPublished, (events) => events.length >= 3);
    expect([...new Set(published.map((event) => event['detail-type']))].sort()).toEqual([
      'Project Completed',
      'Project Created',
      'Project Reviewed',
    ]);
    for (const event of published) {
      expect(seeds.map((seed) => seed.eventId)).toContain(event.detail.eventId);
    }
    expect(first.output()).toMatch(
      new RegExp(
        `S3 +http://127\\.0\\.0\\.1:\\d+ +bucket ${DEFAULT_ARCHIVE_BUCKET} .*on disk in ${join(dataDir, 's3')}`,
      ),
    );
    const archived = { Bucket: DEFAULT_ARCHIVE_BUCKET, Key: 'bodies/kept-across-restarts' };
    const firstS3 = localS3(first.s3Endpoint);
    await firstS3.send(new PutObjectCommand({ ...archived, Body: 'kept' }));
    firstS3.destroy();
    expect(await first.stop()).toBe(0);
    expect(first.output()).toContain('] stopped');

    const second = await startStackProcess(environment);
    const after = await readState(second);
    expectState(after);
    expect(after).toEqual(before);
    const secondS3 = localS3(second.s3Endpoint);
    const kept = await secondS3.send(new GetObjectCommand(archived));
    expect(await kept.Body?.transformToString()).toBe('kept');
    secondS3.destroy();
    expect(await second.stop()).toBe(0);
  }, 60_000);

  it('says what is wrong in one line and exits non-zero on a bad variable', async () => {
    const result = await runTypeScript('scripts/start.ts', [], {
      ...TEST_STACK_ENVIRONMENT,
      DATA_DIR: temporaryDataDir(),
      PORT: 'abc',
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr.trim().split('\n')).toEqual([
      'npm start: environment variable PORT must be a whole number from 0 to 65535, got "abc"',
    ]);
  });

  it('says which port is in use and exits non-zero', async () => {
    const occupied = await listenAnywhere();
    try {
      const result = await runTypeScript('scripts/start.ts', [], {
        ...TEST_STACK_ENVIRONMENT,
        DATA_DIR: temporaryDataDir(),
        PORT: String(occupied.port),
      });
      expect(result.code).not.toBe(0);
      expect(result.stderr.trim().split('\n')).toEqual([
        `npm start: PORT ${occupied.port} on HOST 127.0.0.1 is already in use: stop what uses it or set PORT to a free port`,
      ]);
    } finally {
      occupied.server.close();
    }
  });

  // Each server of the servers' process; s3rver's own listen let the error escape as a stack trace.
  it.each(['DYNAMODB_PORT', 'SQS_PORT', 'S3_PORT', 'EVENTS_PORT'])(
    'says which %s is in use, in one line',
    async (variable) => {
      const occupied = await listenAnywhere();
      try {
        const result = await runTypeScript('scripts/start.ts', [], {
          ...TEST_STACK_ENVIRONMENT,
          DATA_DIR: temporaryDataDir(),
          [variable]: String(occupied.port),
        });
        expect(result.code).not.toBe(0);
        expect(result.stderr.trim().split('\n')).toEqual([
          `npm start: ${variable} ${occupied.port} on 127.0.0.1 is already in use: stop what uses it or set ${variable} to a free port`,
        ]);
      } finally {
        occupied.server.close();
      }
    },
  );

  it('says DynamoDB Local needs a JDK when java is not on the PATH', async () => {
    const result = await runTypeScript('scripts/start.ts', [], {
      ...TEST_STACK_ENVIRONMENT,
      DATA_DIR: temporaryDataDir(),
      DYNAMODB_BACKEND: 'dynamodb-local',
      PATH: temporaryDataDir(),
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr.trim().split('\n')).toEqual([
      'npm start: DynamoDB Local needs a Java 17 (or later) JDK, and `java` or `javac` is not on the PATH: install a JDK or leave DYNAMODB_BACKEND unset (dynalite)',
    ]);
  });

  it('names the DynamoDB backends it knows', () => {
    expect(() => readLocalConfig({ DYNAMODB_BACKEND: 'localstack' })).toThrow(
      'environment variable DYNAMODB_BACKEND must be one of dynalite, dynamodb-local, got "localstack"',
    );
  });

  it('refuses a DATA_DIR it cannot write', async () => {
    const file = join(temporaryDataDir(), 'a-file');
    writeFileSync(file, '');
    const result = await runTypeScript('scripts/start.ts', [], {
      ...TEST_STACK_ENVIRONMENT,
      DATA_DIR: join(file, 'data'),
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('is not a writable folder');
  });
});

describe('.env.example', () => {
  it('lists every variable with the default the code uses, commented out, none at Datasaur', () => {
    const text = readFileSync('.env.example', 'utf8');
    // Copied as it is, it changes nothing; each line uncommented gives the code's default.
    expect(parseEnv(text)).toEqual({});
    expect(text).not.toContain('app.datasaur.ai');
    const listed = parseEnv(text.replace(/^# ([A-Z][A-Z0-9_]*=)/gm, '$1'));
    expect(readLocalConfig(listed)).toEqual(readLocalConfig({}));
    const variablesRead = readFileSync('scripts/local/config.ts', 'utf8').matchAll(
      /(?:integer|optionalEnv|matching)\('([A-Z_]+)'/g,
    );
    for (const [, name] of variablesRead) expect(Object.keys(listed)).toContain(name);
    expect(text).toContain('# DATASAUR_WEBHOOK_SECRET=');
  });
});

describe('the dev secret', () => {
  it('is generated once, readable by its owner only, and shared with senders', () => {
    const dataDir = temporaryDataDir();
    const created = resolveWebhookSecrets(undefined, dataDir);
    const again = resolveWebhookSecrets(undefined, dataDir);
    expect(again.secrets).toEqual(created.secrets);
    expect(statSync(join(dataDir, 'webhook-secret')).mode & 0o777).toBe(0o600);
    expect(signingSecret(undefined, dataDir)).toBe(created.secrets[0]);
    expect(signingSecret(['configured', 'previous'], dataDir)).toBe('configured');
    expect(
      readLocalConfig({
        DATASAUR_WEBHOOK_SECRET: 'first-secret-0123456789, second-secret-0123456789',
      }).webhookSecrets,
    ).toEqual(['first-secret-0123456789', 'second-secret-0123456789']);
    expect(() => readLocalConfig({ DATASAUR_WEBHOOK_SECRET: 'short' })).toThrow(
      'DATASAUR_WEBHOOK_SECRET must be a secret or a comma-separated list of secrets: secret 1 of DATASAUR_WEBHOOK_SECRET is 5 characters long; use at least 16',
    );
  });
});

describe('a running stack', () => {
  let stack: StackProcess;
  beforeAll(async () => {
    // A short visibility timeout so messages held by a killed worker come back quickly.
    stack = await startStackProcess({
      DATA_DIR: temporaryDataDir(),
      DATASAUR_WEBHOOK_SECRET: SECRET,
      VISIBILITY_TIMEOUT_SECONDS: '2',
    });
  });
  afterAll(async () => {
    expect(await stack.stop()).toBe(0);
  });

  it('restarts a killed worker and stores every acknowledged event exactly once', async () => {
    const requests = Array.from({ length: 300 }, (_, index) =>
      signDatasaurRequest(
        seedEventBody('PROJECT_CREATED', {
          projectId: `crash-${index}`,
          timestamp: new Date(Date.UTC(2024, 0, 1, 0, 0, 0, index)).toISOString(),
        }),
        SECRET,
      ),
    );
    const [firstWorker] = stack.workerPids();
    const sending = sendAll(stack.webhookUrl, requests);
    // Kill the worker while the burst is being processed.
    const { queries, close } = queriesOf(stack);
    try {
      await eventually(
        () => wholeFeed(queries),
        (feed) => feed.length >= 20,
      );
      process.kill(firstWorker as number, 'SIGKILL');
      // Whatever the number of workers: the killed one is started again.
      const restarted = `worker (pid ${firstWorker}) exited with SIGKILL; restarting`;
      await stack.waitForOutput((output) => {
        const at = output.indexOf(restarted);
        return at >= 0 && output.includes('worker started', at);
      });

      const outcomes = await sending;
      const acknowledged = outcomes.filter((outcome) => outcome.status === 202);
      expect(acknowledged).toHaveLength(requests.length);
      const crashFeed = async () =>
        (await wholeFeed(queries)).filter((item) => String(item.projectId).startsWith('crash-'));
      const feed = await eventually(crashFeed, (items) => items.length >= acknowledged.length);
      const timesStored = new Map<unknown, number>();
      for (const item of feed)
        timesStored.set(item.eventId, (timesStored.get(item.eventId) ?? 0) + 1);
      for (const outcome of acknowledged) expect(timesStored.get(outcome.eventId)).toBe(1);
      expect(feed).toHaveLength(acknowledged.length);
    } finally {
      close();
    }
  });

  it("answers 413 as API Gateway does: over its 10 MiB, and over Lambda's 6 MB event", async () => {
    const overApiGateway = await sendDatasaurRequest(
      stack.webhookUrl,
      signDatasaurRequest(Buffer.alloc(API_GATEWAY_MAX_BODY_BYTES + 1, 'a'), SECRET),
    );
    expect(overApiGateway.status).toBe(413);
    // Binary content arrives base64-encoded: 4,800,000 bytes make a 6.4 MB event.
    const binary = signDatasaurRequest(Buffer.alloc(4_800_000, 0xff), SECRET);
    const overLambda = await sendDatasaurRequest(stack.webhookUrl, {
      ...binary,
      headers: { ...binary.headers, 'content-type': 'application/octet-stream' },
    });
    expect(overLambda).toMatchObject({ status: 413, detail: '{"message":"Request Too Long"}' });
  });

  it('takes a 5,000-label event from npm run send, and npm run query returns all of it', async () => {
    const sent = await runTypeScript(
      'scripts/send.ts',
      ['BEFORE_UPDATE_LABELS', '--labels', '5000', '--document', 'large-by-cli'],
      { PORT: new URL(stack.webhookUrl).port, DATASAUR_WEBHOOK_SECRET: SECRET },
    );
    expect(sent.stderr).toBe('');
    expect(sent.stdout.trim()).toMatch(/^202 BEFORE_UPDATE_LABELS [0-9a-f]{64}$/);
    const { queries, close } = queriesOf(stack);
    try {
      // Stored with its counts, the labels themselves in S3.
      const stored = await eventually(
        () => queries.documentLabels('large-by-cli'),
        (page) => page.items.length > 0,
      );
      expect(stored.items[0]?.labelCounts).toEqual({ toUpsert: 5000, toDelete: 0 });
    } finally {
      close();
    }
    const result = await runTypeScript(
      'scripts/query.ts',
      ['labels', '--document', 'large-by-cli', '--json'],
      { DYNAMODB_ENDPOINT: stack.dynamoDbEndpoint, S3_ENDPOINT: stack.s3Endpoint },
    );
    expect(result.stderr).toBe('');
    const page = JSON.parse(result.stdout) as {
      items: { data: { labelUpdateList: { toUpsertList: unknown[] } } }[];
    };
    expect(page.items.map((item) => item.data.labelUpdateList.toUpsertList.length)).toEqual([5000]);
  });

  it('sends signed seed events with npm run send', async () => {
    const result = await runTypeScript(
      'scripts/send.ts',
      ['PROJECT_REVIEWED', '--project', 'sent-by-cli', '--count', '3', '--concurrency', '2'],
      { PORT: new URL(stack.webhookUrl).port, DATASAUR_WEBHOOK_SECRET: SECRET },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines.slice(0, 3)).toEqual(
      Array(3).fill(expect.stringMatching(/^202 PROJECT_REVIEWED [0-9a-f]{64}$/)),
    );
    expect(new Set(lines.slice(0, 3)).size).toBe(3);
    expect(lines[3]).toMatch(/^sent 3, accepted 3 \(202: 3\), failed 0, in [\d.]+ s/);

    const { queries, close } = queriesOf(stack);
    try {
      const project = await eventually(
        () => queries.project('sent-by-cli'),
        (found) => found !== undefined,
      );
      expect(project).toMatchObject({ status: 'REVIEWED' });
    } finally {
      close();
    }
  });

  it('reports a refused request and exits 1', async () => {
    const result = await runTypeScript('scripts/send.ts', ['export', '--secret', 'wrong'], {
      PORT: new URL(stack.webhookUrl).port,
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^401 export [0-9a-f]{64} {2}\{"message":"Unauthorized"\}$/m);
  });

  it('answers 404 to npm run send with another path token, and stores nothing', async () => {
    const result = await runTypeScript(
      'scripts/send.ts',
      ['PROJECT_CREATED', '--project', 'sent-without-the-token'],
      {
        PORT: new URL(stack.webhookUrl).port,
        DATASAUR_WEBHOOK_SECRET: SECRET,
        WEBHOOK_PATH_TOKEN: 'a-token-npm-start-does-not-route',
      },
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /^404 PROJECT_CREATED [0-9a-f]{64} {2}\{"message":"Not Found"\}$/m,
    );
    // A signed event under the right token, sent after it, is stored: the first never was.
    const signed = await runTypeScript(
      'scripts/send.ts',
      ['PROJECT_CREATED', '--project', 'sent-with-the-token'],
      { PORT: new URL(stack.webhookUrl).port, DATASAUR_WEBHOOK_SECRET: SECRET },
    );
    expect(signed.code).toBe(0);
    const { queries, close } = queriesOf(stack);
    try {
      await eventually(
        () => queries.project('sent-with-the-token'),
        (found) => found !== undefined,
      );
      expect(await queries.project('sent-without-the-token')).toBeUndefined();
    } finally {
      close();
    }
  });

  it('prints its usage and exits non-zero on a bad argument', async () => {
    const result = await runTypeScript('scripts/send.ts', ['PROJECT_CREATED', '--count', 'many']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--count must be a whole number');
    expect(result.stderr).toContain('Usage: npm run send -- <what>');
    expect(result.stdout).toBe('');
  });
});

describe('the local worker', () => {
  it('hands the handler records shaped as Lambda delivers them', async () => {
    const local = await startLocalSqs();
    try {
      const queues = await local.createQueues();
      await local.sqs.send(
        new SendMessageCommand({
          QueueUrl: queues.queueUrl,
          MessageBody: '{"hello":"world"}',
          MessageAttributes: { source: { DataType: 'String', StringValue: 'test' } },
        }),
      );
      const { Messages: [message] = [] } = await local.sqs.send(
        new ReceiveMessageCommand(
          receiveForRecords(queues.queueUrl, { maxMessages: 10, waitTimeSeconds: 1 }),
        ),
      );
      const record = toSqsRecord(message as Message, {
        queueArn: queues.queueArn,
        region: 'us-east-1',
      });
      expect(record).toEqual({
        messageId: message?.MessageId,
        receiptHandle: message?.ReceiptHandle,
        body: '{"hello":"world"}',
        attributes: expect.objectContaining({
          ApproximateReceiveCount: '1',
          SentTimestamp: expect.stringMatching(/^\d+$/),
          ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d+$/),
          SenderId: expect.any(String),
        }),
        messageAttributes: {
          source: {
            dataType: 'String',
            stringValue: 'test',
            stringListValues: [],
            binaryListValues: [],
          },
        },
        md5OfBody: message?.MD5OfBody,
        md5OfMessageAttributes: message?.MD5OfMessageAttributes,
        eventSource: 'aws:sqs',
        eventSourceARN: queues.queueArn,
        awsRegion: 'us-east-1',
      });
    } finally {
      await local.close();
    }
  });
});

function listenAnywhere(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address ? address.port : 0 });
    });
  });
}
