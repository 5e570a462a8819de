/**
 * `npm run console -- --stack X` in a real browser: headless Chromium against the local stack
 * reached as a deployed one, through the CloudFormation stand-in (outputs, alarms, STS
 * GetCallerIdentity) and the real SDK clients configured by AWS_ENDPOINT_URL_*, as a user's
 * would be by their AWS configuration, with the fake Datasaur API behind the stack's
 * credentials secret (a local Secrets Manager) so the exporter archives and a reconcile runs.
 * One console runs with --allow-actions (redrive, replay and reconcile confirmed in the
 * browser), one without (no buttons, every POST refused).
 */
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsoleApp } from '../scripts/console/app.ts';
import { localSource } from '../scripts/console/source.ts';
import { readLocalTarget } from '../scripts/local/config.ts';
import {
  seedEventBody,
  sendDatasaurRequest,
  signDatasaurRequest,
} from '../scripts/local/datasaur-sender.ts';
import { type FakeDatasaur, startFakeDatasaur } from '../scripts/local/fake-datasaur/server.ts';
import {
  type LocalSecretsManager,
  startLocalSecretsManager,
} from '../scripts/local/secrets-manager-server.ts';
import { SEED_EVENTS } from '../scripts/local/seed-events.ts';
import { localDynamoDb, localSqs, queueArn } from '../scripts/local/servers.ts';
import { exportQueueName } from '../scripts/local/stack.ts';
import { reconcileLeaseKey } from '../shared/store/keys.ts';
import { createQueries } from '../shared/store/queries.ts';
import { WEBHOOK_PATH } from '../shared/webhook/route.ts';
import { eventIdOf } from '../shared/webhook/signature.ts';
import {
  checkAccessibility,
  launchBrowser,
  SCREENSHOTS,
  textOf,
  visitPage,
} from './support/browser.ts';
import {
  CALLER_ARN,
  type CloudFormationStandIn,
  startCloudFormationStandIn,
} from './support/cloudformation-stand-in.ts';
import { startConsole as startConsoleProcess } from './support/console-process.ts';
import { eventually } from './support/eventually.ts';
import {
  fakeDatasaurEnvironment,
  runTypeScript,
  type StackProcess,
  startStackProcess,
  stopLeftoverStacks,
  TEST_STACK_ENVIRONMENT,
} from './support/local-stack-process.ts';
import { TEST_SECRETS } from './support/test-secrets.ts';
import { rejectedEarlier } from './support/webhook-records.ts';

const SECRET = TEST_SECRETS.localStack;
const PROJECT = 'stack-console-p1';
/** Reviewed through webhooks: the exporter archives it from the fake Datasaur. */
const EXPORTED_PROJECT = 'stack-console-exported';
/** Known to the fake Datasaur only: the reconcile action finds it missing and repairs it. */
const MISSED_PROJECT = 'stack-console-missed';
const DLQ = 'datasaur-webhooks-dlq';

let dataDir: string;
let stack: StackProcess;
let cloudFormation: CloudFormationStandIn;
let fake: FakeDatasaur;
let secretsManager: LocalSecretsManager;
let deadLetterQueueUrl: string;
let browser: Browser;
const consoles: ChildProcess[] = [];
let actionsUrl: string;
let readOnlyUrl: string;
/** The local stack as npm start's own terminal sees it. */
let localEnvironment: NodeJS.ProcessEnv;
let projectEventId: string;
let rejectedEventId: string;

/** Starts `npm run console`, stopped after the file; resolves with the URL it prints. */
async function startConsole(args: string[], environment: NodeJS.ProcessEnv): Promise<string> {
  const started = await startConsoleProcess(args, environment);
  consoles.push(started.child);
  return started.url;
}

