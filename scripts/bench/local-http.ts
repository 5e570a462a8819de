/**
 * The ingest behind the local HTTP server (`npm start`'s stand-in for API Gateway) with the
 * real local queue, next to the floor: the same server whose handler answers at once, so what
 * HTTP on loopback costs by itself is known. Only local-aws-sqs is started: the worker and
 * dynalite are not what is measured here, and on a small machine they would take CPU from it.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@aws-lambda-powertools/logger';
import { createIngestHandler, type IngestHandler } from '../../functions/ingest/handler.ts';
import { limitConcurrency } from '../../shared/runtime/concurrency.ts';
import { staticSecrets } from '../../shared/runtime/secrets.ts';
import { DEFAULT_MAX_BODY_BYTES } from '../../shared/webhook/ingest.ts';
import { webhookUrl } from '../../shared/webhook/route.ts';
import {
  type DatasaurRequest,
  freshTimestamps,
  seedEventBody,
  sendDatasaurRequest,
  signDatasaurRequest,
} from '../local/datasaur-sender.ts';
import { LOCAL_WEBHOOK_PATH_TOKEN } from '../local/defaults.ts';
import { createLocalHttpServer } from '../local/http-server.ts';
import { NO_ARCHIVE } from '../local/no-archive.ts';
import { ensureQueues, localQueueSender, localSqs, startSqs } from '../local/servers.ts';
import { percentile } from './measure.ts';

const SECRET = 'bench-secret';
/** Rounds per side: the two servers take turns so both see the same machine noise. */
const ROUNDS = 4;

export interface HttpLatencyResult {
  readonly concurrency: number;
  /** Requests per side. */
  readonly requests: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requestsPerSecond: number;
  /** The same server answering 202 at once. */
  readonly floorP50Ms: number;
  readonly floorP99Ms: number;
}

async function listen(
  handler: IngestHandler,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createLocalHttpServer({
    handler,
    webhookPathTokens: [LOCAL_WEBHOOK_PATH_TOKEN],
    onError: (error) => {
      throw error;
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: webhookUrl(`http://127.0.0.1:${port}`, LOCAL_WEBHOOK_PATH_TOKEN),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Sends `requests` with `concurrency` in flight; returns each latency and the wall time. */
async function burst(
  url: string,
  requests: readonly DatasaurRequest[],
  concurrency: number,
): Promise<{ latencies: number[]; seconds: number }> {
  const limited = limitConcurrency(concurrency);
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(
    requests.map((request) =>
      limited(async () => {
        const sent = performance.now();
        const outcome = await sendDatasaurRequest(url, request);
        if (outcome.status !== 202) {
          throw new Error(`bench request got ${outcome.status ?? 'no answer'}: ${outcome.detail}`);
        }
        latencies.push(performance.now() - sent);
      }),
    ),
  );
  return { latencies, seconds: (performance.now() - started) / 1000 };
}

export async function benchLocalHttp(options: {
  requests: number;
  concurrencies: readonly number[];
}): Promise<HttpLatencyResult[]> {
  const sqsServer = await startSqs();
  const sqs = localSqs(sqsServer.endpoint);
  const ingestQueue = localQueueSender(sqsServer.endpoint);
  const closers: Array<() => Promise<void>> = [];
  try {
    const { queueUrl } = await ensureQueues(sqs, {
      queueName: 'bench',
      visibilityTimeoutSeconds: 30,
      maxReceiveCount: 5,
    });
    const ingest = await listen(
      createIngestHandler({
        sqs: ingestQueue,
        queueUrl,
        bodies: NO_ARCHIVE,
        secrets: staticSecrets([SECRET]),
        maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
        logger: new Logger({ logLevel: 'SILENT' }),
      }),
    );
    closers.push(ingest.close);
    const floor = await listen(async () => ({ statusCode: 202, body: '{"eventId":"floor"}' }));
    closers.push(floor.close);

    // Distinct label events, as Datasaur sends them: each one a new message on the queue.
    const timestamp = freshTimestamps();
    const signed = () =>
      signDatasaurRequest(
        seedEventBody('BEFORE_UPDATE_LABELS', { timestamp: timestamp() }),
        SECRET,
      );
    // A first exchange with each server opens connections and warms both code paths.
    await burst(ingest.url, [signed()], 1);
    await burst(floor.url, [signed()], 1);

    const results: HttpLatencyResult[] = [];
    for (const concurrency of options.concurrencies) {
      const perRound = Math.max(1, Math.ceil(options.requests / ROUNDS));
      const measured = { latencies: [] as number[], seconds: 0 };
      const floorLatencies: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const requests = Array.from({ length: perRound }, signed);
        const sides = [
          async () => {
            const real = await burst(ingest.url, requests, concurrency);
            measured.latencies.push(...real.latencies);
            measured.seconds += real.seconds;
          },
          async () => {
            floorLatencies.push(...(await burst(floor.url, requests, concurrency)).latencies);
          },
        ];
        // Turns alternate, so neither side always runs first.
        for (const side of round % 2 === 0 ? sides : sides.toReversed()) await side();
      }
      results.push({
        concurrency,
        requests: measured.latencies.length,
        p50Ms: percentile(measured.latencies, 0.5),
        p99Ms: percentile(measured.latencies, 0.99),
        requestsPerSecond: measured.latencies.length / measured.seconds,
        floorP50Ms: percentile(floorLatencies, 0.5),
        floorP99Ms: percentile(floorLatencies, 0.99),
      });
    }
    return results;
  } finally {
    for (const close of closers.toReversed()) await close();
    sqs.destroy();
    ingestQueue.destroy();
    await sqsServer.close();
  }
}
