/**
 * The local AWS stand-ins: dynalite (DynamoDB API), local-aws-sqs (SQS API) and s3rver (S3
 * API), real servers on loopback that the real AWS SDK clients talk to. Used by `npm start`,
 * the CLIs and tests. The EventBridge endpoint is our own: eventbridge-server.ts.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  DynamoDBClient,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import {
  BucketAlreadyExists,
  BucketAlreadyOwnedByYou,
  CreateBucketCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { createRequestHandler } from 'local-aws-sqs';
import S3rver from 's3rver';
import type { BusClient } from '../../shared/bus/bus-publisher.ts';
import { lightBusClient } from '../../shared/bus/light-bus-client.ts';
import {
  type ArchiveUploader,
  lightArchiveUploader,
} from '../../shared/export/light-archive-uploader.ts';
import type { Destroyable } from '../../shared/runtime/aws-json-client.ts';
import { lightTableDocuments } from '../../shared/store/light-table-documents.ts';
import { createTableInput } from '../../shared/store/table.ts';
import type { TableDocuments } from '../../shared/store/table-documents.ts';
import { lightQueueSender } from '../../shared/webhook/light-queue-sender.ts';
import type { QueueSender, QueueVisibility } from '../../shared/webhook/queue-sender.ts';
import { deadLetterQueueName } from './defaults.ts';

/** Credentials and region the local servers accept; nothing here reaches AWS. */
export const LOCAL_CLIENT_CONFIG = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
} as const;

export interface RunningServer {
  readonly endpoint: string;
  readonly close: () => Promise<void>;
}

export interface QueueSettings {
  readonly queueName: string;
  /** Seconds a received message stays invisible before it is delivered again. */
  readonly visibilityTimeoutSeconds: number;
  /** Receives after which a message moves to the DLQ. */
  readonly maxReceiveCount: number;
}

export interface LocalQueues {
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly deadLetterQueueArn: string;
  readonly queueArn: string;
}

/** Starts dynalite on `port` (0 for any free port), on disk under `path` or in memory. */
export async function startDynalite(
  options: { port?: number; host?: string; path?: string } = {},
): Promise<RunningServer> {
  const server = dynalite({
    ...(options.path === undefined ? {} : { path: options.path }),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  return listen(server, options.port ?? 0, options.host ?? '127.0.0.1');
}

/** Starts local-aws-sqs on `port` (0 for any free port). Its queues live in memory. */
export async function startSqs(
  options: { port?: number; host?: string } = {},
): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const { service, requestHandler } = createRequestHandler({
    port: options.port ?? 0,
    hostname: host,
    emulateQueueCreationLifecycle: false,
  });
  // Our own server rather than `createSqsServer`, which never settles when the port is taken.
  const running = await listen(createServer(requestHandler), options.port ?? 0, host);
  // Queue URLs carry the port, which is only known once listening when `port` is 0.
  service.PORT = Number(new URL(running.endpoint).port);
  return running;
}

/**
 * s3rver whose `run()` rejects when it cannot listen: its own `listen` hands `server.listen` a
 * callback that never receives the error, so a port in use was an unhandled 'error' event
 * (a stack trace) instead of the one line every other server gives.
 */
class ListeningS3rver extends S3rver {
  override listen(port: number, address: string, options: object): Promise<Server> {
    return new Promise((resolve, reject) => {
      const server = super.listen(port, address, options, () => {
        server.off('error', reject);
        resolve(server);
      }) as Server;
      server.once('error', reject);
    });
  }
}

/**
 * Starts s3rver on `port` (0 for any free port), keeping buckets and objects under
 * `directory` (a real folder: s3rver has no in-memory store).
 */
export async function startS3(options: {
  directory: string;
  port?: number;
  host?: string;
}): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const server = new ListeningS3rver({
    directory: options.directory,
    port: options.port ?? 0,
    address: host,
    silent: true,
    // Path-style only, as every client here uses it: no wildcard DNS needed.
    vhostBuckets: false,
  });
  const { port } = await server.run();
  return {
    endpoint: `http://${host}:${port}`,
    close: async () => {
      server.httpServer?.closeAllConnections();
      await server.close();
    },
  };
}

/** The one key pair s3rver knows: it refuses any other access key id (InvalidAccessKeyId). */
export const LOCAL_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/**
 * An S3 client for a local S3 API server: path-style addressing (`http://host:port/bucket/key`,
 * as s3rver serves it) and s3rver's credentials. `config` adds client settings (timeouts,
 * attempts) for tests and the local handlers.
 */
export function localS3(endpoint: string, config: S3ClientConfig = {}): S3Client {
  return new S3Client({
    ...LOCAL_CLIENT_CONFIG,
    credentials: LOCAL_S3_CREDENTIALS,
    endpoint,
    forcePathStyle: true,
    ...config,
  });
}

