/**
 * Bytes the handlers log per event, measured: the ingest and worker handlers run with a real
 * Powertools Logger at the deployed level, and what it writes to stdout (which Lambda sends
 * to CloudWatch Logs) is counted.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2, Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { createIngestHandler } from '../../functions/ingest/handler.ts';
import { createWorkerHandler } from '../../functions/worker/handler.ts';
import { DEFAULT_CONFIG } from '../../infra/config.ts';
import { withLogContext } from '../../shared/runtime/lambda-logs.ts';
import { staticSecrets } from '../../shared/runtime/secrets.ts';
import { METRICS_NAMESPACE } from '../../shared/store/batch-figures.ts';
import { sdkTableDocuments } from '../../shared/store/sdk-table-documents.ts';
import { DEFAULT_MAX_BODY_BYTES } from '../../shared/webhook/ingest.ts';
import { webhookPath } from '../../shared/webhook/route.ts';
import { sdkQueueSender } from '../../shared/webhook/sdk-queue-sender.ts';
import { signBody } from '../../shared/webhook/signature.ts';
import { instantSqsClient } from '../bench/ingest-handler.ts';
import { toApiGatewayEvent } from '../local/api-gateway-event.ts';
import { LOCAL_WEBHOOK_PATH_TOKEN } from '../local/defaults.ts';
import { claimCheckedSqsRecord, sqsEvent } from '../local/sqs-records.ts';
import type { WorkloadEvent } from '../local/workload.ts';
import type { MeteredEventStore } from './footprints.ts';

/** Lambda sets this in every invocation; Powertools copies it into each line. */
const LAMBDA_TRACE_HEADER =
  'Root=1-6741b2c5-0f9e3c1a7b2d4e5f60718293;Parent=53995c3f42cd8ad8;Sampled=0';
const SECRET = 'log-bytes-secret';
/** What Lambda passes each invocation; the lines carry its request id (a UUID). */
const LAMBDA_CONTEXT = { awsRequestId: '9f1b6c3e-2d4a-4b7e-8c5f-0a1b2c3d4e5f' } as Context;

export interface LogBytes {
  readonly ingestBytesPerEvent: number;
  /** Log lines the worker writes per record at the deployed level. */
  readonly workerBytesPerEvent: number;
  /** The worker's metrics line, one per batch (embedded metric format). */
  readonly workerBytesPerBatch: number;
  /** Metrics that line defines: CloudWatch bills each one by the month. */
  readonly workerMetricsPerBatch: number;
  /** What the ingest logs refusing an unsigned request (401): a flood's line. */
  readonly ingestBytesPerRefusedRequest: number;
}

/**
 * Calls `run` and returns what it wrote to stdout and stderr meanwhile (and swallows it): the
 * Logger writes WARN and ERROR lines to stderr, and Lambda sends both streams to the log.
 */
async function stdoutText(run: () => Promise<unknown>): Promise<string> {
  const chunks: string[] = [];
  const streams = [process.stdout, process.stderr] as const;
  const writes = streams.map((stream) => stream.write);
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const callback = rest.find((argument) => typeof argument === 'function');
      if (typeof callback === 'function') callback();
      return true;
    }) as typeof stream.write;
  }
  try {
    await run();
  } finally {
    streams.forEach((stream, index) => {
      stream.write = writes[index] as typeof stream.write;
    });
  }
  return chunks.join('');
}

async function stdoutBytes(run: () => Promise<unknown>): Promise<number> {
  return Buffer.byteLength(await stdoutText(run));
}

interface MetricsLine {
  readonly _aws: {
    readonly CloudWatchMetrics: readonly { readonly Metrics: readonly unknown[] }[];
  };
}

/** Average bytes logged per event by each handler, over `events` (each sent once). */
export async function measureLogBytes(
  events: readonly WorkloadEvent[],
  store: MeteredEventStore,
): Promise<LogBytes> {
  const previousTrace = process.env._X_AMZN_TRACE_ID;
  process.env._X_AMZN_TRACE_ID = LAMBDA_TRACE_HEADER;
  try {
    const logger = (serviceName: string) =>
      new Logger({ serviceName, logLevel: DEFAULT_CONFIG.logLevel });
    // As deployed: each line carries its invocation's request id (functions/*/index.ts).
    const ingestLogger = logger('datasaur-webhooks-ingest');
    const handleIngest = withLogContext(
      ingestLogger,
      createIngestHandler({
        sqs: sdkQueueSender(instantSqsClient()),
        queueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/log-bytes',
        bodies: store.bodies,
        secrets: staticSecrets([SECRET]),
        maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
        logger: ingestLogger,
      }),
    );
    const ingest = (event: APIGatewayProxyEventV2) => handleIngest(event, LAMBDA_CONTEXT);
    const workerLogger = logger('datasaur-webhooks-worker');
    const handleWorker = withLogContext(
      workerLogger,
      createWorkerHandler({
        documents: sdkTableDocuments(store.documents),
        tableName: store.tableName,
        bodies: store.bodies,
        logger: workerLogger,
      }),
    );
    const worker = (event: SQSEvent) => handleWorker(event, LAMBDA_CONTEXT);
    const ingestBytes = await stdoutBytes(async () => {
      for (const event of events) {
        const body = Buffer.from(event.body);
        await ingest(
          toApiGatewayEvent({
            method: event.method,
            url: webhookPath(LOCAL_WEBHOOK_PATH_TOKEN),
            headers: {
              'content-type': 'application/json',
              'user-agent': 'Datasaur',
              'x-datasaur-signature': signBody(SECRET, body),
            },
            body,
          }),
        );
      }
    });
    const refusedBytes = await stdoutBytes(() =>
      ingest(
        toApiGatewayEvent({
          method: 'POST',
          url: webhookPath(LOCAL_WEBHOOK_PATH_TOKEN),
          headers: { 'content-type': 'application/json', 'user-agent': 'curl/8.5.0' },
          body: Buffer.from('{"flood":true}'),
        }),
      ),
    );
    // One record per invocation, without metrics: what the worker logs per event.
    const workerBytes = await stdoutBytes(async () => {
      for (const event of events) {
        const delivery = { body: event.body, method: event.method };
        await worker(sqsEvent([await claimCheckedSqsRecord(delivery, store.bodies)]));
      }
    });
    // The same events again as one batch, logging nothing: what its metrics line costs.
    const records: SQSRecord[] = [];
    for (const event of events) {
      const delivery = { body: event.body, method: event.method };
      records.push(await claimCheckedSqsRecord(delivery, store.bodies));
    }
    const metricsLine = await stdoutText(() =>
      createWorkerHandler({
        documents: sdkTableDocuments(store.documents),
        tableName: store.tableName,
        bodies: store.bodies,
        logger: new Logger({ logLevel: 'SILENT' }),
        metrics: new Metrics({
          namespace: METRICS_NAMESPACE,
          serviceName: 'datasaur-webhooks-worker',
        }),
      })(sqsEvent(records)),
    );
    const definitions = (JSON.parse(metricsLine) as MetricsLine)._aws.CloudWatchMetrics;
    return {
      ingestBytesPerEvent: ingestBytes / events.length,
      workerBytesPerEvent: workerBytes / events.length,
      workerBytesPerBatch: Buffer.byteLength(metricsLine),
      workerMetricsPerBatch: definitions.reduce((sum, set) => sum + set.Metrics.length, 0),
      ingestBytesPerRefusedRequest: refusedBytes,
    };
  } finally {
    if (previousTrace === undefined) delete process.env._X_AMZN_TRACE_ID;
    else process.env._X_AMZN_TRACE_ID = previousTrace;
  }
}
