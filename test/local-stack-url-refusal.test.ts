/**
 * The closing check of issue 20, automated: `npm start` with the fake Datasaur API, a signed
 * export delivery (PUT) naming internal URLs, and `npm run query -- exports --project <id>`
 * shows each refusal. The fake's own origin is the one the local stack admits, so a manual
 * export from it is archived on the same stack.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sendDatasaurRequest, signDatasaurRequest } from '../scripts/local/datasaur-sender.ts';
import { type FakeDatasaur, startFakeDatasaur } from '../scripts/local/fake-datasaur/server.ts';
import {
  fakeDatasaurEnvironment,
  runTypeScript,
  type StackProcess,
  startStackProcess,
} from './support/local-stack-process.ts';
import { TEST_SECRETS } from './support/test-secrets.ts';

const SECRET = TEST_SECRETS.localStack;
let fake: FakeDatasaur;
let stack: StackProcess;
let dataDir: string;

beforeAll(async () => {
  fake = await startFakeDatasaur();
  dataDir = mkdtempSync(join(tmpdir(), 'url-refusal-'));
  stack = await startStackProcess({
    DATA_DIR: dataDir,
    DATASAUR_WEBHOOK_SECRET: SECRET,
    ...fakeDatasaurEnvironment(fake),
  });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
  await fake?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** `npm run query -- exports --project <id> --json`, polled until an item is FAILED or ARCHIVED. */
async function exportsOf(projectId: string): Promise<Record<string, unknown>[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const result = await runTypeScript(
      'scripts/query.ts',
      ['exports', '--project', projectId, '--json'],
      { DYNAMODB_ENDPOINT: stack.dynamoDbEndpoint },
    );
    expect(result.stderr).toBe('');
    const { items } = JSON.parse(result.stdout) as { items: Record<string, unknown>[] };
    if (items.some((item) => item.status === 'FAILED' || item.status === 'ARCHIVED')) return items;
    if (Date.now() > deadline)
      throw new Error(`no finished export of ${projectId}: ${result.stdout}`);
  }
}

it('shows the refusal of a signed delivery naming an internal URL in npm run query -- exports', async () => {
  const fakePort = Number(new URL(fake.url).port);
  const internal = {
    'LOOPBACK-OTHER-PORT': `http://127.0.0.1:${fakePort + 1}/files/x.zip`,
    METADATA: 'https://169.254.169.254/latest/meta-data/iam/security-credentials/',
    'RUNTIME-API': 'https://localhost:9001/2018-06-01/runtime/invocation/next',
  };
  for (const [projectId, fileUrl] of Object.entries(internal)) {
    const body = Buffer.from(JSON.stringify({ userId: 1, projectId, fileUrl }));
    const signed = signDatasaurRequest(body, SECRET, 'PUT');
    expect((await sendDatasaurRequest(stack.webhookUrl, signed)).status).toBe(200);
  }
  for (const projectId of Object.keys(internal)) {
    const [item] = await exportsOf(projectId);
    expect(item).toMatchObject({ status: 'FAILED', reasonCode: 'URL_REFUSED', trigger: 'PUSHED' });
    expect(String(item?.reason)).toMatch(/refused: /);
  }
}, 120_000);
