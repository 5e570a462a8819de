/**
 * The AWS stand-ins of the bench's first calls, in a process of their own (first-call.ts
 * starts it): a minimal Secrets Manager endpoint, local-aws-sqs with the two queues, dynalite
 * with the table, and the local EventBridge endpoint. Apart from the bench's own process,
 * which starts every cold start's process, each call is answered as fast as the stand-in can
 * answer it, as AWS's services answer whatever the caller's machine is doing. Stops its servers on SIGTERM and when the bench goes away
 * (server-process.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startLocalEventBus } from '../local/eventbridge-server.ts';
import { serverProcess } from '../local/server-process.ts';
import {
  ensureQueues,
  ensureTable,
  LOCAL_CLIENT_CONFIG,
  localBus,
  localQueueSender,
  localSqs,
  localTable,
  type RunningServer,
  startDynalite,
  startSqs,
} from '../local/servers.ts';

/** What the bench asks for. */
export interface FirstCallServersRequest {
  /** The string `GetSecretValue` answers, for every secret id. */
  readonly secret: string;
  readonly tableName: string;
  /** The worker's queue, and the export queue (each with its dead-letter queue). */
  readonly queueName: string;
  readonly exportQueueName: string;
  /** Rounds of calls the stand-ins answer before the endpoints are reported (first-call.ts). */
  readonly warmUpRounds: number;
}

export interface FirstCallEndpoints {
  readonly secretsManager: string;
  readonly sqs: string;
  readonly dynamoDb: string;
  readonly eventBridge: string;
  readonly queueUrl: string;
  readonly exportQueueUrl: string;
}

/** Messages this process sends over its IPC channel. */
export type FirstCallServersMessage =
  | { readonly type: 'ready'; readonly endpoints: FirstCallEndpoints }
  | { readonly type: 'failed'; readonly message: string };

