/**
 * `npx tsx scripts/console/measure.ts [--events 100000]`: how long each console page takes
 * with many events in the table. Starts a throwaway local stack, writes the events straight
 * through the event store (as the worker would, batches of 10 with their hourly counts),
 * serves the console against it and times every page over HTTP. Everything is deleted after.
 */
import '../local/sdk-notice.ts';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { serve } from '@hono/node-server';
import { limitConcurrency } from '../../shared/runtime/concurrency.ts';
import { createEventStore } from '../../shared/store/event-store.ts';
import {
  createHourlyCounts,
  type HourlyTally,
  shardOf,
  tallyRecorded,
} from '../../shared/store/hourly-counts.ts';
import { sdkTableDocuments } from '../../shared/store/sdk-table-documents.ts';
import { eventIdOf } from '../../shared/webhook/signature.ts';
import { numberFlag, UsageError } from '../local/cli.ts';
import { readLocalTarget } from '../local/config.ts';
import { exportDeliveryBody, seedEventBody } from '../local/datasaur-sender.ts';
import { LOCAL_CLIENT_CONFIG } from '../local/servers.ts';
import { startThrowawayStack } from '../local/throwaway-stack.ts';
import { webhookMessage } from '../local/webhook-message.ts';
import { createConsoleApp } from './app.ts';
import { localSource } from './source.ts';

const HOUR_MS = 3_600_000;
const PROJECTS = 2_000;
const DOCUMENTS = 200;
const TIMES_EACH = 5;

/** The mix of a busy day: label events are the volume; every 50th body is not JSON. */
function body(index: number, receivedAt: string): { method: 'POST' | 'PUT'; text: string } {
  const projectId = `P${index % PROJECTS}`;
  if (index % 50 === 0) return { method: 'POST', text: `not json ${index}` };
  if (index % 20 === 1)
    return {
      method: 'PUT',
      text: exportDeliveryBody({ projectId, documentId: `D${index % DOCUMENTS}` }),
    };
  if (index % 10 === 2) {
    const type = (['PROJECT_CREATED', 'PROJECT_COMPLETED', 'PROJECT_REVIEWED'] as const)[
      Math.floor(index / 10) % 3
    ] as 'PROJECT_CREATED';
    return { method: 'POST', text: seedEventBody(type, { projectId, timestamp: receivedAt }) };
  }
  return {
    method: 'POST',
    text: seedEventBody('BEFORE_UPDATE_LABELS', {
      documentId: `D${index % DOCUMENTS}`,
      timestamp: receivedAt,
    }),
  };
}

async function main(): Promise<void> {
  let events: number;
  try {
    const { values } = parseArgs({ options: { events: { type: 'string' } }, strict: true });
    events = numberFlag('events', values.events ?? '100000', { min: 1, max: 1_000_000 });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`${message}\nUsage: npx tsx scripts/console/measure.ts [--events <n>]`);
    process.exit(2);
  }

  const stack = await startThrowawayStack({
    log: () => {},
    onFatal: (reason) => console.error(reason),
  });
  try {
    const client = new DynamoDBClient({ ...LOCAL_CLIENT_CONFIG, endpoint: stack.dynamoDbEndpoint });
    const documents = DynamoDBDocumentClient.from(client);
    const store = createEventStore(sdkTableDocuments(documents), stack.tableName);
    const counts = createHourlyCounts(sdkTableDocuments(documents), stack.tableName);
    const limited = limitConcurrency(16);
    const now = Date.now();
    const started = Date.now();
    // Received over the last 24 hours, oldest first: the feed's default range holds them all.
    for (let first = 0; first < events; first += 10) {
      const batch = Array.from(
        { length: Math.min(10, events - first) },
        (_, offset) => first + offset,
      );
      const tally: HourlyTally = new Map();
      await Promise.all(
        batch.map((index) =>
          limited(async () => {
            const receivedAt = new Date(
              now - HOUR_MS * 24 + Math.floor((index / events) * HOUR_MS * 24),
            ).toISOString();
            const { method, text } = body(index, receivedAt);
            tallyRecorded(tally, await store.record(webhookMessage(text, receivedAt, method)));
          }),
        ),
      );
      await counts.add(tally, shardOf(eventIdOf(Buffer.from(String(first)))));
      if (first % 10_000 === 0 && first > 0) console.log(`  ${first} events written`);
    }
    console.log(`${events} events written in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    client.destroy();

    const target = readLocalTarget({
      ...process.env,
      DYNAMODB_ENDPOINT: stack.dynamoDbEndpoint,
      SQS_ENDPOINT: stack.sqsEndpoint,
      S3_ENDPOINT: stack.s3Endpoint,
      DATA_DIR: stack.dataDir,
      TABLE_NAME: stack.tableName,
    });
    const source = localSource(target);
    let port = 0;
    const app = createConsoleApp({ source, port: () => port });
    const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 });
    await new Promise((resolve) => server.once('listening', resolve));
    port = (server.address() as AddressInfo).port;
    const base = `http://127.0.0.1:${port}`;

    const newest = await source.queries.feed(
      { from: new Date(now - HOUR_MS * 25).toISOString(), to: new Date(now + 1).toISOString() },
      { limit: 1 },
      { newestFirst: true },
    );
    const event = newest.items[0] ?? {};
    const eventId = String(event.eventId);
    const pages: [string, string][] = [
      ['overview', '/'],
      ['feed, newest 50', '/feed'],
      ['feed, one project (bounded read)', '/feed?project=P12'],
      ['feed, a team with no events (the whole bound read)', '/feed?team=nobody'],
      ['feed, rejected bodies', '/feed?type=REJECTED'],
      ['feed, older page', ''],
      ['project', '/projects/P12'],
      ['document', '/documents/D3'],
      [
        'event (from a feed link)',
        `/events/${eventId}?at=${encodeURIComponent(String(event.receivedAt))}`,
      ],
      ['event search by id alone', `/feed?id=${eventId}`],
    ];
    const firstFeed = await fetch(`${base}/feed`).then((response) => response.text());
    const older = /href="(\/feed\?[^"]*cursor=[^"]+)"/
      .exec(firstFeed)?.[1]
      ?.replaceAll('&amp;', '&');
    const rows: string[] = [];
    for (const [name, path] of pages) {
      const url = name === 'feed, older page' ? older : path;
      if (url === undefined) continue;
      const times: number[] = [];
      let status = 0;
      let rowsShown = 0;
      for (let attempt = 0; attempt < TIMES_EACH; attempt += 1) {
        const begun = performance.now();
        const response = await fetch(`${base}${url}`, { redirect: 'manual' });
        const markup = await response.text();
        status = response.status;
        rowsShown = markup.match(/<tr>/g)?.length ?? 0;
        times.push(performance.now() - begun);
      }
      times.sort((left, right) => left - right);
      rows.push(
        `| ${name} | ${status} | ${rowsShown} | ${(times[Math.floor(times.length / 2)] ?? 0).toFixed(0)} | ${(times.at(-1) ?? 0).toFixed(0)} |`,
      );
    }
    console.log(
      [
        `\nConsole pages with ${events} events in the table (${TIMES_EACH} loads each):`,
        '| page | status | table rows | median ms | slowest ms |',
        '| --- | --- | --- | --- | --- |',
        ...rows,
      ].join('\n'),
    );
    server.close();
    source.close();
  } finally {
    await stack.dispose();
  }
}

try {
  await main();
} catch (error) {
  if (error instanceof UsageError) {
    console.error(error.message);
    process.exit(2);
  }
  throw error;
}
