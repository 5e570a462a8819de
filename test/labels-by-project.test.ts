/**
 * Label events by project, end to end: `npm start` with the fake Datasaur API, label events
 * sent to the webhook URL, `npm run query -- labels --project` read as a user would.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type SeedOverrides,
  seedEventBody,
  sendDatasaurRequest,
  signDatasaurRequest,
} from '../scripts/local/datasaur-sender.ts';
import { type FakeDatasaur, startFakeDatasaur } from '../scripts/local/fake-datasaur/server.ts';
import type { SeedEventType } from '../scripts/local/seed-events.ts';
import { localSqs } from '../scripts/local/servers.ts';
import { startConsole } from './support/console-process.ts';
import { eventually } from './support/eventually.ts';
import {
  fakeDatasaurEnvironment,
  runTypeScript,
  type StackProcess,
  stackCliEnvironment,
  startStackProcess,
  stopLeftoverStacks,
} from './support/local-stack-process.ts';
import { TEST_SECRETS } from './support/test-secrets.ts';

const SECRET = TEST_SECRETS.localStack;
const PROJECT = 'labels-project-1';
const OTHER_PROJECT = 'labels-project-2';
const DOCUMENTS = ['labels-doc-a', 'labels-doc-b'];
const OUTAGE_DOCUMENT = 'labels-doc-outage';

let fake: FakeDatasaur;
let stack: StackProcess;
let dataDir: string;
let stackEnvironment: NodeJS.ProcessEnv;

type Json = Record<string, unknown>;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'labels-by-project-'));
  fake = await startFakeDatasaur({
    projects: [
      { id: OTHER_PROJECT, documents: [{ id: 'labels-doc-elsewhere' }] },
      { id: PROJECT, documents: DOCUMENTS.map((id) => ({ id, originId: `${id}-origin` })) },
      { id: 'labels-project-3', documents: [{ id: OUTAGE_DOCUMENT }] },
    ],
  });
  stack = await startStackProcess({
    DATA_DIR: dataDir,
    DATASAUR_WEBHOOK_SECRET: SECRET,
    ...fakeDatasaurEnvironment(fake),
  });
  stackEnvironment = stackCliEnvironment(stack, dataDir);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await stopLeftoverStacks();
  await fake?.close();
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
});

/** Sends a seed event, signed, to the stack's webhook URL; its event id once accepted. */
async function send(type: SeedEventType, overrides: SeedOverrides): Promise<string> {
  const body = seedEventBody(type, overrides);
  const outcome = await sendDatasaurRequest(stack.webhookUrl, signDatasaurRequest(body, SECRET));
  expect(outcome.status, outcome.detail).toBeLessThan(300);
  return outcome.eventId;
}

const sendLabelEvent = (documentId: string, timestamp: string) =>
  send('BEFORE_UPDATE_LABELS', { documentId, timestamp });

async function query(...args: string[]): Promise<Json> {
  const result = await runTypeScript('scripts/query.ts', [...args, '--json'], stackEnvironment);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Json;
}

async function deadLetterCount(): Promise<number> {
  const sqs = localSqs(stack.sqsEndpoint);
  try {
    const { QueueUrl } = await sqs.send(
      new GetQueueUrlCommand({ QueueName: 'datasaur-webhooks-dlq' }),
    );
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl,
        AttributeNames: ['ApproximateNumberOfMessages'],
      }),
    );
    return Number(Attributes.ApproximateNumberOfMessages);
  } finally {
    sqs.destroy();
  }
}