/** Creates the bucket unless it exists already (s3rver answers BucketAlreadyExists to its owner). */
export async function ensureBucket(s3: S3Client, bucketName: string): Promise<void> {
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucketName }));
  } catch (error) {
    if (!(error instanceof BucketAlreadyOwnedByYou || error instanceof BucketAlreadyExists)) {
      throw error;
    }
  }
}

export function localDynamoDb(endpoint: string): DynamoDBDocumentClient {
  const client = new DynamoDBClient({ ...LOCAL_CLIENT_CONFIG, endpoint });
  const documents = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  // The document client's own destroy() does nothing: its keep-alive sockets would hold the
  // process open. Destroying the client underneath closes them.
  documents.destroy = () => client.destroy();
  return documents;
}

export function localSqs(endpoint: string): SQSClient {
  return new SQSClient({ ...LOCAL_CLIENT_CONFIG, endpoint });
}

/** A client for the local EventBridge endpoint; one attempt, so a fault shows at once. */
export function localEventBridge(endpoint: string): EventBridgeClient {
  return new EventBridgeClient({ ...LOCAL_CLIENT_CONFIG, endpoint, maxAttempts: 1 });
}

/** The table through the light client the worker Lambda uses (`shared/runtime/aws-json-client.ts`). */
export function localTable(endpoint: string): TableDocuments & Destroyable {
  return lightTableDocuments({ ...LOCAL_CLIENT_CONFIG, endpoint });
}

/** SQS's SendMessage and ChangeMessageVisibility through the light client the Lambdas use. */
export function localQueueSender(endpoint: string): QueueSender & QueueVisibility & Destroyable {
  return lightQueueSender({ ...LOCAL_CLIENT_CONFIG, endpoint });
}

/** The exporter's uploads through the light client it runs in Lambda, path-style with s3rver's keys. */
export function localArchiveUploader(endpoint: string): ArchiveUploader & Destroyable {
  return lightArchiveUploader({
    ...LOCAL_CLIENT_CONFIG,
    credentials: LOCAL_S3_CREDENTIALS,
    endpoint,
    forcePathStyle: true,
  });
}

/** The bus through the light client the worker Lambda uses, one attempt as `localEventBridge`. */
export function localBus(endpoint: string): BusClient & Destroyable {
  return lightBusClient({ ...LOCAL_CLIENT_CONFIG, endpoint, maxAttempts: 1 });
}

/** Creates the table from the shared definition unless it exists already. */
export async function ensureTable(dynamoDb: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await dynamoDb.send(new CreateTableCommand(createTableInput(tableName)));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
}

/** Creates the queue and its DLQ with the redrive policy the CDK stack gives them. */
export async function ensureQueues(sqs: SQSClient, settings: QueueSettings): Promise<LocalQueues> {
  const deadLetter = await sqs.send(
    new CreateQueueCommand({
      QueueName: deadLetterQueueName(settings.queueName),
      Attributes: { MessageRetentionPeriod: String(14 * 24 * 3600), MaximumMessageSize: '1048576' },
    }),
  );
  const deadLetterQueueUrl = required(deadLetter.QueueUrl, 'DLQ URL');
  const deadLetterQueueArn = await queueArn(sqs, deadLetterQueueUrl);
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: settings.queueName,
      Attributes: {
        VisibilityTimeout: String(settings.visibilityTimeoutSeconds),
        MaximumMessageSize: '1048576',
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: deadLetterQueueArn,
          maxReceiveCount: settings.maxReceiveCount,
        }),
      },
    }),
  );
  const queueUrl = required(queue.QueueUrl, 'queue URL');
  return {
    queueUrl,
    queueArn: await queueArn(sqs, queueUrl),
    deadLetterQueueUrl,
    deadLetterQueueArn,
  };
}

/** A local queue's ARN (SQS wants ARNs for a redrive). */
export async function queueArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  const attributes = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  return required(attributes.Attributes?.QueueArn, 'queue ARN');
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`the local SQS server returned no ${what}`);
  return value;
}

function listen(server: Server, port: number, host: string): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(describeServer(server, host));
    });
  });
}

function describeServer(server: Server, host: string): RunningServer {
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${host}:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/**
 * True when SQS answered that the queue does not exist (its JSON protocol's name, or the
 * query protocol's code some servers still give): how a CLI tells "no exporter here".
 */
export function isMissingQueue(error: unknown): boolean {
  const name = error instanceof Error ? error.name : undefined;
  return name === 'QueueDoesNotExist' || name === 'AWS.SimpleQueueService.NonExistentQueue';
}
