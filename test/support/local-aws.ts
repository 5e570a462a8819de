/** Starts the real local servers for one test file and hands out fresh queues, tables and buckets. */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import {
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocument } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, inject } from 'vitest';
import { type DynamoDbBackend, dynamoDbBackend } from '../../scripts/local/config.ts';
import {
  ensureBucket,
  ensureQueues,
  ensureTable,
  LOCAL_CLIENT_CONFIG,
  type LocalQueues,
  localS3,
  localSqs,
  type RunningServer,
  startDynalite,
  startS3,
  startSqs,
} from '../../scripts/local/servers.ts';

export interface LocalSqs {
  readonly server: RunningServer;
  readonly sqs: SQSClient;
  /** A new queue and DLQ with a unique name, so tests never see each other's messages. */
  createQueues(options?: {
    visibilityTimeoutSeconds?: number;
    maxReceiveCount?: number;
  }): Promise<LocalQueues>;
  close(): Promise<void>;
}

export async function startLocalSqs(): Promise<LocalSqs> {
  const server = await startSqs();
  const sqs = localSqs(server.endpoint);
  return {
    server,
    sqs,
    createQueues: (options = {}) =>
      ensureQueues(sqs, {
        queueName: `test-${randomUUID()}`,
        visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 30,
        maxReceiveCount: options.maxReceiveCount ?? 5,
      }),
    close: async () => {
      sqs.destroy();
      await server.close();
    },
  };
}

export interface LocalS3 {
  readonly server: RunningServer;
  readonly s3: S3Client;
  /** A new, empty bucket with a unique name. */
  createBucket(): Promise<string>;
  /** Another client for this server, e.g. with `maxAttempts: 1` for fault tests. */
  client(config?: S3ClientConfig): S3Client;
  close(): Promise<void>;
}

/** s3rver on a free port, its objects in a temporary folder removed on close. */
export async function startLocalS3(): Promise<LocalS3> {
  const directory = mkdtempSync(join(tmpdir(), 'datasaur-webhooks-s3-'));
  const server = await startS3({ directory });
  const s3 = localS3(server.endpoint);
  const clients: S3Client[] = [s3];
  return {
    server,
    s3,
    createBucket: async () => {
      const bucketName = `archive-${randomUUID()}`;
      await ensureBucket(s3, bucketName);
      return bucketName;
    },
    client: (config = {}) => {
      const client = localS3(server.endpoint, config);
      clients.push(client);
      return client;
    },
    close: async () => {
      for (const client of clients) client.destroy();
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

export interface LocalDynamoDb {
  readonly server: RunningServer;
  readonly client: DynamoDBClient;
  readonly documents: DynamoDBDocument;
  /** A new, empty table built from the shared definition. */
  createTable(): Promise<string>;
  close(): Promise<void>;
}

/**
 * The test DynamoDB that DYNAMODB_BACKEND names: dynalite in memory (no `path`), one per test
 * file, or the run's one DynamoDB Local that `dynamodb-backend.ts` started (shared; each test
 * creates its own tables, and closing here leaves the server to the global teardown).
 */
export async function startLocalDynamoDb(
  backend: DynamoDbBackend = dynamoDbBackend(),
): Promise<LocalDynamoDb> {
  const server = await startTestDynamoDb(backend);
  const client = new DynamoDBClient({ ...LOCAL_CLIENT_CONFIG, endpoint: server.endpoint });
  const documents = DynamoDBDocument.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  return {
    server,
    client,
    documents,
    createTable: async () => {
      const tableName = `events-${randomUUID()}`;
      await ensureTable(client, tableName);
      return tableName;
    },
    close: async () => {
      client.destroy();
      await server.close();
    },
  };
}

/**
 * A local server started for the calling test file (or describe block): `start` runs in its
 * beforeAll and the server closes in its afterAll. What this returns stands for the server
 * once started, so use it inside tests and hooks: `const s3 = startedForTests(startLocalS3);`.
 */
export function startedForTests<Server extends { close(): Promise<void> }>(
  start: () => Promise<Server>,
): Server {
  let running: Server | undefined;
  beforeAll(async () => {
    running = await start();
  });
  afterAll(async () => {
    await running?.close();
  });
  return new Proxy({} as Server, {
    get(_target, name) {
      if (running === undefined) throw new Error('the local server starts in beforeAll');
      const value = Reflect.get(running, name);
      return typeof value === 'function' ? value.bind(running) : value;
    },
  });
}

async function startTestDynamoDb(backend: DynamoDbBackend): Promise<RunningServer> {
  if (backend === 'dynalite') return startDynalite();
  const endpoint = inject('dynamoDbLocalEndpoint');
  if (endpoint === undefined) {
    throw new Error(
      'DYNAMODB_BACKEND=dynamodb-local, but no DynamoDB Local was started: run the tests through vitest, whose globalSetup starts it',
    );
  }
  return { endpoint, close: async () => undefined };
}

/**
 * Receives every message now visible on the queue. local-aws-sqs answers a receive empty
 * when its 40 ms short-poll window passes on a busy machine, so it counts first and
 * receives until it has them all. (It counts in-flight messages in
 * ApproximateNumberOfMessages, hence the subtraction; and a message sent a moment ago counts
 * as delayed until its zero-second delay timer fires, hence the addition.) Likewise a
 * message whose visibility was just set to 0 stays in flight until that timer fires: a
 * caller that knows how many such messages must come back passes `atLeast`.
 */
export async function drainQueue(
  sqs: SQSClient,
  queueUrl: string,
  { atLeast = 0 }: { readonly atLeast?: number } = {},
): Promise<Message[]> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesDelayed',
        'ApproximateNumberOfMessagesNotVisible',
      ],
    }),
  );
  const expected = Math.max(
    atLeast,
    Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
      Number(Attributes?.ApproximateNumberOfMessagesDelayed ?? 0) -
      Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
  );
  const messages: Message[] = [];
  const deadline = Date.now() + 30_000;
  while (messages.length < expected) {
    if (Date.now() > deadline) {
      throw new Error(`drained ${messages.length} of ${expected} messages before the deadline`);
    }
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 300,
        MessageSystemAttributeNames: ['All'],
        // local-aws-sqs reads only the older spelling of the same request.
        AttributeNames: ['All'],
      }),
    );
    messages.push(...(received.Messages ?? []));
  }
  return messages;
}

/**
 * A real document client for `dynamoDb` whose calls throw what `faultFor` returns for their
 * serialized input (nothing: the call goes through). For faults dynalite cannot produce:
 * throttling, timeouts. The SDK does not retry them (one attempt), so the worker sees each.
 */
export function documentsWithFaults(
  dynamoDb: LocalDynamoDb,
  faultFor: (serializedInput: string) => Error | undefined,
): DynamoDBDocument {
  const client = new DynamoDBClient({
    ...LOCAL_CLIENT_CONFIG,
    endpoint: dynamoDb.server.endpoint,
    maxAttempts: 1,
  });
  client.middlewareStack.add(
    (next) => async (args) => {
      const fault = faultFor(JSON.stringify(args.input));
      if (fault !== undefined) throw fault;
      return next(args);
    },
    { step: 'initialize', name: 'injectFaults' },
  );
  return DynamoDBDocument.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

export function throttlingError(): Error {
  return new ProvisionedThroughputExceededException({ message: 'Rate exceeded', $metadata: {} });
}