async function deadLetters(): Promise<number> {
  const sqs = localSqs(stack.sqsEndpoint);
  try {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: deadLetterQueueUrl,
        AttributeNames: ['ApproximateNumberOfMessages'],
      }),
    );
    return Number(Attributes?.ApproximateNumberOfMessages ?? 0);
  } finally {
    sqs.destroy();
  }
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'console-stack-test-'));
  [fake, secretsManager] = await Promise.all([
    startFakeDatasaur({
      fileNotFoundCount: 0,
      projects: [
        { id: EXPORTED_PROJECT, name: 'exported.txt', status: 'COMPLETE' },
        { id: MISSED_PROJECT, name: 'missed.txt', status: 'COMPLETE' },
      ],
    }),
    startLocalSecretsManager({ port: 0 }),
  ]);
  stack = await startStackProcess({
    DATA_DIR: dataDir,
    DATASAUR_WEBHOOK_SECRET: SECRET,
    ...fakeDatasaurEnvironment(fake),
  });
  localEnvironment = {
    ...TEST_STACK_ENVIRONMENT,
    PORT: new URL(stack.webhookUrl).port,
    DYNAMODB_PORT: new URL(stack.dynamoDbEndpoint).port,
    SQS_PORT: new URL(stack.sqsEndpoint).port,
    S3_PORT: new URL(stack.s3Endpoint).port,
    EVENTS_PORT: new URL(stack.eventsEndpoint).port,
    DATA_DIR: dataDir,
  };

  // What the pages show: a project, and a signed body an older worker rejected that parses now.
  const timestamp = new Date(Date.now() - 60_000).toISOString();
  const sent = await sendDatasaurRequest(
    stack.webhookUrl,
    signDatasaurRequest(
      seedEventBody('PROJECT_CREATED', { timestamp, projectId: PROJECT }),
      SECRET,
    ),
  );
  expect(sent.status, sent.detail).toBeLessThan(300);
  projectEventId = sent.eventId;
  for (const [index, type] of (
    ['PROJECT_CREATED', 'PROJECT_COMPLETED', 'PROJECT_REVIEWED'] as const
  ).entries()) {
    const at = new Date(Date.now() - 50_000 + index * 1_000).toISOString();
    const delivered = await sendDatasaurRequest(
      stack.webhookUrl,
      signDatasaurRequest(
        seedEventBody(type, { timestamp: at, projectId: EXPORTED_PROJECT }),
        SECRET,
      ),
    );
    expect(delivered.status, delivered.detail).toBeLessThan(300);
  }
  const rawBody = Buffer.from(
    JSON.stringify({
      ...SEED_EVENTS.PROJECT_CREATED,
      data: {
        ...SEED_EVENTS.PROJECT_CREATED.data,
        timestamp,
        project: { ...SEED_EVENTS.PROJECT_CREATED.data.project, id: 'stack-console-replayed' },
      },
    }),
  );
  rejectedEventId = eventIdOf(rawBody);
  const documents = localDynamoDb(stack.dynamoDbEndpoint);
  const queries = createQueries(documents, 'datasaur-webhooks');
  await documents.send(
    new PutCommand({
      TableName: 'datasaur-webhooks',
      Item: rejectedEarlier(rawBody, new Date().toISOString()),
    }),
  );
  await eventually(
    () => queries.event(projectEventId),
    (view) => view !== undefined,
    30_000,
  );
  await eventually(
    () => queries.exports({ projectId: EXPORTED_PROJECT }),
    (page) => page.items.some((item) => item.status === 'ARCHIVED'),
    60_000,
  );
  documents.destroy();

  // A message in the dead-letter queue, sent there straight (SQS cannot tell its source: the
  // redrive names the stack's queue, output QueueArn).
  const sqs = localSqs(stack.sqsEndpoint);
  const queueUrl = async (name: string) =>
    String((await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl);
  deadLetterQueueUrl = await queueUrl(DLQ);
  const webhookQueueUrl = await queueUrl('datasaur-webhooks');
  const exportQueueUrl = await queueUrl(exportQueueName('datasaur-webhooks'));
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: deadLetterQueueUrl,
      MessageBody: JSON.stringify({ note: 'dead-lettered by the test' }),
    }),
  );
  const outputs = {
    ApiEndpoint: stack.webhookUrl.slice(0, -WEBHOOK_PATH.length),
    TableName: 'datasaur-webhooks',
    ArchiveBucketName: 'datasaur-webhooks-archive',
    QueueUrl: webhookQueueUrl,
    QueueArn: await queueArn(sqs, webhookQueueUrl),
    DeadLetterQueueUrl: deadLetterQueueUrl,
    DeadLetterQueueArn: await queueArn(sqs, deadLetterQueueUrl),
    EventBusName: 'default',
    EventSource: 'datasaur.webhooks',
    ExportQueueUrl: exportQueueUrl,
    DatasaurApiUrl: fake.url,
    DatasaurCredentialsSecretArn: secretsManager.putSecret(
      'X-datasaur-credentials',
      JSON.stringify({ clientId: fake.clientId, clientSecret: fake.clientSecret }),
    ),
  };
  sqs.destroy();
  cloudFormation = await startCloudFormationStandIn([
    {
      name: 'X',
      outputs,
      alarms: [
        { name: 'X-DeadLetterQueueNotEmpty', state: 'ALARM', reason: 'Threshold Crossed' },
        { name: 'X-WorkerErrors', state: 'OK' },
      ],
    },
  ]);
  const awsEnvironment = {
    ...TEST_STACK_ENVIRONMENT,
    CONSOLE_PORT: '0',
    AWS_REGION: 'us-east-1',
    // s3rver knows only its own key pair; dynalite and local-aws-sqs take any.
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_ENDPOINT_URL_CLOUDFORMATION: cloudFormation.endpoint,
    AWS_ENDPOINT_URL_CLOUDWATCH: cloudFormation.endpoint,
    AWS_ENDPOINT_URL_STS: cloudFormation.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: stack.dynamoDbEndpoint,
    AWS_ENDPOINT_URL_SQS: stack.sqsEndpoint,
    AWS_ENDPOINT_URL_S3: stack.s3Endpoint,
    AWS_ENDPOINT_URL_EVENTBRIDGE: stack.eventsEndpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.endpoint,
    // Ports the local console would otherwise default to: --stack must not need them.
    DYNAMODB_PORT: '1',
    SQS_PORT: '1',
    S3_PORT: '1',
  };
  [actionsUrl, readOnlyUrl] = await Promise.all([
    startConsole(['--stack', 'X', '--allow-actions'], awsEnvironment),
    startConsole(['--stack', 'X'], awsEnvironment),
  ]);
  browser = await launchBrowser(dataDir);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  for (const child of consoles) child.kill('SIGTERM');
  await cloudFormation?.close();
  await stack?.stop();
  await secretsManager?.close();
  await fake?.close();
  await stopLeftoverStacks();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Opens a page of the console at `base`, checks it with axe-core, and photographs it. */