describe('label events by project', () => {
  it("lists a project's label events across two documents, newest first, within a minute", async () => {
    const sent = [
      await sendLabelEvent(DOCUMENTS[0] as string, '2026-01-05T10:00:00.000Z'),
      await sendLabelEvent(DOCUMENTS[1] as string, '2026-01-05T10:01:00.000Z'),
      await sendLabelEvent(DOCUMENTS[0] as string, '2026-01-05T10:02:00.000Z'),
    ];
    const listing = await eventually(
      () => query('labels', '--project', PROJECT),
      (page) => (page.items as Json[]).length === 3,
      60_000,
      500,
    );
    const items = listing.items as Json[];
    expect(items.map((item) => item.eventId)).toEqual(sent.toReversed());
    expect(items.map((item) => item.documentId)).toEqual([
      DOCUMENTS[0],
      DOCUMENTS[1],
      DOCUMENTS[0],
    ]);
    expect(listing.counts).toMatchObject({ documentCount: 2, labelEventCount: 3 });

    // Paged: one at a time, the cursor leads to the next.
    const first = await query('labels', '--project', PROJECT, '--limit', '2');
    expect((first.items as Json[]).map((item) => item.eventId)).toEqual([sent[2], sent[1]]);
    const second = await query(
      'labels',
      '--project',
      PROJECT,
      '--limit',
      '2',
      '--cursor',
      String(first.cursor),
    );
    expect((second.items as Json[]).map((item) => item.eventId)).toEqual([sent[0]]);

    // Once the mapping is known, a new label event carries its project as it is stored.
    const later = await sendLabelEvent(DOCUMENTS[1] as string, '2026-01-05T10:03:00.000Z');
    // Not stored yet answers exit 1 ("no event …"): polled like the rest, not failed at once.
    const stored = await eventually(
      async () => {
        const result = await runTypeScript(
          'scripts/query.ts',
          ['event', later, '--json'],
          stackEnvironment,
        );
        return result.code === 0 ? (JSON.parse(result.stdout) as Json) : undefined;
      },
      (view) => view?.projectId !== undefined,
      30_000,
      500,
    );
    expect(stored?.projectId).toBe(PROJECT);
    expect(fake.invalidDocuments).toEqual([]);
  }, 180_000);

  it("shows the label activity of the project's documents on its console page", async () => {
    // The page is a project's: one event of it makes the project item.
    await send('PROJECT_CREATED', { projectId: PROJECT, timestamp: '2026-01-05T09:00:00.000Z' });
    await eventually(
      () => runTypeScript('scripts/query.ts', ['project', PROJECT, '--json'], stackEnvironment),
      (result) => result.code === 0,
      30_000,
      500,
    );
    const console = await startConsole([], stackEnvironment);
    try {
      // The counters follow the label events at the enrichment's next pass.
      const page = await eventually(
        async () =>
          (await fetch(`${console.url}/projects?id=${encodeURIComponent(PROJECT)}`)).text(),
        (text) => /label events<\/dt><dd>4 on 2 documents/.test(text),
        60_000,
        500,
      );
      const documentsSection = page.slice(page.indexOf('id="documents-heading"'));
      // Both documents, learned from Datasaur (no export delivery names them), newest first.
      const [newer, older] = [DOCUMENTS[1] as string, DOCUMENTS[0] as string].map((id) =>
        documentsSection.indexOf(`>${id}</a>`),
      );
      expect(newer).toBeGreaterThan(0);
      expect(older).toBeGreaterThan(newer as number);
      expect(documentsSection).toContain('2026-01-05T10:03:00.000Z');
    } finally {
      console.child.kill('SIGTERM');
    }
  }, 120_000);

  it('keeps every label event stored and the DLQ empty through a Datasaur outage', async () => {
    // Every GraphQL request answers 503 from now on: enrichment runs meet an outage.
    fake.faults.httpStatus(503, 10_000);
    const before = fake.counts.graphql.GetProjectsQuery ?? 0;
    const sent = [
      await sendLabelEvent(OUTAGE_DOCUMENT, '2026-01-06T10:00:00.000Z'),
      await sendLabelEvent(OUTAGE_DOCUMENT, '2026-01-06T10:01:00.000Z'),
    ];
    await stack.waitForOutput((output) => /enrichment: Datasaur/.test(output), 60_000);
    expect(fake.counts.graphql.GetProjectsQuery ?? 0).toBeGreaterThan(before);
    const stored = await query('labels', '--document', OUTAGE_DOCUMENT);
    expect((stored.items as Json[]).map((item) => item.eventId)).toEqual(sent);
    expect(await deadLetterCount()).toBe(0);
  }, 120_000);
});
