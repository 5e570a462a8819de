/**
 * The closing checks of issue 23, automated against `npm start` and the fake Datasaur API:
 * with DATASAUR_API_URL set and no credentials, a reviewed project's export is recorded
 * WAITING (CREDENTIALS_MISSING), as `npm run query -- exports` shows; once the stack restarts
 * with credentials it archives by itself, here as a 12 MB file trickling in chunks, with the
 * sha256 of the file the fake served. `npm run export` asks for any project by hand in both.
 * The console, started as the banner prints it, shows the WAITING export on its overview.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  seedEventBody,
  sendDatasaurRequest,
  signDatasaurRequest,
} from '../scripts/local/datasaur-sender.ts';
import { type FakeDatasaur, startFakeDatasaur } from '../scripts/local/fake-datasaur/server.ts';
import { launchBrowser, textOf, visitPage } from './support/browser.ts';
import { printedConsoleVariables, startConsole } from './support/console-process.ts';
import {
  runTypeScript,
  type StackProcess,
  startStackProcess,
  stopLeftoverStacks,
} from './support/local-stack-process.ts';
import { TEST_SECRETS } from './support/test-secrets.ts';

const SECRET = TEST_SECRETS.localStack;
const PROJECT_ID = 'WAITS-1';
let fake: FakeDatasaur;
let dataDir: string;

beforeAll(async () => {
  fake = await startFakeDatasaur();
  fake.upsertProject({ id: PROJECT_ID, status: 'COMPLETE' });
  dataDir = mkdtempSync(join(tmpdir(), 'waiting-exports-'));
});
afterAll(async () => {
  await stopLeftoverStacks();
  await fake?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** `npm run export -- --project <id>` against the running stack. */
function exportByHand(stack: StackProcess, projectId: string) {
  return runTypeScript('scripts/export.ts', ['--project', projectId, '--timeout-seconds', '90'], {
    DYNAMODB_ENDPOINT: stack.dynamoDbEndpoint,
    SQS_ENDPOINT: stack.sqsEndpoint,
    DATA_DIR: dataDir,
  });
}

/** `npm run query -- exports --project <id> --json`, polled until `done` holds on the items. */
async function exportsUntil(
  stack: StackProcess,
  done: (items: Record<string, unknown>[]) => boolean,
): Promise<Record<string, unknown>[]> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const result = await runTypeScript(
      'scripts/query.ts',
      ['exports', '--project', PROJECT_ID, '--json'],
      { DYNAMODB_ENDPOINT: stack.dynamoDbEndpoint },
    );
    expect(result.stderr).toBe('');
    const { items } = JSON.parse(result.stdout) as { items: Record<string, unknown>[] };
    if (done(items)) return items;
    if (Date.now() > deadline) throw new Error(`exports of ${PROJECT_ID}: ${result.stdout}`);
  }
}

/**
 * The console, started as npm start's banner prints it, shows the WAITING export on its
 * overview: counted among the exports waiting, listed with why it waits.
 */
async function expectOnTheOverview(
  stack: StackProcess,
  waiting: Record<string, unknown> | undefined,
) {
  const consoleProcess = await startConsole([], {
    ...printedConsoleVariables(stack.output()),
    CONSOLE_PORT: '0',
  });
  const browser = await launchBrowser(dataDir);
  try {
    const page = await visitPage(
      browser,
      `${consoleProcess.url}/`,
      'overview-waiting-export',
      'overview',
    );
    expect(await textOf(page, '.cards')).toContain('Exports waiting1');
    expect(await textOf(page, '#exports-waiting caption')).toBe(
      'Exports waiting for working Datasaur credentials, not started yet',
    );
    const cells = await page.$$eval('#exports-waiting tbody td', (found) =>
      found.map((cell) => cell.textContent),
    );
    expect(cells).toEqual([
      String(waiting?.requestedAt),
      PROJECT_ID,
      'REVIEWED',
      'WAITING',
      String(waiting?.attempts),
      `CREDENTIALS_MISSING: ${String(waiting?.reason)}`,
    ]);
    expect(await textOf(page, '#exports-waiting')).toContain(
      'Exports requested, not archived yet: none.',
    );
    await page.close();
  } finally {
    await browser.close();
    consoleProcess.child.kill('SIGTERM');
  }
}