const visit = (base: string, path: string, screenshot: string): Promise<Page> =>
  visitPage(browser, `${base}${path}`, screenshot, path);

/** Clicks the submit button labelled `label`, then the confirm button; returns the result. */
async function confirmAction(page: Page, label: string, screenshot: string): Promise<string> {
  const [button] = await page.$$(`xpath/.//button[normalize-space(.)="${label}"]`);
  expect(button, `a "${label}" button`).toBeDefined();
  await Promise.all([page.waitForNavigation(), button?.click()]);
  expect(await textOf(page, 'h1')).toBe('Confirm');
  await checkAccessibility(page, `confirm ${label}`);
  await page.screenshot({ path: join(SCREENSHOTS, `${screenshot}-confirm.png`), fullPage: true });
  await Promise.all([page.waitForNavigation(), page.click('#confirm')]);
  await page.screenshot({ path: join(SCREENSHOTS, `${screenshot}-result.png`), fullPage: true });
  return textOf(page, '#action-result');
}

/** A page's `<main>` as the server renders it. */
async function mainOf(base: string, path: string): Promise<string> {
  const response = await fetch(`${base}${path}`);
  expect(response.status, path).toBe(200);
  const body = await response.text();
  return body.slice(body.indexOf('<main>'), body.indexOf('</main>'));
}

