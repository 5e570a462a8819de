/**
 * The local stack behind `npm start`: dynalite (or DynamoDB Local) and s3rver on disk,
 * local-aws-sqs in memory, the ingest handler behind a local HTTP server and the worker as a
 * supervised child process, started in that order and stopped in the order that loses
 * nothing already acknowledged.
 */
import type { Server } from 'node:http';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { createIngestHandler } from '../../functions/ingest/handler.ts';
import { staticSecrets } from '../../shared/runtime/secrets.ts';
import { s3BodyWriter } from '../../shared/webhook/body-archive.ts';
import { type LocalStackConfig, webhookUrl } from './config.ts';
import { lockDataDir } from './data-dir.ts';
import { EVENTS_FILE_NAME, LOCAL_SERVERS_HOST } from './defaults.ts';
import { resolveWebhookSecrets, type WebhookSecrets } from './dev-secret.ts';
import { startDynamoDbLocal } from './dynamodb-local.ts';
import { startEnrichmentLoop } from './enrichment-loop.ts';
import type { DeliveredEvent } from './eventbridge-server.ts';
import { createLocalHttpServer } from './http-server.ts';
import {
  ensureBucket,
  ensureQueues,
  ensureTable,
  LOCAL_CLIENT_CONFIG,
  type LocalQueues,
  localQueueSender,
  localS3,
  localSqs,
  type RunningServer,
} from './servers.ts';
import { ServerListenError, startServersChild } from './servers-child.ts';
import { StartupError } from './startup-error.ts';
import { WORKER_STOP_GRACE_MS } from './worker-settings.ts';
import { superviseWorker } from './worker-supervisor.ts';

const WORKER_START_TIMEOUT_MS = 30_000;
/** Longer than one export attempt (a 60 s budget, then the download). */
const EXPORT_VISIBILITY_TIMEOUT_SECONDS = 120;
/**
 * The exporter gives up (FAILED) after its 6th attempt, counted on the item; local-aws-sqs
 * counts a receive twice after a retry delay, so the DLQ waits for twice as many and more.
 */
const EXPORT_MAX_RECEIVE_COUNT = 15;

/** The export queue of the local stack: `<QUEUE_NAME>-exports` (its DLQ `…-exports-dlq`). */
export function exportQueueName(queueName: string): string {
  return `${queueName}-exports`;
}

export interface LocalStack {
  readonly webhookUrl: string;
  readonly secrets: WebhookSecrets;
  readonly dynamoDbEndpoint: string;
  readonly tableDirectory: string;
  readonly sqsEndpoint: string;
  readonly queues: LocalQueues;
  readonly eventsEndpoint: string;
  /** Where the local bus appends every event put (`npm run tail` follows it). */
  readonly eventsFile: string;
  readonly s3Endpoint: string;
  /** Where s3rver keeps the archive bucket's objects. */
  readonly s3Directory: string;
  /** The export queue, when export archiving is on. */
  readonly exportQueues: LocalQueues | undefined;
  /** Stops taking requests, lets the worker finish its batch, then closes everything. */
  stop(): Promise<void>;
}

export interface LocalStackHooks {
  readonly log: (line: string) => void;
  /** Something the stack cannot run without has failed for good after start-up. */
  readonly onFatal: (reason: string) => void;
}