it('records a review WAITING without credentials, and archives a trickling 12 MB export by itself once the stack restarts with them', async () => {
  const common = { DATA_DIR: dataDir, DATASAUR_WEBHOOK_SECRET: SECRET, DATASAUR_API_URL: fake.url };
  const withoutCredentials = await startStackProcess(common);
  expect(withoutCredentials.output()).toContain('no credentials: exports WAIT');
  const body = seedEventBody('PROJECT_REVIEWED', {
    projectId: PROJECT_ID,
    timestamp: '2026-12-01T10:00:00.000Z',
  });
  const sent = await sendDatasaurRequest(
    withoutCredentials.webhookUrl,
    signDatasaurRequest(body, SECRET),
  );
  expect(sent.status).toBe(202);
  const [waiting] = await exportsUntil(withoutCredentials, (items) =>
    items.some((item) => item.status === 'WAITING'),
  );
  expect(waiting).toMatchObject({
    status: 'WAITING',
    reasonCode: 'CREDENTIALS_MISSING',
    trigger: 'REVIEWED',
    key: expect.stringMatching(
      /^exports\/[^:]+\/WAITS-1\/REVIEWED\/2026-12-01T10-00-00\.000Z\.zip$/,
    ),
  });
  expect(fake.counts.fileRequests).toBe(0);
  await expectOnTheOverview(withoutCredentials, waiting);
  // By hand, too: recorded WAITING, and the command says so instead of waiting for nothing.
  const waitingByHand = await exportByHand(withoutCredentials, 'P2');
  expect(waitingByHand.code).toBe(1);
  expect(waitingByHand.stdout).toContain('WAITING CREDENTIALS_MISSING');
  await withoutCredentials.stop();

  // 12 MB in 256 KiB chunks, 40 ms apart: the file takes seconds to arrive.
  fake.deliverFiles({ fileBytes: 12_000_000, chunkBytes: 256 * 1024, chunkIntervalMs: 40 });
  const withCredentials = await startStackProcess({
    ...common,
    DATASAUR_CLIENT_ID: fake.clientId,
    DATASAUR_CLIENT_SECRET: fake.clientSecret,
  });
  try {
    const [archived] = await exportsUntil(withCredentials, (items) =>
      items.some((item) => item.status === 'ARCHIVED' || item.status === 'FAILED'),
    );
    const exported = [...fake.exports.values()].find((one) => one.projectIds[0] === PROJECT_ID);
    const file = exported?.file ?? Buffer.alloc(0);
    expect(file.length).toBeGreaterThan(12_000_000);
    expect(archived).toMatchObject({
      status: 'ARCHIVED',
      bytes: file.length,
      sha256: createHash('sha256').update(file).digest('hex'),
    });
    expect(archived).not.toHaveProperty('reasonCode');

    // npm run doctor in another shell, without the DATASAUR_* settings npm start was given:
    // it finds the running stack's exporter by its queues.
    const webhook = new URL(withCredentials.webhookUrl);
    const doctor = await runTypeScript('scripts/doctor.ts', ['--timeout-seconds', '60'], {
      DYNAMODB_ENDPOINT: withCredentials.dynamoDbEndpoint,
      SQS_ENDPOINT: withCredentials.sqsEndpoint,
      DATA_DIR: dataDir,
      DATASAUR_WEBHOOK_SECRET: SECRET,
      PORT: webhook.port,
      WEBHOOK_PATH_TOKEN: webhook.pathname.split('/').at(-1) ?? '',
    });
    expect(doctor.stdout).toMatch(
      /^✓ dead-letter queues: datasaur-webhooks-dlq, datasaur-webhooks-exports-dlq empty$/m,
    );
    expect(doctor.stdout).toContain(
      '- Datasaur credentials: skipped (the running stack exports, but this command was given no DATASAUR_API_URL',
    );
    expect(doctor.stdout).toMatch(/^✓ last export: project WAITS-1 archived /m);

    // npm run send -- export: a pushed delivery naming a file the fake serves, archived.
    const pushed = await runTypeScript('scripts/send.ts', ['export', '--project', 'PUSHED-1'], {
      PORT: webhook.port,
      WEBHOOK_PATH_TOKEN: webhook.pathname.split('/').at(-1) ?? '',
      DATASAUR_WEBHOOK_SECRET: SECRET,
      DATASAUR_API_URL: fake.url,
    });
    expect(pushed.stdout).toMatch(/^200 export [0-9a-f]{64}$/m);
    const deadline = Date.now() + 60_000;
    let pushedExports: Record<string, unknown>[] = [];
    while (!pushedExports.some((item) => item.status === 'ARCHIVED') && Date.now() < deadline) {
      const listed = await runTypeScript(
        'scripts/query.ts',
        ['exports', '--project', 'PUSHED-1', '--json'],
        { DYNAMODB_ENDPOINT: withCredentials.dynamoDbEndpoint },
      );
      pushedExports = (JSON.parse(listed.stdout) as { items: Record<string, unknown>[] }).items;
    }
    expect(pushedExports).toEqual([
      expect.objectContaining({ trigger: 'PUSHED', status: 'ARCHIVED' }),
    ]);

    fake.deliverFiles({});
    const byHand = await exportByHand(withCredentials, PROJECT_ID);
    expect(byHand.stderr).toBe('');
    expect(byHand.stdout).toMatch(
      /ARCHIVED s3:\/\/datasaur-webhooks-archive\/exports\/[^/]+\/WAITS-1\/MANUAL\/\S+\.zip {2}\d+ bytes/,
    );
    expect(byHand.code).toBe(0);
  } finally {
    fake.deliverFiles({});
    await withCredentials.stop();
  }
}, 240_000);