describe('the console against a deployed stack', () => {
  it('shows the alarm states, the caller identity and the DLQ depth on the overview', async () => {
    const page = await visit(actionsUrl, '/', 'stack-overview');
    const alarms = await textOf(page, '#alarm-states');
    expect(alarms).toContain('X-DeadLetterQueueNotEmpty');
    expect(alarms).toMatch(/X-DeadLetterQueueNotEmpty\s*ALARM\s*Threshold Crossed/);
    expect(alarms).toMatch(/X-WorkerErrors\s*OK/);
    expect(await textOf(page, '#identity')).toContain(CALLER_ARN);
    expect(await textOf(page, '#actions-mode')).toContain('redrive a dead-letter queue');
    expect(await textOf(page, '#dead-letters')).toMatch(new RegExp(`${DLQ}\\s*1`));
    await page.close();
  });

  it('shows the same project and event pages as the console of the local stack', async () => {
    const local = createConsoleApp({
      source: localSource(readLocalTarget(localEnvironment)),
      port: () => 1,
    });
    const localMain = async (path: string) => {
      const response = await local.request(path, { headers: { Host: '127.0.0.1:1' } });
      expect(response.status, path).toBe(200);
      const body = await response.text();
      return body.slice(body.indexOf('<main>'), body.indexOf('</main>'));
    };
    const path = `/projects?id=${PROJECT}`;
    expect(await mainOf(readOnlyUrl, path)).toBe(await localMain(path));
    expect(await mainOf(readOnlyUrl, `/feed?project=${PROJECT}`)).toContain(
      projectEventId.slice(0, 12),
    );
    // The event page names where the event went: locally the bus's file, here nothing.
    const event = await mainOf(readOnlyUrl, `/events/${projectEventId}`);
    expect(event).toContain(PROJECT);
    await visit(readOnlyUrl, `/projects?id=${PROJECT}`, 'stack-project');
  });

  it('finds an event by its id alone (the table key lookup)', async () => {
    const page = await browser.newPage();
    await page.goto(`${readOnlyUrl}/feed?id=${projectEventId}`, { waitUntil: 'load' });
    expect(page.url()).toContain(`/events/${projectEventId}`);
    expect(await textOf(page, 'main')).toContain(PROJECT);
    await page.close();
  });

  it('with actions allowed, a confirmed redrive moves the message out of the dead-letter queue', async () => {
    expect(await deadLetters()).toBe(1);
    const page = await visit(actionsUrl, '/', 'stack-overview-actions');
    const result = await confirmAction(page, `Redrive ${DLQ}`, 'stack-redrive');
    expect(result).toContain(
      `Redrive of ${DLQ} COMPLETED: moved 1 message back to datasaur-webhooks.`,
    );
    expect(await eventually(deadLetters, (depth) => depth === 0, 30_000)).toBe(0);
    await page.close();
  });

  it('with actions allowed, a confirmed replay stores a signed rejected body as the event it is', async () => {
    const page = await visit(actionsUrl, `/events/${rejectedEventId}`, 'stack-rejected');
    const result = await confirmAction(page, 'Replay this rejected body', 'stack-replay');
    expect(result).toContain(
      `Replayed rejected body ${rejectedEventId}: it parses now and is stored`,
    );
    const stored = await mainOf(readOnlyUrl, `/events/${rejectedEventId}`);
    expect(stored).toContain('stack-console-replayed');
    expect(stored).not.toContain('an older, stricter schema');
    await page.close();
  });

  it('with actions allowed, a reconcile is reported as not run while another run holds the lease', async () => {
    const documents = localDynamoDb(stack.dynamoDbEndpoint);
    const lease = { TableName: 'datasaur-webhooks', Key: reconcileLeaseKey() };
    try {
      await documents.send(
        new PutCommand({
          TableName: lease.TableName,
          Item: {
            ...lease.Key,
            itemType: 'reconcileLease',
            holder: 'the scheduled reconciler',
            leaseUntil: Math.floor(Date.now() / 1000) + 600,
          },
        }),
      );
      const page = await visit(actionsUrl, '/', 'stack-overview-reconcile');
      const result = await confirmAction(page, 'Run a reconcile now', 'stack-reconcile-held');
      expect(result).toContain('Not run: another reconcile run (the scheduled reconciler) holds');
      expect(await textOf(page, 'h1')).toBe('Not done');
      await page.close();
      expect(
        await textOf(await visit(actionsUrl, '/', 'stack-overview-no-run'), '#reconcile'),
      ).toContain('No reconcile run yet');
    } finally {
      await documents.send(new DeleteCommand(lease));
      documents.destroy();
    }
  });

  it('with actions allowed, a confirmed reconcile repairs the missed project and is recorded', async () => {
    const before = fake.counts.graphql.GetAllTeams ?? 0;
    const page = await visit(actionsUrl, '/', 'stack-overview-reconcile');
    const result = await confirmAction(page, 'Run a reconcile now', 'stack-reconcile');
    expect(result).toMatch(/Reconcile run \S+ succeeded: \d+ projects checked/);
    expect(result).toContain('1 missing');
    expect(result).toContain('1 gap(s), repaired 1.');
    // Every team the credentials can see: the team list came from getAllTeams.
    expect((fake.counts.graphql.GetAllTeams ?? 0) - before).toBe(1);
    expect(fake.invalidDocuments).toEqual([]);
    await page.close();
    const overview = await visit(actionsUrl, '/', 'stack-overview-reconciled');
    expect(await textOf(overview, '#reconcile')).toContain('succeeded');
    await overview.close();
    // What `npm run query -- reconcile` lists: the run, as the page said it.
    const documents = localDynamoDb(stack.dynamoDbEndpoint);
    const runs = await createQueries(documents, 'datasaur-webhooks').reconcileRuns();
    documents.destroy();
    expect(runs.items).toEqual([
      expect.objectContaining({ outcome: 'succeeded', dryRun: false, gapsFound: 1, repaired: 1 }),
    ]);
    expect(result).toContain(String(runs.items[0]?.runId));
    expect(await mainOf(readOnlyUrl, `/projects?id=${MISSED_PROJECT}`)).toContain('REVIEWED');
  });

  it('the local console runs a reconcile with the Datasaur API and credentials npm start uses', async () => {
    // localSource reads them as npm run reconcile does, from the environment, when asked.
    const saved = { ...process.env };
    Object.assign(process.env, {
      ...fakeDatasaurEnvironment(fake),
    });
    const source = localSource(readLocalTarget(localEnvironment));
    try {
      const app = createConsoleApp({ source, port: () => 1, allowActions: true });
      const headers = { Host: '127.0.0.1:1' };
      const overview = await (await app.request('/', { headers })).text();
      expect(overview).toContain('action="/actions/reconcile"');
      const csrf = /name="csrf" value="([^"]+)"/.exec(overview)?.[1] as string;
      const result = await app.request('/actions/reconcile', {
        method: 'POST',
        headers,
        body: new URLSearchParams({ csrf, confirm: 'yes' }),
      });
      const text = await result.text();
      expect(result.status, text).toBe(200);
      // The browser's run repaired the missed project: nothing is left to repair.
      expect(text).toMatch(/Reconcile run \S+ succeeded: 2 projects checked/);
      expect(text).toContain('0 gap(s), repaired 0.');
    } finally {
      source.close();
      process.env = saved;
    }
  });

  it('links an archived export to a short-lived pre-signed S3 URL that downloads its bytes', async () => {
    const page = await visit(
      readOnlyUrl,
      `/projects?id=${EXPORTED_PROJECT}`,
      'stack-project-exported',
    );
    const links = await page.$$eval('a[download]', (anchors) =>
      anchors.map((anchor) => anchor.getAttribute('href') ?? ''),
    );
    const sha256 = await page.$eval('code.hash', (code) => code.textContent ?? '');
    await page.close();
    expect(links).toHaveLength(1);
    const link = new URL(links[0] as string);
    expect(link.origin).toBe(new URL(stack.s3Endpoint).origin);
    expect(link.pathname).toContain('/datasaur-webhooks-archive/');
    // SigV4 in the query (s3rver does not check it; S3 does, and refuses it once expired).
    expect(link.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(link.searchParams.get('X-Amz-Credential')).toMatch(/^S3RVER\//);
    expect(link.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(Number(link.searchParams.get('X-Amz-Expires'))).toBeGreaterThan(0);
    expect(Number(link.searchParams.get('X-Amz-Expires'))).toBeLessThanOrEqual(300);

    const documents = localDynamoDb(stack.dynamoDbEndpoint);
    const archived = (
      await createQueries(documents, 'datasaur-webhooks').exports({ projectId: EXPORTED_PROJECT })
    ).items.find((item) => item.status === 'ARCHIVED');
    documents.destroy();
    expect(sha256).toBe(archived?.sha256);
    const download = await fetch(link);
    expect(download.status).toBe(200);
    const bytes = Buffer.from(await download.arrayBuffer());
    expect(bytes.length).toBe(Number(archived?.bytes));
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(archived?.sha256);
  });

  it('read-only: shows no action button and refuses every POST with 403', async () => {
    const page = await visit(readOnlyUrl, '/', 'stack-overview-read-only');
    expect(await page.$$('form[action^="/actions/"]')).toHaveLength(0);
    expect(await textOf(page, '#actions-mode')).toContain('read-only');
    await page.close();
    const refused = await fetch(`${readOnlyUrl}/actions/redrive`, {
      method: 'POST',
      body: new URLSearchParams({ queue: DLQ, confirm: 'yes' }),
    });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('read-only');
  });

  it('refuses an action posted without this console’s token, or from another origin', async () => {
    const withoutToken = await fetch(`${actionsUrl}/actions/redrive`, {
      method: 'POST',
      body: new URLSearchParams({ queue: DLQ, confirm: 'yes', csrf: 'guessed' }),
    });
    expect(withoutToken.status).toBe(403);
    expect(await withoutToken.text()).toContain('not from this console');
    const crossSite = await fetch(`${actionsUrl}/actions/redrive`, {
      method: 'POST',
      headers: { Origin: 'https://attacker.example' },
      body: new URLSearchParams({ queue: DLQ, confirm: 'yes' }),
    });
    expect(crossSite.status).toBe(403);
  });
});

describe('a replay that does not finish, from the console of the local stack', () => {
  const headers = { Host: '127.0.0.1:1' };
  /** A console of the local stack with actions allowed; `environment` as npm run console reads it. */
  const actionConsole = (environment: NodeJS.ProcessEnv) => {
    const source = localSource(readLocalTarget(environment));
    return { app: createConsoleApp({ source, port: () => 1, allowActions: true }), source };
  };
  const pageOf = async (app: ReturnType<typeof createConsoleApp>, path: string) => {
    const response = await app.request(path, { headers });
    return { status: response.status, body: await response.text() };
  };
  /** Posts the replay form the rejected body's page shows, confirmed. */
  const replay = async (app: ReturnType<typeof createConsoleApp>, eventPath: string) => {
    const { body } = await pageOf(app, eventPath);
    expect(body).toContain('action="/actions/replay"');
    const field = (name: string) =>
      new RegExp(`name="${name}" value="([^"]+)"`).exec(body)?.[1] as string;
    const response = await app.request('/actions/replay', {
      method: 'POST',
      headers,
      body: new URLSearchParams({
        eventId: field('eventId'),
        receivedAt: field('receivedAt'),
        csrf: field('csrf'),
        confirm: 'yes',
      }),
    });
    return { status: response.status, body: await response.text() };
  };
  /** A signed body an older worker rejected, as the worker stores it; its event id and time. */
  const storeRejected = async (rawBody: Buffer) => {
    const eventId = eventIdOf(rawBody);
    const receivedAt = new Date().toISOString();
    const documents = localDynamoDb(stack.dynamoDbEndpoint);
    try {
      await documents.send(
        new PutCommand({
          TableName: 'datasaur-webhooks',
          Item: rejectedEarlier(rawBody, receivedAt),
        }),
      );
    } finally {
      documents.destroy();
    }
    return { eventId, receivedAt };
  };
  /** A port nothing listens on: the bus of a console started without npm start's EVENTS_PORT. */
  const closedPort = () =>
    new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
  const resultOf = (body: string) => ({
    heading: /<h1>([^<]*)<\/h1>/.exec(body)?.[1],
    notice: /<p class="notice ([^"]+)" role="status" id="action-result">([^<]*)</.exec(body),
  });

  it('says Not done, with 409, when the body still does not parse', async () => {
    const { eventId } = await storeRejected(Buffer.from('still not json, signed all the same'));
    const { app, source } = actionConsole(localEnvironment);
    try {
      const result = await replay(app, `/events/${eventId}`);
      expect(result.status).toBe(409);
      const { heading, notice } = resultOf(result.body);
      expect(heading).toBe('Not done');
      expect(notice?.[1]).toBe('not-done');
      expect(notice?.[2]).toContain('it still does not parse, so it stays rejected');
    } finally {
      source.close();
    }
  });

  it('says Partly done, with 502, when the bus refuses the event; the rejected body stays reachable and a second replay finishes', async () => {
    const rawBody = Buffer.from(
      JSON.stringify({
        ...SEED_EVENTS.PROJECT_CREATED,
        data: {
          ...SEED_EVENTS.PROJECT_CREATED.data,
          timestamp: new Date().toISOString(),
          project: { ...SEED_EVENTS.PROJECT_CREATED.data.project, id: 'stack-console-half' },
        },
      }),
    );
    const { eventId, receivedAt } = await storeRejected(rawBody);
    const busDown = actionConsole({ ...localEnvironment, EVENTS_PORT: String(await closedPort()) });
    const working = actionConsole(localEnvironment);
    try {
      const partly = await replay(busDown.app, `/events/${eventId}`);
      expect(partly.status).toBe(502);
      const { heading, notice } = resultOf(partly.body);
      expect(heading).toBe('Partly done');
      expect(notice?.[1]).toBe('partly-done');
      expect(notice?.[2]).toContain('stored as an event, but publishing it failed');

      // The id now names the stored event and the rejected body (received at the same time):
      // the event page shows the event and links to the body, which offers the replay again.
      const stored = await pageOf(working.app, `/events/${eventId}`);
      expect(stored.body).toContain('Stored</strong> in the table as projectEvent');
      const link =
        /<dt>also stored as<\/dt><dd><a href="([^"]+)">rejected, received at ([^<]+)<\/a>/.exec(
          stored.body,
        );
      expect(link?.[2]).toBe(receivedAt);
      const rejectedPath = String(link?.[1]).replaceAll('&amp;', '&');
      expect(rejectedPath).toBe(
        `/events/${eventId}?${new URLSearchParams({ at: receivedAt, item: 'rejected' })}`,
      );
      const rejected = await pageOf(working.app, rejectedPath);
      expect(rejected.body).toContain('an older, stricter schema');
      expect(rejected.body).toContain('Stored</strong> in the table as rejected');
      // npm run query -- event prints the stored event too, and names the other on stderr.
      const printed = await runTypeScript(
        'scripts/query.ts',
        ['event', eventId, '--json'],
        localEnvironment,
      );
      expect(printed.code, printed.stderr).toBe(0);
      expect(JSON.parse(printed.stdout)).toMatchObject({ itemType: 'projectEvent', eventId });
      expect(printed.stderr).toBe(`also stored as rejected, received at ${receivedAt}\n`);

      const finished = await replay(working.app, rejectedPath);
      expect(finished.status).toBe(200);
      expect(resultOf(finished.body).heading).toBe('Done');
      expect(resultOf(finished.body).notice?.[1]).toBe('done');
      expect(resultOf(finished.body).notice?.[2]).toContain('1 published on the bus');
      const after = await pageOf(working.app, `/events/${eventId}`);
      expect(after.body).toContain('&quot;Project Created&quot; at');
      expect(after.body).not.toContain('also stored as');
      // A link to the rejected body, once it is replayed, says so and shows the event.
      const gone = await pageOf(working.app, rejectedPath);
      expect(gone.status).toBe(200);
      expect(gone.body).toContain('is no longer stored');
      expect(gone.body).toContain('Stored</strong> in the table as projectEvent');
    } finally {
      busDown.source.close();
      working.source.close();
    }
  });
});

