/**
 * `npm run console` in a real browser: headless Chromium (from `@sparticuz/chromium`, driven
 * by `puppeteer-core`) against `npm start` with signed events sent, the fake Datasaur API
 * archiving an export and `npm run reconcile` repairing a missed webhook. Each page is
 * checked against what `npm run query` prints, checked with axe-core, and photographed into
 * `.data/screenshots/`.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type IncomingHttpHeaders, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsoleApp } from '../scripts/console/app.ts';
import { projectHref } from '../scripts/console/html.ts';
import { localSource } from '../scripts/console/source.ts';
import { readLocalTarget } from '../scripts/local/config.ts';
import {
  exportDeliveryBody,
  seedEventBody,
  sendDatasaurRequest,
  signDatasaurRequest,
} from '../scripts/local/datasaur-sender.ts';
import { DEFAULT_TABLE_NAME, EVENTS_FILE_NAME } from '../scripts/local/defaults.ts';
import { type FakeDatasaur, startFakeDatasaur } from '../scripts/local/fake-datasaur/server.ts';
import { LOCAL_CLIENT_CONFIG, localDynamoDb } from '../scripts/local/servers.ts';
import { createQueries } from '../shared/store/queries.ts';
import { eventIdOf } from '../shared/webhook/signature.ts';
import { launchBrowser, SCREENSHOTS, textOf, visitPage } from './support/browser.ts';
import {
  printedConsoleVariables,
  startConsole as startConsoleProcess,
} from './support/console-process.ts';
import { eventually } from './support/eventually.ts';
import {
  fakeDatasaurEnvironment,
  runTypeScript,
  type StackProcess,
  stackCliEnvironment,
  startStackProcess,
  stopLeftoverStacks,
} from './support/local-stack-process.ts';
import { expectLoopbackOnly } from './support/loopback-only.ts';
import { TEST_SECRETS } from './support/test-secrets.ts';
import { rejectedEarlier } from './support/webhook-records.ts';

/** The browser globals the page functions below use (this project compiles without the DOM library). */
interface PageElement {
  readonly textContent: string | null;
  getAttribute(name: string): string | null;
}
declare const window: {
  readonly __pwned?: boolean;
  getComputedStyle(element: unknown): { readonly unicodeBidi: string };
};
declare const document: {
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement>;
};

const SECRET = TEST_SECRETS.localStack;

const PROJECT = 'console-p1';
const RECONCILED_PROJECT = 'console-p2';
const DOCUMENT = 'console-d1';
const HOSTILE_PROJECT = 'hostile-"><b>1';
/** Ids a path cannot hold as they are: dot segments, and the characters that end a segment. */
const ODD_IDS = ['.', '..', 'a/b?c#d%e'] as const;
/** Shown as "payroll-2024" if its right-to-left override were left to act. */
const BIDI_PROJECT = '\u202E4202-lloryap';
/** What npm start is given beside its defaults: the printed console command must carry them. */
const EVENT_SOURCE = 'console.test';
const HOSTILE_DOCUMENT = `doc"'<b>x</b>`;
const HOSTILE = {
  name: '<script>window.__pwned = true</script><img src=x onerror="window.__pwned=true">',
  tag: '" autofocus onfocus="window.__pwned=true',
  label: `<img src=x onerror='window.__pwned=true'>`,
  fileUrl: 'javascript:window.__pwned=true',
};

let fake: FakeDatasaur;
let stack: StackProcess;
const consoles: ChildProcess[] = [];
let consoleUrl: string;
let browser: Browser;
let dataDir: string;
/** Variables that point a CLI at this run's stack. */
let stackEnvironment: NodeJS.ProcessEnv;
/** Event ids by what was sent. */
const sent: Record<string, string> = {};
/** What `npm run query` printed once everything was stored (read at once: each run starts tsx). */
let printedByQuery: {
  feed: Listing;
  reconcile: Listing;
  events: Listing;
  project: Json;
  exports: Listing;
  reconciledProject: Json;
  labels: Listing;
};