/** Answers `GetSecretValue` with `secret`, the one Secrets Manager call the ingest makes. */
async function startSecretsEndpoint(secret: string): Promise<RunningServer> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const known = request.headers['x-amz-target'] === 'secretsmanager.GetSecretValue';
      response.writeHead(known ? 200 : 400, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(
        JSON.stringify(
          known
            ? {
                ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:bench',
                SecretString: secret,
              }
            : { __type: 'UnknownOperationException' },
        ),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Warm-up rounds in flight at once (first-call.ts: WARM_UP_ROUNDS). */
const WARM_UP_LANES = 4;

/** One round: the calls the bench's first calls make, on their own partitions, queue and source. */
async function warmUpRound(
  clients: {
    readonly table: ReturnType<typeof localTable>;
    readonly queue: ReturnType<typeof localQueueSender>;
    readonly bus: ReturnType<typeof localBus>;
  },
  TableName: string,
  queueUrl: string,
  secretsEndpoint: string,
  round: number,
): Promise<void> {
  const { table, queue, bus } = clients;
  const pk = `WARM-UP#${round}`;
  await table.put({
    TableName,
    Item: { pk, sk: 'EVENT#0', itemType: 'warmUp', gsi2pk: `WARM-UP#${round % 8}`, gsi2sk: pk },
    ConditionExpression: 'attribute_not_exists(pk)',
  });
  await table.query({
    TableName,
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': pk },
    ConsistentRead: true,
  });
  await table.put({
    TableName,
    Item: { pk, sk: 'STATE', itemType: 'warmUp', count: 1 },
    ConditionExpression: 'attribute_not_exists(pk) OR #count <= :count',
    ExpressionAttributeNames: { '#count': 'count' },
    ExpressionAttributeValues: { ':count': 1 },
    ReturnValues: 'ALL_OLD',
  });
  await table.update({
    TableName,
    Key: { pk: 'WARM-UP#COUNTS', sk: `ROUND#${round % 8}` },
    UpdateExpression: 'SET #itemType = :itemType ADD #n :one',
    ExpressionAttributeNames: { '#itemType': 'itemType', '#n': 'rounds' },
    ExpressionAttributeValues: { ':itemType': 'warmUp', ':one': 1 },
    ReturnValues: 'ALL_NEW',
  });
  await table.get({ TableName, Key: { pk, sk: 'STATE' }, ConsistentRead: true });
  await queue.sendMessage({ QueueUrl: queueUrl, MessageBody: pk });
  await bus.putEvents({
    Entries: [{ Source: 'bench.warm-up', DetailType: 'Warm-up', Detail: '{}' }],
  });
  const secret = await fetch(secretsEndpoint, {
    method: 'POST',
    headers: { 'x-amz-target': 'secretsmanager.GetSecretValue' },
    body: '{"SecretId":"warm-up"}',
  });
  await secret.arrayBuffer();
}

/** Runs `rounds` rounds, on a queue of their own: the bench's queues stay as they were made. */
async function warmUp(
  endpoints: FirstCallEndpoints,
  request: FirstCallServersRequest,
  rounds: number,
): Promise<void> {
  const sqs = localSqs(endpoints.sqs);
  const warmUpQueue = await ensureQueues(sqs, {
    queueName: `${request.queueName}-warm-up`,
    visibilityTimeoutSeconds: 30,
    maxReceiveCount: 5,
  });
  sqs.destroy();
  const clients = {
    table: localTable(endpoints.dynamoDb),
    queue: localQueueSender(endpoints.sqs),
    bus: localBus(endpoints.eventBridge),
  };
  let next = 0;
  const lane = async () => {
    for (let round = next++; round < rounds; round = next++) {
      await warmUpRound(
        clients,
        request.tableName,
        warmUpQueue.queueUrl,
        endpoints.secretsManager,
        round,
      );
    }
  };
  try {
    await Promise.all(Array.from({ length: WARM_UP_LANES }, lane));
  } finally {
    clients.table.destroy();
    clients.queue.destroy();
    clients.bus.destroy();
  }
}

const lifecycle = serverProcess<FirstCallServersMessage>();

async function start(request: FirstCallServersRequest): Promise<FirstCallEndpoints> {
  const directory = mkdtempSync(join(tmpdir(), 'bench-first-call-'));
  lifecycle.onStop(async () => rmSync(directory, { recursive: true, force: true }));
  const secrets = await startSecretsEndpoint(request.secret);
  lifecycle.onStop(() => secrets.close());
  const sqsServer = await startSqs();
  lifecycle.onStop(() => sqsServer.close());
  const dynamoDbServer = await startDynalite();
  lifecycle.onStop(() => dynamoDbServer.close());
  const eventBus = await startLocalEventBus({ eventsFile: join(directory, 'events.jsonl') });
  lifecycle.onStop(() => eventBus.close());

  const sqs = localSqs(sqsServer.endpoint);
  const settings = { visibilityTimeoutSeconds: 30, maxReceiveCount: 5 };
  const queues = await ensureQueues(sqs, { ...settings, queueName: request.queueName });
  const exportQueues = await ensureQueues(sqs, { ...settings, queueName: request.exportQueueName });
  sqs.destroy();
  const dynamoDb = new DynamoDBClient({
    ...LOCAL_CLIENT_CONFIG,
    endpoint: dynamoDbServer.endpoint,
  });
  await ensureTable(dynamoDb, request.tableName);
  dynamoDb.destroy();
  const endpoints = {
    secretsManager: secrets.endpoint,
    sqs: sqsServer.endpoint,
    dynamoDb: dynamoDbServer.endpoint,
    eventBridge: eventBus.endpoint,
    queueUrl: queues.queueUrl,
    exportQueueUrl: exportQueues.queueUrl,
  };
  await warmUp(endpoints, request, request.warmUpRounds);
  return endpoints;
}

process.once('message', (request: FirstCallServersRequest) => {
  start(request).then(
    (endpoints) => lifecycle.send({ type: 'ready', endpoints }),
    async (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      await lifecycle.send({ type: 'failed', message });
      await lifecycle.stop(1);
    },
  );
});