describe('errors a user meets become a message on the page', () => {
  /** An AWS SDK service error as the clients throw it: a name, a message, a status. */
  const awsError = (name: string, message: string) =>
    Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });
  const cases = [
    [
      'ExpiredTokenException',
      'The security token included in the request is expired',
      /credentials are missing or expired/,
    ],
    [
      'AccessDeniedException',
      'User: arn:aws:sts::1:assumed-role/R is not authorized to perform: dynamodb:Query',
      /operator policy/,
    ],
    ['ThrottlingException', 'Rate exceeded', /throttling these requests/],
  ] as const;

  // No local server can be made to answer with these: the console's source is wrapped so its
  // reads and actions throw them, as the SDK clients would.
  for (const [name, message, shown] of cases) {
    it(`shows ${name} as a sentence, never a stack trace, on a page and as an action's result`, async () => {
      const source = localSource(readLocalTarget(localEnvironment));
      const failing = {
        ...source,
        hourlyCounts: {
          ...source.hourlyCounts,
          read: () => Promise.reject(awsError(name, message)),
        },
        operations: {
          ...source.operations,
          requestExport: () => Promise.reject(awsError(name, message)),
        },
      };
      const app = createConsoleApp({ source: failing, port: () => 1, allowActions: true });
      const headers = { Host: '127.0.0.1:1' };
      const overview = await app.request('/', { headers });
      expect(overview.status).toBe(502);
      const page = await overview.text();
      expect(page).toMatch(shown);
      expect(page).not.toMatch(/\n\s+at /);

      const project = await (await app.request(`/projects?id=${PROJECT}`, { headers })).text();
      const csrf = /name="csrf" value="([^"]+)"/.exec(project)?.[1] as string;
      expect(csrf).toBeDefined();
      const result = await app.request('/actions/export', {
        method: 'POST',
        headers,
        body: new URLSearchParams({ projectId: PROJECT, csrf, confirm: 'yes' }),
      });
      expect(result.status).toBe(502);
      const text = await result.text();
      expect(text).toMatch(shown);
      expect(text).toContain('id="action-result"');
      expect(text).not.toMatch(/\n\s+at /);
      source.close();
    });
  }
});