async function send(name: string, body: string, method: 'POST' | 'PUT' = 'POST') {
  const outcome = await sendDatasaurRequest(
    stack.webhookUrl,
    signDatasaurRequest(body, SECRET, method),
  );
  expect(outcome.status, outcome.detail).toBeLessThan(300);
  sent[name] = outcome.eventId;
  return outcome.eventId;
}

type Json = Record<string, unknown>;
interface Listing {
  readonly items: Json[];
}

/** `npm run query -- <args> --json` against this run's stack. */
async function query<T = Listing>(...args: string[]): Promise<T> {
  const result = await runTypeScript('scripts/query.ts', [...args, '--json'], stackEnvironment);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as T;
}

const timestamps = (() => {
  let last = Date.now() - 60_000;
  return () => {
    last += 1_000;
    return new Date(last).toISOString();
  };
})();

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'console-test-'));
  fake = await startFakeDatasaur({
    fileNotFoundCount: 0,
    projects: [
      { id: PROJECT, name: 'hamlet.TXT', status: 'COMPLETE' },
      { id: RECONCILED_PROJECT, name: 'missed.txt', status: 'COMPLETE' },
    ],
  });
  stack = await startStackProcess({
    DATA_DIR: dataDir,
    DATASAUR_WEBHOOK_SECRET: SECRET,
    EVENT_SOURCE,
    PUBLISH_LABEL_EVENTS: 'true',
    ...fakeDatasaurEnvironment(fake),
  });
  stackEnvironment = stackCliEnvironment(stack, dataDir);

  for (const type of ['PROJECT_CREATED', 'PROJECT_COMPLETED', 'PROJECT_REVIEWED'] as const) {
    await send(type, seedEventBody(type, { projectId: PROJECT, timestamp: timestamps() }));
  }
  await send(
    'RECONCILED_CREATED',
    seedEventBody('PROJECT_CREATED', { projectId: RECONCILED_PROJECT, timestamp: timestamps() }),
  );
  await send(
    'LABELS_1',
    seedEventBody('BEFORE_UPDATE_LABELS', { documentId: DOCUMENT, timestamp: timestamps() }),
  );
  await send(
    'LABELS_2',
    seedEventBody('BEFORE_UPDATE_LABELS', {
      documentId: DOCUMENT,
      timestamp: timestamps(),
      labels: 3,
    }),
  );
  await send('EXPORT', exportDeliveryBody({ projectId: PROJECT, documentId: DOCUMENT }), 'PUT');
  await send('REJECTED', 'not json, signed all the same');
  for (const [index, id] of ODD_IDS.entries()) {
    await send(
      `ODD_PROJECT_${index}`,
      seedEventBody('PROJECT_CREATED', { projectId: id, timestamp: timestamps() }),
    );
    await send(
      `ODD_DOCUMENT_${index}`,
      seedEventBody('BEFORE_UPDATE_LABELS', { documentId: id, timestamp: timestamps() }),
    );
  }
  await send(
    'BIDI_PROJECT',
    seedEventBody('PROJECT_CREATED', { projectId: BIDI_PROJECT, timestamp: timestamps() }),
  );
  // Hostile values in signed webhooks: they must come back as text, everywhere.
  const created = JSON.parse(
    seedEventBody('PROJECT_CREATED', { projectId: HOSTILE_PROJECT, timestamp: timestamps() }),
  );
  created.data.project.name = HOSTILE.name;
  created.data.project.tags = [HOSTILE.tag];
  await send('HOSTILE_CREATED', JSON.stringify(created));
  await send(
    'HOSTILE_EXPORT',
    JSON.stringify({
      projectId: HOSTILE_PROJECT,
      documentId: HOSTILE_DOCUMENT,
      fileUrl: HOSTILE.fileUrl,
      // Kept as received, whereas the link goes once its export (refused here) has FAILED.
      comment: HOSTILE.fileUrl,
    }),
    'PUT',
  );
  const labels = JSON.parse(
    seedEventBody('BEFORE_UPDATE_LABELS', {
      documentId: HOSTILE_DOCUMENT,
      timestamp: timestamps(),
    }),
  );
  labels.data.labelUpdateList.toUpsertList[0].labelSetItemId = HOSTILE.label;
  await send('HOSTILE_LABELS', JSON.stringify(labels));

  // Every event stored, the reviewed project's export archived, a missed webhook reconciled.
  const client = new DynamoDBClient({ ...LOCAL_CLIENT_CONFIG, endpoint: stack.dynamoDbEndpoint });
  const queries = createQueries(DynamoDBDocumentClient.from(client), DEFAULT_TABLE_NAME);
  try {
    const lastHour = () => ({
      from: new Date(Date.now() - 3_600_000).toISOString(),
      to: new Date(Date.now() + 60_000).toISOString(),
    });
    await eventually(
      () => queries.feed(lastHour(), { limit: 1000 }),
      (page) => page.items.length >= Object.keys(sent).length,
    );
    await eventually(
      () => queries.exports({ projectId: PROJECT }),
      (page) => page.items.some((item) => item.status === 'ARCHIVED'),
    );
  } finally {
    client.destroy();
  }
  const reconcile = await runTypeScript('scripts/reconcile.ts', [], {
    ...stackEnvironment,
    ...fakeDatasaurEnvironment(fake),
    DATASAUR_TEAM_IDS: '1',
  });
  expect(reconcile.code, reconcile.stderr).toBe(0);

  const [feed, runs, events, project, exports, reconciledProject, labelPage] = await Promise.all([
    query('feed', '--limit', '1000'),
    query('reconcile'),
    query('events', '--project', PROJECT),
    query<Json>('project', PROJECT),
    query('exports', '--project', PROJECT),
    query<Json>('project', RECONCILED_PROJECT),
    query('labels', '--document', DOCUMENT),
  ]);
  printedByQuery = {
    feed,
    reconcile: runs,
    events,
    project,
    exports,
    reconciledProject,
    labels: labelPage,
  };

  consoleUrl = await startConsole([], { ...stackEnvironment, CONSOLE_PORT: '0' });

  browser = await launchBrowser(dataDir);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  for (const child of consoles) child.kill('SIGTERM');
  await stack?.stop();
  await stopLeftoverStacks();
  await fake?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Starts `npm run console`, stopped with the stack; resolves with the URL it prints. */