export async function startLocalStack(
  config: LocalStackConfig,
  hooks: LocalStackHooks,
): Promise<LocalStack> {
  const { log } = hooks;
  // Closed in reverse order on stop or on a failed start.
  const closers: Array<() => unknown> = [];
  const closeAll = async () => {
    for (const close of closers.toReversed()) await close();
  };
  try {
    closers.push(lockDataDir(config.dataDir));
    const secrets = resolveWebhookSecrets(config.webhookSecrets, config.dataDir);

    // Each backend keeps its own file format, so each has its own folder.
    const tableDirectory = join(
      config.dataDir,
      config.dynamoDbBackend === 'dynalite' ? 'dynamodb' : 'dynamodb-local',
    );
    const eventsFile = join(config.dataDir, EVENTS_FILE_NAME);
    const s3Directory = join(config.dataDir, 's3');
    // dynalite, SQS, EventBridge and S3 in a process of their own (see servers-child.ts).
    const servers = await startServersChild(
      {
        host: LOCAL_SERVERS_HOST,
        ...(config.dynamoDbBackend === 'dynalite'
          ? { dynalite: { port: config.dynamoDbPort, path: tableDirectory } }
          : {}),
        sqsPort: config.sqsPort,
        events: { port: config.eventsPort, eventsFile, log: config.eventsLog },
        s3: { port: config.s3Port, directory: s3Directory },
      },
      {
        pidFile: join(config.dataDir, 'servers.pid'),
        onEvent: (event) => log(describeEvent(event)),
        onExit: hooks.onFatal,
      },
    ).catch((error: unknown) => {
      throw error instanceof ServerListenError
        ? listenError(
            error,
            `${error.variable} ${error.port} on ${LOCAL_SERVERS_HOST}`,
            error.variable,
          )
        : error;
    });
    closers.push(servers.stop);
    const dynamoDbEndpoint =
      servers.endpoints.dynamoDb ??
      (
        await listenOrExplain('DYNAMODB_PORT', config.dynamoDbPort, async () => {
          const server = await startDynamoDbLocal({
            port: config.dynamoDbPort,
            dbPath: tableDirectory,
          });
          closers.push(server.close);
          return server;
        })
      ).endpoint;
    const dynamoDb = new DynamoDBClient({ ...LOCAL_CLIENT_CONFIG, endpoint: dynamoDbEndpoint });
    await ensureTable(dynamoDb, config.tableName);
    dynamoDb.destroy();

    const sqs = localSqs(servers.endpoints.sqs);
    closers.push(() => sqs.destroy());
    const ingestQueue = localQueueSender(servers.endpoints.sqs);
    closers.push(() => ingestQueue.destroy());
    const queues = await ensureQueues(sqs, {
      queueName: config.queueName,
      visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
      maxReceiveCount: config.maxReceiveCount,
    });

    const s3 = localS3(servers.endpoints.s3);
    closers.push(() => s3.destroy());
    await ensureBucket(s3, config.archiveBucket);

    const exportQueues =
      config.exporter &&
      (await ensureQueues(sqs, {
        queueName: exportQueueName(config.queueName),
        visibilityTimeoutSeconds: EXPORT_VISIBILITY_TIMEOUT_SECONDS,
        maxReceiveCount: EXPORT_MAX_RECEIVE_COUNT,
      }));

    const httpServer = createLocalHttpServer({
      handler: createIngestHandler({
        // SendMessage through the light client, as the ingest Lambda sends it.
        sqs: ingestQueue,
        queueUrl: queues.queueUrl,
        bodies: s3BodyWriter(s3, config.archiveBucket),
        secrets: staticSecrets(secrets.secrets),
        maxBodyBytes: config.maxBodyBytes,
        logger: new Logger({ serviceName: 'ingest', logLevel: config.logLevel }),
      }),
      webhookPathTokens: [config.webhookPathToken],
      onError: (error) => log(`the ingest handler threw: ${String(error)}`),
    });
    const port = await listenHttp(httpServer, config);
    closers.push(() => closeHttp(httpServer));

    // Each worker requests exports; the first also runs the exporter, one export at a time.
    const workers = Array.from({ length: config.workerProcesses }, (_, index) =>
      superviseWorker({
        settings: {
          dynamoDbEndpoint,
          sqsEndpoint: servers.endpoints.sqs,
          s3Endpoint: servers.endpoints.s3,
          queueUrl: queues.queueUrl,
          queueArn: queues.queueArn,
          region: LOCAL_CLIENT_CONFIG.region,
          tableName: config.tableName,
          batchSize: config.workerBatchSize,
          concurrency: config.workerConcurrency,
          batches: config.workerBatches,
          waitTimeSeconds: config.workerBatchWindowSeconds,
          logLevel: config.logLevel,
          eventsEndpoint: servers.endpoints.events,
          eventSource: config.eventSource,
          publishLabelEvents: config.publishLabelEvents,
          ...(config.exporter &&
            exportQueues && {
              exporter: {
                ...config.exporter,
                runsExporter: index === 0,
                queueUrl: exportQueues.queueUrl,
                queueArn: exportQueues.queueArn,
                s3Endpoint: servers.endpoints.s3,
                bucket: config.archiveBucket,
              },
            }),
        },
        pidFile: join(config.dataDir, workerPidFile(index)),
        // Within npm start's 8 s: a batch cut short goes with the in-memory queue, as every
        // message still queued does.
        stopGraceMs: WORKER_STOP_GRACE_MS,
        log,
        onGiveUp: hooks.onFatal,
      }),
    );
    const stopWorkers = () => Promise.all(workers.map((worker) => worker.stop()));
    closers.push(stopWorkers);
    if (config.enrichment !== undefined) {
      const enrichment = startEnrichmentLoop({
        config: config.enrichment,
        dynamoDbEndpoint,
        tableName: config.tableName,
        log,
      });
      closers.push(() => enrichment.stop());
    }
    await withTimeout(
      Promise.all(workers.map((worker) => worker.polling)),
      WORKER_START_TIMEOUT_MS,
      'the worker did not start',
    );

    return {
      webhookUrl: webhookUrl(config.host, port, config.webhookPathToken),
      secrets,
      dynamoDbEndpoint,
      tableDirectory,
      sqsEndpoint: servers.endpoints.sqs,
      queues,
      eventsEndpoint: servers.endpoints.events,
      eventsFile,
      s3Endpoint: servers.endpoints.s3,
      s3Directory,
      exportQueues,
      stop: async () => {
        log('stopping: no new requests; the worker finishes its batch');
        await closeHttp(httpServer);
        await stopWorkers();
        await reportDroppedMessages(sqs, queues, log);
        await closeAll();
      },
    };
  } catch (error) {
    await closeAll();
    if (error instanceof Error && !(error instanceof StartupError)) {
      throw new StartupError(`could not start the local stack: ${error.message}`);
    }
    throw error;
  }
}

