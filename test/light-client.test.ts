/**
 * The light AWS client the ingest and the worker make their hot-path calls with
 * (`shared/runtime/aws-json-client.ts`): the same answers as the SDK's clients from the same local servers, the
 * SDK's retries, errors and endpoints, and requests whose signatures hold. The faults come
 * from real HTTP servers answering what AWS answers (throttling, 500, a skewed clock).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CLIENT_CONFIG, localQueueSender, localTable } from '../scripts/local/servers.ts';
import { lightBusClient } from '../shared/bus/light-bus-client.ts';
import { credentialsFromSecret } from '../shared/datasaur/credentials-from-secret.ts';
import {
  createJsonClient,
  DYNAMODB,
  EVENTBRIDGE,
  endpointFor,
  Sha256,
  SQS,
} from '../shared/runtime/aws-json-client.ts';
import { cachedSecretSource } from '../shared/runtime/secrets.ts';
import { isConditionalCheckFailed } from '../shared/store/table-documents.ts';
import { eventually } from './support/eventually.ts';
import {
  drainQueue,
  startedForTests,
  startLocalDynamoDb,
  startLocalSqs,
} from './support/local-aws.ts';
import { startTestEventBus } from './support/local-events.ts';

const dynamoDb = startedForTests(startLocalDynamoDb);
const sqs = startedForTests(startLocalSqs);
const eventBus = startedForTests(startTestEventBus);

describe('the light client against the local servers, beside the SDK', () => {
  it('puts, gets, queries page by page and updates as lib-dynamodb does', async () => {
    const tableName = await dynamoDb.createTable();
    const light = localTable(dynamoDb.server.endpoint);
    const sdk = dynamoDb.documents;
    try {
      const items = [1, 2, 3].map((n) => ({
        pk: 'P#light',
        sk: `E#${n}`,
        text: `é ${n}`,
        count: n,
        nested: { list: [n, 'x', null], flag: true },
        absent: undefined,
      }));
      for (const item of items) {
        await light.put({
          TableName: tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk)',
        });
      }
      const key = { pk: 'P#light', sk: 'E#2' };
      expect((await light.get({ TableName: tableName, Key: key })).Item).toEqual(
        (await sdk.get({ TableName: tableName, Key: key })).Item,
      );
      expect(
        (await light.get({ TableName: tableName, Key: { pk: 'P#none', sk: 'x' } })).Item,
      ).toBeUndefined();

      const pages: unknown[][] = [];
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await light.query({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': 'P#light' },
          Limit: 2,
          ExclusiveStartKey: startKey,
        });
        pages.push(page.Items ?? []);
        startKey = page.LastEvaluatedKey;
      } while (startKey !== undefined);
      expect(pages.map((page) => page.length)).toEqual([2, 1]);
      const { Items: sdkItems } = await sdk.query({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': 'P#light' },
      });
      expect(pages.flat()).toEqual(sdkItems);

      const updated = await light.update({
        TableName: tableName,
        Key: key,
        UpdateExpression: 'ADD #count :one',
        ExpressionAttributeNames: { '#count': 'count' },
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'ALL_NEW',
      });
      expect(updated.Attributes).toMatchObject({ count: 3, text: 'é 2' });
    } finally {
      light.destroy();
    }
  });

  it('writes and reads binary, sets, null and empty values as lib-dynamodb does', async () => {
    const tableName = await dynamoDb.createTable();
    const light = localTable(dynamoDb.server.endpoint);
    try {
      const item = {
        pk: 'P#binary',
        sk: 'x',
        body: new Uint8Array([0x7b, 0xff, 0xfe, 0x00, 0x7d]),
        blobs: new Set([new Uint8Array([1, 2]), new Uint8Array([3])]),
        names: new Set(['a', 'b']),
        numbers: new Set([1, 2.5]),
        nested: {
          list: [new Uint8Array([9]), { deep: new Uint8Array([8, 7]) }],
          none: null,
          empty: '',
        },
      };
      await light.put({ TableName: tableName, Item: item });
      const key = { pk: 'P#binary', sk: 'x' };
      const viaSdk = (await dynamoDb.documents.get({ TableName: tableName, Key: key })).Item;
      const viaLight = (await light.get({ TableName: tableName, Key: key })).Item;
      expect(viaLight).toEqual(viaSdk);
      expect(Buffer.from(viaLight?.body as Uint8Array)).toEqual(Buffer.from(item.body));
      expect(viaLight?.nested).toEqual(viaSdk?.nested);
    } finally {
      light.destroy();
    }
  });

  it('throws a failed condition as the SDK names it, with its metadata', async () => {
    const tableName = await dynamoDb.createTable();
    const light = localTable(dynamoDb.server.endpoint);
    try {
      const put = () =>
        light.put({
          TableName: tableName,
          Item: { pk: 'a', sk: 'b' },
          ConditionExpression: 'attribute_not_exists(pk)',
        });
      await put();
      const error = await put().then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(isConditionalCheckFailed(error)).toBe(true);
      expect(error).toMatchObject({ $metadata: { httpStatusCode: 400, attempts: 1 } });
    } finally {
      light.destroy();
    }
  });

  it('sends to SQS and puts on the bus what the SDK receives', async () => {
    const { queueUrl } = await sqs.createQueues();
    const sender = localQueueSender(sqs.server.endpoint);
    const bus = lightBusClient({ ...LOCAL_CLIENT_CONFIG, endpoint: eventBus.bus.endpoint });
    try {
      const sent = await sender.sendMessage({ QueueUrl: queueUrl, MessageBody: '{"é":"ü"}' });
      expect(sent.MessageId).toEqual(expect.any(String));
      const messages = await drainQueue(sqs.sqs, queueUrl);
      expect(messages.map((message) => message.Body)).toEqual(['{"é":"ü"}']);

      eventBus.clear();
      const output = await bus.putEvents({
        Entries: [
          { EventBusName: 'default', Source: 'light.test', DetailType: 'Test', Detail: '{"n":1}' },
        ],
      });
      expect(output.FailedEntryCount ?? 0).toBe(0);
      expect(output.Entries?.[0]?.EventId).toEqual(expect.any(String));
      expect(eventBus.events()).toMatchObject([
        { source: 'light.test', 'detail-type': 'Test', detail: { n: 1 } },
      ]);
    } finally {
      sender.destroy();
      bus.destroy();
    }
  });

  it('changes a received message’s visibility, as the exporter delays a retry', async () => {
    const { queueUrl } = await sqs.createQueues({ visibilityTimeoutSeconds: 30 });
    const sender = localQueueSender(sqs.server.endpoint);
    const receive = async () =>
      (await sqs.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 0 })))
        .Messages ?? [];
    try {
      await sender.sendMessage({ QueueUrl: queueUrl, MessageBody: 'retry me' });
      const [first] = await receive();
      expect(first?.Body).toBe('retry me');
      // In flight for 30 s: not received again until its visibility is changed.
      expect(await receive()).toEqual([]);
      await sender.changeMessageVisibility({
        QueueUrl: queueUrl,
        ReceiptHandle: first?.ReceiptHandle ?? '',
        VisibilityTimeout: 0,
      });
      const again = await eventually(receive, (messages) => messages.length > 0, 10_000, 50);
      expect(again.map((message) => message.Body)).toEqual(['retry me']);
      await expect(
        sender.changeMessageVisibility({
          QueueUrl: queueUrl,
          ReceiptHandle: 'not-a-receipt-handle',
          VisibilityTimeout: 10,
        }),
      ).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
    } finally {
      sender.destroy();
    }
  });
});

interface Received {
  readonly request: IncomingMessage;
  readonly body: string;
}

/** A server answering each request with the next of `answers` (the last one repeats). */
async function scriptedServer(
  answers: ReadonlyArray<
    (received: Received) => { status: number; headers?: Record<string, string>; body: string }
  >,
): Promise<{ endpoint: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const entry = { request, body: Buffer.concat(chunks).toString('utf8') };
      received.push(entry);
      const answer = answers[Math.min(received.length, answers.length) - 1];
      const { status, headers = {}, body } = answer?.(entry) ?? { status: 500, body: '' };
      response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', ...headers });
      response.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const ok = () => ({ status: 200, body: '{"Item":{"pk":{"S":"a"}}}' });
const awsError = (status: number, type: string) => () => ({
  status,
  body: JSON.stringify({
    __type: `com.amazonaws.dynamodb.v20120810#${type}`,
    message: `${type} here`,
  }),
});

describe('the light client: retries, errors, signatures', () => {
  let servers: Array<{ close(): Promise<void> }> = [];
  beforeAll(() => {
    servers = [];
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });
  async function clientOf(answers: Parameters<typeof scriptedServer>[0], maxAttempts?: number) {
    const server = await scriptedServer(answers);
    servers.push(server);
    const client = createJsonClient(DYNAMODB, {
      ...LOCAL_CLIENT_CONFIG,
      credentials: { ...LOCAL_CLIENT_CONFIG.credentials, sessionToken: 'session-token' },
      endpoint: server.endpoint,
      ...(maxAttempts === undefined ? {} : { maxAttempts }),
    });
    return { server, client };
  }

  it('makes 4 attempts for DynamoDB, as its SDK client does by default', async () => {
    const { server, client } = await clientOf([awsError(500, 'InternalServerError')]);
    await expect(client.call('GetItem', {})).rejects.toMatchObject({
      name: 'InternalServerError',
      $metadata: { attempts: 4 },
    });
    expect(server.received).toHaveLength(4);
    client.destroy();
  });

  it('spends a retry budget, as the SDK: 35 retries of a failing service, then none', async () => {
    const { server, client } = await clientOf([awsError(500, 'InternalServerError')], 2);
    for (let call = 0; call < 36; call++) {
      await expect(client.call('GetItem', {})).rejects.toMatchObject({
        name: 'InternalServerError',
      });
    }
    // 500 tokens at 14 a retry: 35 calls made 2 attempts, the 36th one.
    expect(server.received).toHaveLength(71);
    client.destroy();
  });

  it('retries a refused connection, then names it', async () => {
    const closed = await scriptedServer([ok]);
    await closed.close();
    const client = createJsonClient(DYNAMODB, {
      ...LOCAL_CLIENT_CONFIG,
      endpoint: closed.endpoint,
      maxAttempts: 2,
    });
    await expect(client.call('GetItem', {})).rejects.toMatchObject({
      code: 'ECONNREFUSED',
      $metadata: { attempts: 2 },
    });
    client.destroy();
  });

  it('gives up an attempt whose answer trickles in past the request timeout', async () => {
    const trickle = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      response.write('{');
      const timer = setInterval(() => response.write(' '), 50);
      response.on('close', () => clearInterval(timer));
    });
    await new Promise<void>((resolve) => trickle.listen(0, '127.0.0.1', resolve));
    const { port } = trickle.address() as AddressInfo;
    const client = createJsonClient(DYNAMODB, {
      ...LOCAL_CLIENT_CONFIG,
      endpoint: `http://127.0.0.1:${port}`,
      maxAttempts: 1,
      requestTimeoutMs: 300,
    });
    await expect(client.call('GetItem', {})).rejects.toMatchObject({ name: 'TimeoutError' });
    client.destroy();
    trickle.closeAllConnections();
    await new Promise<void>((resolve) => trickle.close(() => resolve()));
  });

  it('sends Lambda’s trace id, as the SDK’s recursion detection does', async () => {
    const server = await scriptedServer([ok]);
    servers.push(server);
    const client = createJsonClient(DYNAMODB, {
      ...LOCAL_CLIENT_CONFIG,
      endpoint: server.endpoint,
      env: {
        AWS_LAMBDA_FUNCTION_NAME: 'worker',
        _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793',
      },
    });
    await client.call('GetItem', {});
    expect(server.received[0]?.request.headers['x-amzn-trace-id']).toBe(
      'Root=1-5759e988-bd862e3fe1be46a994272793',
    );
    client.destroy();
  });

  it('names a 2xx answer that is not JSON without quoting it', async () => {
    const { client } = await clientOf([
      () => ({ status: 200, body: 'SecretString: hunter2hunter2' }),
    ]);
    const error = await client.call('GetItem', {}).catch((reason: unknown) => reason);
    expect(String(error)).toMatch(/not JSON/);
    expect(String(error)).not.toContain('hunter2');
    client.destroy();
  });

  it('refuses an SQS answer whose MD5 is not the message’s, as the SDK does', async () => {
    const server = await scriptedServer([
      () => ({
        status: 200,
        body: JSON.stringify({ MessageId: 'm-1', MD5OfMessageBody: '0'.repeat(32) }),
      }),
    ]);
    servers.push(server);
    const sender = localQueueSender(server.endpoint);
    await expect(
      sender.sendMessage({ QueueUrl: `${server.endpoint}/q`, MessageBody: 'hello' }),
    ).rejects.toThrow(/MD5/);
    sender.destroy();
  });

  it('retries throttling and 5xx answers, as the SDK', async () => {
    const { server, client } = await clientOf([
      awsError(400, 'ProvisionedThroughputExceededException'),
      awsError(500, 'InternalServerError'),
      ok,
    ]);
    expect(await client.call('GetItem', { TableName: 't', Key: {} })).toEqual({
      Item: { pk: { S: 'a' } },
    });
    expect(server.received).toHaveLength(3);
    client.destroy();
  });

  it('gives up after the last attempt with the named error', async () => {
    const { server, client } = await clientOf([awsError(400, 'ThrottlingException')], 2);
    const error = await client.call('GetItem', {}).catch((reason: unknown) => reason);
    expect(error).toMatchObject({
      name: 'ThrottlingException',
      message: 'ThrottlingException here',
      $metadata: { httpStatusCode: 400, attempts: 2 },
    });
    expect(server.received).toHaveLength(2);
    client.destroy();
  });

  it('takes its attempts from AWS_MAX_ATTEMPTS, as the SDK does', async () => {
    const server = await scriptedServer([awsError(500, 'InternalServerError')]);
    servers.push(server);
    const client = createJsonClient(DYNAMODB, {
      ...LOCAL_CLIENT_CONFIG,
      endpoint: server.endpoint,
      env: { AWS_MAX_ATTEMPTS: '1' },
    });
    await expect(client.call('GetItem', {})).rejects.toMatchObject({
      name: 'InternalServerError',
      $metadata: { httpStatusCode: 500, attempts: 1 },
    });
    expect(server.received).toHaveLength(1);
    client.destroy();
  });

  it('fails the call, not the import, on a missing region, and a 2xx that is not JSON once, with its metadata', async () => {
    const client = createJsonClient(DYNAMODB, { env: {} });
    await expect(client.call('GetItem', {})).rejects.toMatchObject({
      message: 'Region is missing: set AWS_REGION (Lambda sets it)',
      $metadata: { attempts: 1 },
    });
    const { server, client: answering } = await clientOf([
      () => ({ status: 200, headers: {}, body: '<html>a proxy</html>' }),
    ]);
    await expect(answering.call('GetItem', {})).rejects.toMatchObject({
      message: 'dynamodb GetItem answered with a body that is not JSON',
      $metadata: { httpStatusCode: 200, attempts: 1 },
    });
    expect(server.received).toHaveLength(1);
    answering.destroy();
  });

  it('does not retry what a retry cannot change', async () => {
    const { server, client } = await clientOf([awsError(400, 'ValidationException')]);
    await expect(client.call('PutItem', {})).rejects.toMatchObject({ name: 'ValidationException' });
    expect(server.received).toHaveLength(1);
    client.destroy();
  });

  it('signs what it sends: target, type, session token, and a signature over the wire request', async () => {
    const { server, client } = await clientOf([ok]);
    await client.call('GetItem', { TableName: 'tablé' });
    const [{ request, body } = { request: undefined, body: '' }] = server.received;
    if (request === undefined) throw new Error('no request');
    expect(request.headers['x-amz-target']).toBe('DynamoDB_20120810.GetItem');
    expect(request.headers['content-type']).toBe('application/x-amz-json-1.0');
    expect(request.headers['x-amz-security-token']).toBe('session-token');
    expect(JSON.parse(body)).toEqual({ TableName: 'tablé' });
    // Signed again from what arrived, with the same key and time, the signature is the same.
    const authorization = String(request.headers.authorization);
    const signedHeaders = /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(';') ?? [];
    expect(signedHeaders).toEqual(expect.arrayContaining(['host', 'x-amz-date', 'x-amz-target']));
    const amzDate = String(request.headers['x-amz-date']);
    const signingDate = new Date(
      `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
    );
    const resigned = await new SignatureV4({
      service: 'dynamodb',
      region: LOCAL_CLIENT_CONFIG.region,
      credentials: { ...LOCAL_CLIENT_CONFIG.credentials, sessionToken: 'session-token' },
      sha256: Sha256,
      applyChecksum: false,
    }).sign(
      {
        method: String(request.method),
        protocol: 'http:',
        hostname: '127.0.0.1',
        path: String(request.url),
        query: {},
        headers: Object.fromEntries(
          signedHeaders.map((name) => [name, String(request.headers[name])]),
        ),
        body,
      },
      { signingDate },
    );
    expect(resigned.headers.authorization).toBe(authorization);
    client.destroy();
  });

  it('signs again with the server’s time when its clock is far from ours', async () => {
    const serverTime = new Date(Date.now() + 60 * 60 * 1000);
    const { server, client } = await clientOf([
      () => ({
        status: 400,
        headers: { date: serverTime.toUTCString() },
        body: JSON.stringify({ __type: 'InvalidSignatureException', message: 'Signature expired' }),
      }),
      ok,
    ]);
    await client.call('GetItem', {});
    expect(server.received).toHaveLength(2);
    const resent = String(server.received[1]?.request.headers['x-amz-date']);
    expect(resent.slice(0, 11)).toBe(serverTime.toISOString().replace(/[-:]/g, '').slice(0, 11));
    client.destroy();
  });

  it('fails the call, not the import, without credentials or a region', async () => {
    const noCredentials = createJsonClient(DYNAMODB, { env: { AWS_REGION: 'eu-west-1' } });
    await expect(noCredentials.call('GetItem', {})).rejects.toThrow(/AWS_ACCESS_KEY_ID/);
    const noRegion = createJsonClient(DYNAMODB, { env: {} });
    await expect(noRegion.call('GetItem', {})).rejects.toThrow(/AWS_REGION/);
  });
});

describe('the light client finds the endpoint the SDK would', () => {
  it('uses the standard GovCloud endpoint for FIPS where the SDK’s rules do (SQS, EventBridge)', () => {
    const fips = { AWS_USE_FIPS_ENDPOINT: 'true' };
    expect(endpointFor(SQS, 'us-gov-west-1', fips)).toBe('https://sqs.us-gov-west-1.amazonaws.com');
    expect(endpointFor(EVENTBRIDGE, 'us-gov-east-1', fips)).toBe(
      'https://events.us-gov-east-1.amazonaws.com',
    );
    expect(endpointFor(SQS, 'us-east-1', fips)).toBe('https://sqs-fips.us-east-1.amazonaws.com');
  });

  it.each([
    [{}, 'eu-west-1', 'https://dynamodb.eu-west-1.amazonaws.com'],
    [
      { AWS_USE_FIPS_ENDPOINT: 'true' },
      'us-east-1',
      'https://dynamodb-fips.us-east-1.amazonaws.com',
    ],
    [{ AWS_USE_DUALSTACK_ENDPOINT: 'true' }, 'us-east-1', 'https://dynamodb.us-east-1.api.aws'],
    [{}, 'cn-north-1', 'https://dynamodb.cn-north-1.amazonaws.com.cn'],
    [
      { AWS_USE_FIPS_ENDPOINT: 'true' },
      'us-gov-west-1',
      'https://dynamodb-fips.us-gov-west-1.amazonaws.com',
    ],
    [
      { AWS_USE_DUALSTACK_ENDPOINT: 'true' },
      'eusc-de-east-1',
      'https://dynamodb.eusc-de-east-1.api.amazonwebservices.eu',
    ],
    [{}, 'us-isof-south-1', 'https://dynamodb.us-isof-south-1.csp.hci.ic.gov'],
    [{}, 'eu-isoe-west-1', 'https://dynamodb.eu-isoe-west-1.cloud.adc-e.uk'],
    [{ AWS_ENDPOINT_URL: 'http://127.0.0.1:1' }, 'us-east-1', 'http://127.0.0.1:1'],
    [
      { AWS_ENDPOINT_URL: 'http://a:1', AWS_ENDPOINT_URL_DYNAMODB: 'http://b:2' },
      'us-east-1',
      'http://b:2',
    ],
    [
      { AWS_ENDPOINT_URL_DYNAMODB: 'http://b:2', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' },
      'us-east-1',
      'https://dynamodb.us-east-1.amazonaws.com',
    ],
  ])('%j in %s: %s', (env, region, endpoint) => {
    expect(endpointFor(DYNAMODB, region, env)).toBe(endpoint);
  });
});

describe('the Datasaur credentials from their secret', () => {
  it('reads the secret once per 5 minutes through the reader given, and parses what it holds', async () => {
    let reads = 0;
    let now = 0;
    const secretValue = (clientId: string) =>
      JSON.stringify({ clientId, clientSecret: 'a-client-secret-long-enough' });
    let value: string | undefined = secretValue('id-1');
    const credentials = credentialsFromSecret(
      'arn:aws:secretsmanager:eu-west-1:1:secret:x',
      {
        secretString: async (secretId) => {
          expect(secretId).toBe('arn:aws:secretsmanager:eu-west-1:1:secret:x');
          reads += 1;
          return value;
        },
      },
      () => now,
    );
    expect(await Promise.all([credentials(), credentials()])).toEqual([
      { clientId: 'id-1', clientSecret: 'a-client-secret-long-enough' },
      { clientId: 'id-1', clientSecret: 'a-client-secret-long-enough' },
    ]);
    expect(reads).toBe(1);
    // Filled in again after deployment: seen once the 5 minutes are over, not before.
    value = secretValue('id-2');
    now = 299_999;
    expect((await credentials()).clientId).toBe('id-1');
    now = 300_000;
    expect((await credentials()).clientId).toBe('id-2');
    expect(reads).toBe(2);
    value = undefined;
    const empty = credentialsFromSecret('arn:x', { secretString: async () => value });
    await expect(empty()).rejects.toThrow(/the Datasaur credentials secret has no string value/);
  });
});

describe('the ingest’s secret cache', () => {
  const SECRET = 'a-webhook-secret-long-enough';
  it('reads once per period, shares a read in flight, keeps a bad value but no failed read', async () => {
    let now = 0;
    let reads = 0;
    let answer: string | undefined | Error = SECRET;
    const source = cachedSecretSource(
      async () => {
        reads += 1;
        if (answer instanceof Error) throw answer;
        return answer;
      },
      300,
      () => now,
    );
    expect(await Promise.all([source(), source()])).toEqual([[SECRET], [SECRET]]);
    expect(reads).toBe(1);
    now = 299_999;
    await source();
    expect(reads).toBe(1);
    now = 300_000;
    answer = new Error('Secrets Manager is down');
    await expect(source()).rejects.toThrow(/is down/);
    answer = undefined;
    await expect(source()).rejects.toThrow(/no string value/);
    // A secret without a string value (binary only) is kept too, as Powertools kept it.
    await expect(source()).rejects.toThrow(/no string value/);
    expect(reads).toBe(3);
    now = 600_000;
    answer = 'short';
    await expect(source()).rejects.toThrow(/at least 16/);
    await expect(source()).rejects.toThrow(/at least 16/);
    expect(reads).toBe(4);
    now = 900_000;
    answer = JSON.stringify({ current: SECRET, previous: `${SECRET}-old` });
    expect(await source()).toEqual([SECRET, `${SECRET}-old`]);
    expect(reads).toBe(5);
  });
});