async function startConsole(args: string[], environment: NodeJS.ProcessEnv): Promise<string> {
  const started = await startConsoleProcess(args, environment);
  consoles.push(started.child);
  return started.url;
}

/** Opens a page of the console, checks it with axe-core, and photographs it. */
const visit = (path: string, screenshot: string): Promise<Page> =>
  visitPage(browser, `${consoleUrl}${path}`, screenshot, path);

/** What a feed item counts as, the way `npm run query -- feed` shows it. */
function typeName(item: Json): string {
  if (item.itemType === 'rejected') return 'REJECTED';
  if (item.itemType === 'unknownEvent') return 'UNKNOWN';
  if (item.itemType === 'syntheticStatusEvent') return 'RECONCILED';
  return String(item.eventType);
}

describe('the console in a browser', () => {
  it('overview: per-type counts of the last 24 hours equal the feed npm run query prints, and a chart', async () => {
    const { feed } = printedByQuery;
    expect(feed.items.length).toBeGreaterThan(10);
    const expected: Record<string, number> = {};
    for (const item of feed.items) expected[typeName(item)] = (expected[typeName(item)] ?? 0) + 1;

    const page = await visit('/', 'overview');
    const shown = await page.$$eval('#day-totals span[data-type]', (cells) =>
      Object.fromEntries(
        cells.map((cell) => [cell.getAttribute('data-type'), Number(cell.textContent)]),
      ),
    );
    expect(shown).toEqual(expected);
    // uPlot drew the series into a canvas, from the script the console serves.
    expect(await page.$$('#day-chart canvas')).not.toHaveLength(0);
    const runs = printedByQuery.reconcile;
    expect(await textOf(page, '#reconcile')).toContain(String(runs.items[0]?.startedAt));
    expect(await textOf(page, '.cards')).toContain('Rejected bodies today1');
    // The top of the page, as the README shows it (docs/images/console-overview.png).
    await page.screenshot({ path: join(SCREENSHOTS, 'overview-top.png') });
    await page.close();
  });

  it('feed: filters in the query string, newest first, and new events appear while it is open', async () => {
    const { events } = printedByQuery;
    const page = await visit(`/feed?project=${PROJECT}`, 'feed');
    const listed = await page.$$eval('#feed a[href^="/events/"]', (links) =>
      links.map((link) => link.querySelector('code')?.getAttribute('title')),
    );
    const newestFirst = [...events.items]
      .sort((left, right) => (String(left.receivedAt) < String(right.receivedAt) ? 1 : -1))
      .map((item) => item.eventId);
    expect(listed).toEqual(newestFirst);

    const later = await send(
      'LATER',
      // An export delivery: of this project, without moving its status (the other pages
      // compare with what the query printed before).
      exportDeliveryBody({ projectId: PROJECT, documentId: 'console-d2' }),
      'PUT',
    );
    await page.waitForFunction(
      (eventId) => document.querySelector(`#feed code[title="${eventId}"]`) !== null,
      { timeout: 30_000 },
      later,
    );
    await page.close();
  });

  it('project: status, a timeline telling webhook from reconciled transitions, exports with key, size and sha256', async () => {
    const { project } = printedByQuery;
    const { exports } = printedByQuery;
    const page = await visit(`/projects?id=${PROJECT}`, 'project');
    expect(await textOf(page, '.facts')).toContain(String(project.status));
    expect(
      await page.$$eval('.timeline li.webhook strong', (items) =>
        items.map((item) => item.textContent),
      ),
    ).toEqual(expect.arrayContaining(['CREATED', 'COMPLETED', 'REVIEWED']));
    const archived = exports.items.find((item) => item.status === 'ARCHIVED') ?? {};
    const exportsText = await textOf(page, '#exports-heading + table');
    for (const value of [archived.key, archived.bytes, archived.sha256].map(String)) {
      expect(exportsText).toContain(value);
    }
    expect(await page.$$eval(`a[href="/documents?id=${DOCUMENT}"]`, (links) => links.length)).toBe(
      1,
    );
    await page.close();

    const reconciled = await visit(`/projects?id=${RECONCILED_PROJECT}`, 'project-reconciled');
    expect(printedByQuery.reconciledProject.source).toBe('reconcile');
    expect(await textOf(reconciled, '.timeline li.webhook')).toContain('CREATED');
    expect(await textOf(reconciled, '.timeline li.reconciled')).toContain('REVIEWED');
    await reconciled.close();
  });

  it('document: label events newest first, each with its labels, span and who', async () => {
    const { labels } = printedByQuery;
    const page = await visit(`/documents?id=${DOCUMENT}`, 'document');
    const shown = await page.$$eval('article.label-event a[href^="/events/"] code', (codes) =>
      codes.map((code) => code.getAttribute('title')),
    );
    expect(shown).toEqual(labels.items.map((item) => item.eventId).reverse());
    const newestData = labels.items.at(-1)?.data as { labelUpdateList: { toUpsertList: Json[] } };
    const newest = newestData.labelUpdateList.toUpsertList;
    const upserted = await textOf(page, 'article.label-event table');
    expect(newest).toHaveLength(3);
    for (const label of newest) {
      expect(upserted).toContain(String(label.labelSetItemId));
      expect(upserted).toContain(
        `cell ${label.startCellIndex}, token ${label.startTokenIndex}, char ${label.startCharIndex}`,
      );
    }
    expect(upserted).toContain('LABELER, user 1');
    await page.close();
  });

  it('event: the body pretty-printed and where it went (stored, published, export requested)', async () => {
    const eventId = sent.PROJECT_REVIEWED as string;
    const page = await visit(`/events/${eventId}`, 'event');
    const stored = printedByQuery.events.items.find((item) => item.eventId === eventId);
    const shown = await textOf(page, 'pre.json');
    const body = { eventType: 'PROJECT_REVIEWED', data: stored?.data };
    expect(shown).toBe(JSON.stringify(body, null, 2));
    const went = await textOf(page, '.went');
    expect(went).toContain('Stored in the table as projectEvent');
    expect(went).toContain('"Project Reviewed"');
    expect(await textOf(page, '#went-heading ~ table')).toContain('ARCHIVED');
    await page.close();
  });

  it('event: a pushed link removed once its export FAILED, said on the page and by npm run query -- event', async () => {
    const eventId = sent.HOSTILE_EXPORT as string;
    // Refused at once (not https): FAILED URL_REFUSED, and the link goes with it.
    const printed = await eventually(
      () => query<Json>('event', eventId),
      (view) => view.fileUrlRemovedBecause === 'FAILED',
    );
    expect(printed.data).not.toHaveProperty('fileUrl');
    expect(printed.data).toMatchObject({ comment: HOSTILE.fileUrl });
    const page = await visit(`/events/${eventId}`, 'event-link-removed');
    expect(await textOf(page, 'dl.facts')).toContain(
      `removed from the body at ${String(printed.fileUrlRemovedAt)}, once its export was FAILED`,
    );
    expect(await textOf(page, 'pre.json')).toBe(JSON.stringify(printed.data, null, 2));
    await page.close();
  });

  it('opens the project and document whose id is ., .. or holds / ? # %, from the links of the feed', async () => {
    const feed = await visit('/feed', 'feed-odd-ids');
    const links = await feed.$$eval(
      '#feed a[href^="/projects"], #feed a[href^="/documents"]',
      (anchors) =>
        anchors.map((anchor) => ({ text: anchor.textContent, href: anchor.getAttribute('href') })),
    );
    await feed.close();
    for (const [index, id] of ODD_IDS.entries()) {
      for (const [kind, heading, sentAs] of [
        ['projects', 'Project', `ODD_PROJECT_${index}`],
        ['documents', 'Document', `ODD_DOCUMENT_${index}`],
      ] as const) {
        const link = links.find((one) => one.href?.startsWith(`/${kind}`) && one.text === id);
        expect(link, `a link to ${kind} ${id}`).toBeDefined();
        const page = await visit(String(link?.href), `${kind}-odd-${index}`);
        expect(await textOf(page, 'h1')).toBe(`${heading} ${id}`);
        // The page of that id: it lists the event sent for it.
        expect(
          await page.$$eval('main a[href^="/events/"] code', (codes) =>
            codes.map((code) => code.getAttribute('title')),
          ),
        ).toContain(sent[sentAs]);
        await page.close();
      }
    }
    // A link of an earlier version (the id in the path) leads to the same page.
    const old = await visit(`/projects/${PROJECT}`, 'project-path-form');
    expect(old.url()).toBe(`${consoleUrl}/projects?id=${PROJECT}`);
    await old.close();
  });

  it('writes out a bidi override in an id where it is the subject (the title), so it cannot pass for another id', async () => {
    const page = await visit(`/projects?id=${encodeURIComponent(BIDI_PROJECT)}`, 'bidi-project');
    expect(await textOf(page, 'h1')).toBe('Project "\\u202E4202-lloryap"');
    // The feed's link to it is isolated: the override reorders nothing around it.
    const feed = await visit('/feed?type=PROJECT_CREATED', 'bidi-feed');
    const isolation = await feed.$eval(
      `a[href="${projectHref(BIDI_PROJECT)}"]`,
      (link) => window.getComputedStyle(link).unicodeBidi,
    );
    expect(isolation).toBe('isolate');
    await Promise.all([page.close(), feed.close()]);
  });

  it('renders hostile values from signed webhooks as text, also in attributes and links', async () => {
    for (const [path, name] of [
      [`/projects?id=${encodeURIComponent(HOSTILE_PROJECT)}`, 'hostile-project'],
      [`/documents?id=${encodeURIComponent(HOSTILE_DOCUMENT)}`, 'hostile-document'],
      [`/events/${sent.HOSTILE_EXPORT}`, 'hostile-event'],
      [`/feed?project=${encodeURIComponent(HOSTILE_PROJECT)}`, 'hostile-feed'],
    ] as const) {
      const page = await visit(path, name);
      const found = await page.evaluate(() => ({
        pwned: window.__pwned === true,
        injected: document.querySelectorAll('main img, main script, main svg, main b').length,
        links: Array.from(document.querySelectorAll('a[href]'), (link) =>
          link.getAttribute('href'),
        ),
        text: document.querySelector('main')?.textContent ?? '',
      }));
      expect(found.pwned, path).toBe(false);
      expect(found.injected, path).toBe(0);
      for (const link of found.links) expect(link, path).toMatch(/^[/#]/);
      if (name === 'hostile-project') {
        expect(found.text).toContain(HOSTILE.name);
        expect(found.text).toContain(HOSTILE.tag);
      }
      if (name === 'hostile-document') expect(found.text).toContain(HOSTILE.label);
      if (name === 'hostile-event') expect(found.text).toContain(HOSTILE.fileUrl);
      await page.close();
    }
  });
});

describe('the console server', () => {
  const get = (headers: Record<string, string>, path = '/') =>
    new Promise<{ status: number; csp: string | undefined; headers: IncomingHttpHeaders }>(
      (resolve, reject) => {
        const url = new URL(consoleUrl);
        request({ host: url.hostname, port: url.port, path, headers }, (response) => {
          response.resume();
          resolve({
            status: response.statusCode ?? 0,
            csp: response.headers['content-security-policy'] as string | undefined,
            headers: response.headers,
          });
        })
          .on('error', reject)
          .end();
      },
    );

  it('sends its security headers with every answer, a refusal of a foreign Host too', async () => {
    const port = new URL(consoleUrl).port;
    for (const [host, path, status] of [
      [`127.0.0.1:${port}`, '/', 200],
      [`127.0.0.1:${port}`, '/assets/console.css', 200],
      // A name every object has: no asset of that name, not an error.
      [`127.0.0.1:${port}`, '/assets/constructor', 404],
      [`rebound.example:${port}`, '/', 403],
    ] as const) {
      const answer = await get({ Host: host }, path);
      expect(answer.status, path).toBe(status);
      expect(answer.headers, `${host}${path}`).toMatchObject({
        'content-security-policy': expect.stringContaining("default-src 'none'"),
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-resource-policy': 'same-origin',
        'cache-control': 'no-store',
      });
    }
  });

  it('shows a page saying what is wrong, not a stack trace, when the stack is not running', async () => {
    const unreachable = 'http://127.0.0.1:1';
    const source = localSource(
      readLocalTarget({
        DYNAMODB_ENDPOINT: unreachable,
        SQS_ENDPOINT: unreachable,
        S3_ENDPOINT: unreachable,
      }),
    );
    try {
      const app = createConsoleApp({ source, port: () => 4020 });
      const response = await app.request('/', { headers: { Host: '127.0.0.1:4020' } });
      expect(response.status).toBe(502);
      const page = await response.text();
      expect(page).toContain('The console could not read the local stack');
      expect(page).toContain('Is npm start running?');
      expect(page).not.toMatch(/\n\s+at /);
    } finally {
      source.close();
    }
  });

  it('says what it expected and exits 2 on a bad flag or a bad CONSOLE_PORT', async () => {
    const [flag, port] = await Promise.all([
      runTypeScript('scripts/console.ts', ['--port', '1'], stackEnvironment),
      runTypeScript('scripts/console.ts', [], { ...stackEnvironment, CONSOLE_PORT: 'abc' }),
    ]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('Usage: npm run console');
    expect(port.code).toBe(2);
    expect(port.stderr).toContain('CONSOLE_PORT');
    for (const output of [flag.stderr, port.stderr]) expect(output).not.toMatch(/\n\s+at /);
  });

  it("is what npm start's banner tells to run: started so, its replay publishes to this stack's bus as the worker does", async () => {
    const variables = printedConsoleVariables(stack.output());
    expect(variables).toEqual({
      DYNAMODB_PORT: new URL(stack.dynamoDbEndpoint).port,
      SQS_PORT: new URL(stack.sqsEndpoint).port,
      S3_PORT: new URL(stack.s3Endpoint).port,
      EVENTS_PORT: new URL(stack.eventsEndpoint).port,
      EVENT_SOURCE,
      PUBLISH_LABEL_EVENTS: 'true',
      DATA_DIR: dataDir,
    });

    // A signed label event an older worker rejected, which parses now: replayed from a
    // console started as printed, it is published where and as this stack's worker publishes.
    const rawBody = Buffer.from(
      seedEventBody('BEFORE_UPDATE_LABELS', {
        documentId: 'console-replayed',
        timestamp: timestamps(),
      }),
    );
    const eventId = eventIdOf(rawBody);
    const documents = localDynamoDb(stack.dynamoDbEndpoint);
    try {
      await documents.send(
        new PutCommand({
          TableName: DEFAULT_TABLE_NAME,
          Item: rejectedEarlier(rawBody, new Date().toISOString()),
        }),
      );
    } finally {
      documents.destroy();
    }
    const asPrinted = await startConsole(['--allow-actions'], { ...variables, CONSOLE_PORT: '0' });
    const eventPage = await (await fetch(`${asPrinted}/events/${eventId}`)).text();
    const field = (name: string) =>
      new RegExp(`name="${name}" value="([^"]+)"`).exec(eventPage)?.[1] as string;
    const result = await fetch(`${asPrinted}/actions/replay`, {
      method: 'POST',
      body: new URLSearchParams({
        eventId,
        receivedAt: field('receivedAt'),
        csrf: field('csrf'),
        confirm: 'yes',
      }),
    });
    const said = await result.text();
    expect(result.status, said).toBe(200);
    expect(said).toContain('it parses now and is stored as an event (1 published on the bus)');
    const published = readFileSync(join(dataDir, EVENTS_FILE_NAME), 'utf8')
      .split('\n')
      .filter((line) => line.includes(eventId))
      .map((line) => JSON.parse(line) as Json);
    expect(published).toEqual([
      expect.objectContaining({ source: EVENT_SOURCE, 'detail-type': 'Labels Updated' }),
    ]);
  });

  it('answers only its own loopback Host and Origin (DNS rebinding), with a CSP allowing no inline script', async () => {
    const port = new URL(consoleUrl).port;
    const own = await get({ Host: `localhost:${port}` });
    expect(own.status).toBe(200);
    expect(own.csp).toContain("script-src 'self'");
    expect(own.csp).not.toContain('unsafe-inline');
    expect((await get({ Host: `rebound.example:${port}` })).status).toBe(403);
    expect(
      (await get({ Host: `127.0.0.1:${port}`, Origin: 'http://rebound.example' })).status,
    ).toBe(403);
  });

  it("listens on 127.0.0.1 only, as every server of npm start's banner does", async () => {
    const banner = [
      ...stack
        .output()
        .matchAll(/^ {2}(?:webhook URL|DynamoDB|SQS|EventBridge|S3)\s+(http:\/\/\S+)/gm),
    ];
    expect(banner.map(([line]) => line.trim().split(/\s{2,}/)[0])).toEqual([
      'webhook URL',
      'DynamoDB',
      'SQS',
      'EventBridge',
      'S3',
    ]);
    for (const endpoint of [consoleUrl, ...banner.map(([, url]) => url as string)]) {
      await expectLoopbackOnly(endpoint);
    }
  });
});