/** `DATA_DIR/worker.pid` for the first worker, `worker-2.pid` and on for the others. */
export function workerPidFile(index: number): string {
  return index === 0 ? 'worker.pid' : `worker-${index + 1}.pid`;
}

/** One line per event put on the local bus (`EVENTS_LOG=1`). */
function describeEvent(event: DeliveredEvent): string {
  return `event ${event['detail-type']} ${JSON.stringify(event.detail)}`;
}

async function listenOrExplain<Running extends RunningServer>(
  variable: string,
  port: number,
  start: () => Promise<Running>,
): Promise<Running> {
  try {
    return await start();
  } catch (error) {
    throw listenError(error, `${variable} ${port} on ${LOCAL_SERVERS_HOST}`, variable);
  }
}

function listenHttp(server: Server, config: LocalStackConfig): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (error) =>
      reject(listenError(error, `PORT ${config.port} on HOST ${config.host}`, 'PORT')),
    );
    server.listen(config.port, config.host, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : config.port);
    });
  });
}

function listenError(error: unknown, where: string, variable: string): Error {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'EADDRINUSE':
      return new StartupError(
        `${where} is already in use: stop what uses it or set ${variable} to a free port`,
      );
    case 'EACCES':
      return new StartupError(`not allowed to listen on ${where}: set ${variable} above 1023`);
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return new StartupError(`cannot listen on ${where}: HOST is not an address of this machine`);
    default:
      return error instanceof Error ? error : new Error(String(error));
  }
}

function closeHttp(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  // Requests in flight get their answer; idle keep-alive connections are closed at once.
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}

/** The queue lives in memory: say so when stopping drops messages that were still in it. */
async function reportDroppedMessages(
  sqs: SQSClient,
  queues: LocalQueues,
  log: (line: string) => void,
): Promise<void> {
  const count = async (queueUrl: string) => {
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages'],
      }),
    );
    // local-aws-sqs counts in-flight messages in this figure too (SQS would not).
    return Number(Attributes.ApproximateNumberOfMessages ?? 0);
  };
  let queued: number;
  let deadLetters: number;
  try {
    queued = await count(queues.queueUrl);
    deadLetters = await count(queues.deadLetterQueueUrl);
  } catch {
    // The servers' process has died: whatever the queue held is gone already.
    log('warning: the local queue is gone; messages still in it were dropped');
    return;
  }
  if (queued + deadLetters > 0) {
    log(
      `warning: ${queued} message(s) still in the queue and ${deadLetters} in the DLQ are dropped (the local queue lives in memory)`,
    );
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StartupError(`${what} within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
