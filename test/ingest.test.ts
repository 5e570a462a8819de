import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:net';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createIngestHandler, type IngestHandler } from '../functions/ingest/handler.ts';
import { paddedLabelBody, seedEventBody } from '../scripts/local/datasaur-sender.ts';
import {
  SEED_EVENT_TYPES,
  SEED_EVENTS,
  SEED_EXPORT_DELIVERY,
} from '../scripts/local/seed-events.ts';
import { LOCAL_CLIENT_CONFIG } from '../scripts/local/servers.ts';
import { staticSecrets } from '../shared/runtime/secrets.ts';
import { s3BodyReader, s3BodyWriter } from '../shared/webhook/body-archive.ts';
import { INLINE_BODY_BYTES } from '../shared/webhook/claim-check.ts';
import { decodeEnvelope } from '../shared/webhook/envelope.ts';
import { DEFAULT_MAX_BODY_BYTES, LAMBDA_MAX_EVENT_BYTES } from '../shared/webhook/ingest.ts';
import { lightQueueSender } from '../shared/webhook/light-queue-sender.ts';
import { WEBHOOK_PATH, webhookPath } from '../shared/webhook/route.ts';
import { sdkQueueSender } from '../shared/webhook/sdk-queue-sender.ts';
import { eventIdOf, signBody } from '../shared/webhook/signature.ts';
import { drainQueue, startedForTests, startLocalS3, startLocalSqs } from './support/local-aws.ts';
import { recordingLogger } from './support/recording-logger.ts';
import { TEST_SECRETS } from './support/test-secrets.ts';
import { signedEvent, TEST_SECRET } from './support/webhook-requests.ts';

const PREVIOUS_SECRET = TEST_SECRETS.previous;

const local = startedForTests(startLocalSqs);
const s3 = startedForTests(startLocalS3);
let queueUrl: string;
let bucket: string;
let logger: ReturnType<typeof recordingLogger>;
let handle: IngestHandler;

beforeEach(async () => {
  ({ queueUrl } = await local.createQueues());
  bucket = await s3.createBucket();
  logger = recordingLogger();
  handle = createIngestHandler({
    sqs: sdkQueueSender(local.sqs),
    queueUrl,
    bodies: s3BodyWriter(s3.s3, bucket),
    secrets: staticSecrets([TEST_SECRET, PREVIOUS_SECRET]),
    maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
    logger,
  });
});

/** Every queued message, with its body: inline, or read back (and verified) from the archive. */
async function queued() {
  const messages = await drainQueue(local.sqs, queueUrl);
  const reader = s3BodyReader(s3.s3);
  return Promise.all(
    messages.map(async (message) => {
      const decoded = decodeEnvelope(message.Body ?? '');
      return decoded.bodyObject === undefined
        ? { envelope: decoded.envelope, rawBody: decoded.rawBody, bodyObject: undefined }
        : {
            envelope: decoded.envelope,
            rawBody: await reader.get(decoded.bodyObject),
            bodyObject: decoded.bodyObject,
          };
    }),
  );
}

/** Keys of every object in the test's bucket. */
async function archivedKeys(): Promise<string[]> {
  const listed = await s3.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (listed.Contents ?? []).map((object) => object.Key ?? '');
}

async function expectRefused(event: APIGatewayProxyEventV2, statusCode: number) {
  const response = await handle(event);
  expect(response.statusCode).toBe(statusCode);
  expect(await queued()).toHaveLength(0);
  expect(await archivedKeys()).toEqual([]);
  const refusal = logger.lines.find((line) => line.message === 'webhook refused');
  expect(refusal?.attributes).toMatchObject({ status: statusCode });
  expect(refusal?.attributes.reason).toEqual(expect.any(String));
  return response;
}

describe('ingest: accepted events', () => {
  it.each(SEED_EVENT_TYPES)(
    'accepts the documented %s example and queues its exact bytes with metadata',
    async (eventType) => {
      const body = Buffer.from(JSON.stringify(SEED_EVENTS[eventType]));
      const response = await handle(signedEvent(body));

      const eventId = eventIdOf(body);
      expect(response.statusCode).toBe(202);
      expect(JSON.parse(response.body ?? '')).toEqual({ eventId });
      const [message, ...rest] = await queued();
      expect(rest).toHaveLength(0);
      expect(message?.rawBody.equals(body)).toBe(true);
      expect(message?.envelope).toMatchObject({
        eventId,
        method: 'POST',
        sourceIp: '203.0.113.7',
        userAgent: 'Datasaur',
        requestId: expect.stringMatching(/.+/),
        receivedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      });
    },
  );

  it('answers an export delivery (PUT) with 200 {} after queueing it', async () => {
    const body = Buffer.from(JSON.stringify(SEED_EXPORT_DELIVERY));
    const response = await handle(signedEvent(body, { method: 'PUT' }));
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe('{}');
    const [message] = await queued();
    expect(message?.envelope.method).toBe('PUT');
    expect(message?.rawBody.equals(body)).toBe(true);
  });

  it('verifies the bytes as sent, not a re-serialization of them', async () => {
    const asSent = Buffer.from(
      `${JSON.stringify({ ...SEED_EVENTS.PROJECT_CREATED, note: 'Ophelia’s “mad” scene — ✓' }, null, 2)}\n`,
    );
    const reserialized = Buffer.from(JSON.stringify(JSON.parse(asSent.toString('utf8'))));
    expect(reserialized.equals(asSent)).toBe(false);

    expect((await handle(signedEvent(asSent))).statusCode).toBe(202);
    const [message] = await queued();
    expect(message?.rawBody.equals(asSent)).toBe(true);

    const signatureOfSent = signBody(TEST_SECRET, asSent);
    await expectRefused(signedEvent(reserialized, { signature: signatureOfSent }), 401);
  });

  it.each([
    ['an unknown eventType', JSON.stringify({ eventType: 'PROJECT_ARCHIVED', data: {} })],
    ['a JSON array', '[1,2,3]'],
    ['a body that is not JSON', 'eventType=PROJECT_CREATED&not json'],
    ['an empty object', '{}'],
  ])('queues %s when it is validly signed', async (_, body) => {
    expect((await handle(signedEvent(body))).statusCode).toBe(202);
    const [message] = await queued();
    expect(message?.rawBody.toString('utf8')).toBe(body);
  });

  it('keeps bytes that are not valid UTF-8 exactly, through a base64-encoded event', async () => {
    const body = Buffer.from([0x7b, 0xff, 0xfe, 0x00, 0xf0, 0x9f, 0x98, 0x7d]);
    const event = signedEvent(body);
    event.body = body.toString('base64');
    event.isBase64Encoded = true;
    expect((await handle(event)).statusCode).toBe(202);
    const [message] = await queued();
    expect(message?.envelope).toMatchObject({ bodyEncoding: 'base64' });
    expect(message?.rawBody.equals(body)).toBe(true);
  });

  it('accepts a body signed with the previous secret during a rotation', async () => {
    const body = JSON.stringify(SEED_EVENTS.PROJECT_REVIEWED);
    expect((await handle(signedEvent(body, { secret: PREVIOUS_SECRET }))).statusCode).toBe(202);
    expect(await queued()).toHaveLength(1);
  });

  it('queues a body of INLINE_BODY_BYTES inline, and one byte more through the archive', async () => {
    const inline = Buffer.alloc(INLINE_BODY_BYTES, 'a');
    const claimChecked = Buffer.alloc(INLINE_BODY_BYTES + 1, 'a');
    expect((await handle(signedEvent(inline))).statusCode).toBe(202);
    expect((await handle(signedEvent(claimChecked))).statusCode).toBe(202);
    const messages = await queued();
    const byLength = (length: number) => messages.find((m) => m.rawBody.length === length);
    expect(byLength(INLINE_BODY_BYTES)?.bodyObject).toBeUndefined();
    expect(byLength(INLINE_BODY_BYTES + 1)?.rawBody.equals(claimChecked)).toBe(true);
    expect(await archivedKeys()).toEqual([byLength(INLINE_BODY_BYTES + 1)?.bodyObject?.key]);
  });

  it('puts a large body under bodies/<yyyy>/<mm>/<dd>/<eventId> before queueing its pointer', async () => {
    const body = Buffer.from(
      seedEventBody('BEFORE_UPDATE_LABELS', {
        timestamp: '2026-11-23T10:00:00.000Z',
        labels: 2000,
      }),
    );
    const event = signedEvent(body);
    const receivedAt = new Date(event.requestContext.timeEpoch);
    const response = await handle(event);
    expect(response.statusCode).toBe(202);
    const eventId = eventIdOf(body);
    const key = `bodies/${receivedAt.toISOString().slice(0, 10).replaceAll('-', '/')}/${eventId}`;
    const [message] = await queued();
    expect(message?.bodyObject).toEqual({ bucket, key, size: body.length, sha256: eventId });
    expect(message?.rawBody.equals(body)).toBe(true);
    expect(
      logger.lines.find((line) => line.message === 'webhook accepted')?.attributes,
    ).toMatchObject({ status: 202, eventId, bodyKey: key });
  });

  it('accepts a body exactly at the size limit, whose event still fits a Lambda invocation', async () => {
    const labels = seedEventBody('BEFORE_UPDATE_LABELS', {
      timestamp: '2026-11-23T10:00:00.000Z',
      labels: 15_000,
    });
    const body = paddedLabelBody(labels, DEFAULT_MAX_BODY_BYTES);
    expect(Buffer.byteLength(body)).toBe(DEFAULT_MAX_BODY_BYTES);
    const event = signedEvent(body);
    // What Lambda would be handed: the body JSON-escaped inside the event, with the headers.
    expect(Buffer.byteLength(JSON.stringify(event))).toBeLessThanOrEqual(LAMBDA_MAX_EVENT_BYTES);
    expect((await handle(event)).statusCode).toBe(202);
    const [message] = await queued();
    expect(message?.rawBody.length).toBe(DEFAULT_MAX_BODY_BYTES);
  });

  it('gives a redelivered body the same eventId', async () => {
    const body = JSON.stringify(SEED_EVENTS.PROJECT_CREATED);
    const first = await handle(signedEvent(body));
    const second = await handle(signedEvent(body));
    expect(first.body).toBe(second.body);
  });
});

describe('ingest: a real API Gateway HTTP API event', () => {
  it('handles the payload v2 event as AWS documents it, with a base64 body', async () => {
    const body = Buffer.from(JSON.stringify(SEED_EVENTS.PROJECT_COMPLETED));
    // Shape from the AWS docs ("Working with AWS Lambda proxy integrations for HTTP APIs").
    const event: APIGatewayProxyEventV2 = {
      version: '2.0',
      routeKey: `POST ${webhookPath(TEST_SECRETS.pathToken)}`,
      rawPath: webhookPath(TEST_SECRETS.pathToken),
      rawQueryString: '',
      cookies: [],
      headers: {
        accept: 'application/json, text/plain, */*',
        'accept-encoding': 'gzip, compress, deflate, br',
        'content-length': String(body.length),
        'content-type': 'application/json',
        host: 'abc123.execute-api.us-east-1.amazonaws.com',
        'user-agent': 'Datasaur',
        'x-amzn-trace-id': 'Root=1-5e6722a7-cc56xmpl46db7ae02d4da47e',
        'x-datasaur-signature': signBody(TEST_SECRET, body),
        'x-forwarded-for': '198.51.100.23',
        'x-forwarded-port': '443',
        'x-forwarded-proto': 'https',
      },
      requestContext: {
        accountId: '123456789012',
        apiId: 'abc123',
        domainName: 'abc123.execute-api.us-east-1.amazonaws.com',
        domainPrefix: 'abc123',
        http: {
          method: 'POST',
          path: webhookPath(TEST_SECRETS.pathToken),
          protocol: 'HTTP/1.1',
          sourceIp: '198.51.100.23',
          userAgent: 'Datasaur',
        },
        requestId: 'JKJaXmPLvHcESHA=',
        routeKey: `POST ${webhookPath(TEST_SECRETS.pathToken)}`,
        stage: '$default',
        time: '10/Mar/2020:05:16:23 +0000',
        timeEpoch: 1583817383220,
      },
      body: body.toString('base64'),
      isBase64Encoded: true,
    };
    const response = await handle(event);
    expect(response.statusCode).toBe(202);
    const [message] = await queued();
    expect(message?.rawBody.equals(body)).toBe(true);
    expect(message?.envelope).toMatchObject({
      requestId: 'JKJaXmPLvHcESHA=',
      sourceIp: '198.51.100.23',
      receivedAt: '2020-03-10T05:16:23.220Z',
    });
  });
});

describe('ingest: refusals', () => {
  const body = JSON.stringify(SEED_EVENTS.PROJECT_CREATED);
  const signature = signBody(TEST_SECRET, body);

  it.each([
    ['a tampered body', signedEvent(body.replace('hamlet', 'macbeth'), { signature })],
    ['a signature made with another secret', signedEvent(body, { secret: 'not-our-secret' })],
    ['a missing signature header', signedEvent(body, { signature: undefined })],
    ['an empty signature header', signedEvent(body, { signature: '' })],
    ['a non-hex signature', signedEvent(body, { signature: 'z'.repeat(64) })],
    ['a truncated signature', signedEvent(body, { signature: signature.slice(0, 40) })],
    ['a 65-character signature', signedEvent(body, { signature: `${signature}a` })],
    [
      'the signature of another body',
      signedEvent(body, { signature: signBody(TEST_SECRET, '{}') }),
    ],
    ['a retired secret', signedEvent(body, { secret: TEST_SECRETS.retired })],
  ])('answers 401 to %s and queues nothing', async (_, event) => {
    const response = await expectRefused(event, 401);
    expect(JSON.parse(response.body ?? '')).toEqual({ message: 'Unauthorized' });
  });

  it('answers 413 to a body one byte over the limit, stores nothing, and logs the limit', async () => {
    const oversized = 'x'.repeat(DEFAULT_MAX_BODY_BYTES + 1);
    await expectRefused(signedEvent(oversized), 413);
    const refusal = logger.lines.find((line) => line.message === 'webhook refused');
    expect(refusal?.attributes).toMatchObject({
      maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
      bytes: DEFAULT_MAX_BODY_BYTES + 1,
    });
    expect(refusal?.attributes.reason).toContain(`the limit of ${DEFAULT_MAX_BODY_BYTES} bytes`);
  });

  it('answers 404 to a path without a token and 405 to another method', async () => {
    await expectRefused(signedEvent(body, { path: '/webhooks/other' }), 404);
    logger.lines.length = 0;
    await expectRefused(signedEvent(body, { path: WEBHOOK_PATH }), 404);
    logger.lines.length = 0;
    await expectRefused(signedEvent(body, { method: 'GET' }), 405);
  });

  it("takes 0.1.0's tokenless path only while the stack routes it (keepReleasedWebhookRoute)", async () => {
    const upgrading = createIngestHandler({
      sqs: sdkQueueSender(local.sqs),
      queueUrl,
      bodies: s3BodyWriter(s3.s3, bucket),
      secrets: staticSecrets([TEST_SECRET]),
      maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
      acceptReleasedPath: true,
      logger,
    });
    const accepted = await upgrading(signedEvent(body, { path: WEBHOOK_PATH }));
    expect(accepted.statusCode).toBe(202);
    expect(await queued()).toHaveLength(1);
    // Still only that path: another one without a token is no webhook's.
    const elsewhere = await upgrading(signedEvent(body, { path: `${WEBHOOK_PATH}/` }));
    expect(elsewhere.statusCode).toBe(404);
  });

  it('logs the path with its token replaced, never the token', async () => {
    await handle(signedEvent(body));
    await handle(signedEvent(body, { signature: 'ab'.repeat(32) }));
    expect(logger.lines.map((line) => line.attributes.path)).toEqual([
      `${WEBHOOK_PATH}/{token}`,
      `${WEBHOOK_PATH}/{token}`,
    ]);
    expect(JSON.stringify(logger.lines)).not.toContain(TEST_SECRETS.pathToken);
  });
});

describe('ingest: the queue is unavailable', () => {
  let silentServer: Server;
  let silentPort: number;

  beforeAll(async () => {
    // A TCP server that accepts connections and never answers: a real timeout, no mock.
    silentServer = createServer(() => {});
    await new Promise<void>((resolve) => silentServer.listen(0, '127.0.0.1', resolve));
    silentPort = (silentServer.address() as AddressInfo).port;
  });
  afterAll(() => {
    silentServer.close();
  });

  function handlerWithQueueAt(endpoint: string) {
    return createIngestHandler({
      // The light client the ingest Lambda sends with, with its timeouts.
      sqs: lightQueueSender({
        ...LOCAL_CLIENT_CONFIG,
        endpoint,
        maxAttempts: 1,
        connectionTimeoutMs: 200,
        requestTimeoutMs: 300,
      }),
      queueUrl,
      bodies: s3BodyWriter(s3.s3, bucket),
      secrets: staticSecrets([TEST_SECRET]),
      maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
      logger,
    });
  }

  const largeBody = () => Buffer.alloc(INLINE_BODY_BYTES + 1, '{');

  it('answers 503 when the queue refuses the connection', async () => {
    const closedPort = silentPort + 1 === 65536 ? silentPort - 1 : silentPort + 1;
    const handler = handlerWithQueueAt(`http://127.0.0.1:${closedPort}`);
    const response = await handler(signedEvent(JSON.stringify(SEED_EVENTS.PROJECT_CREATED)));
    expect(response.statusCode).toBe(503);
    expect(response.body).not.toContain('eventId');
    expect(logger.lines.some((line) => line.message === 'webhook accepted')).toBe(false);
  });

  it('answers 503 when S3 refuses the large body, and queues nothing', async () => {
    const closedPort = silentPort + 1 === 65536 ? silentPort - 1 : silentPort + 1;
    const handler = createIngestHandler({
      sqs: sdkQueueSender(local.sqs),
      queueUrl,
      bodies: s3BodyWriter(
        s3.client({ endpoint: `http://127.0.0.1:${closedPort}`, maxAttempts: 1 }),
        bucket,
      ),
      secrets: staticSecrets([TEST_SECRET]),
      maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
      logger,
    });
    const response = await handler(signedEvent(largeBody()));
    expect(response.statusCode).toBe(503);
    expect(await queued()).toHaveLength(0);
    expect(await archivedKeys()).toEqual([]);
    expect(
      logger.lines.find((line) => line.message === 'webhook refused')?.attributes,
    ).toMatchObject({
      status: 503,
      reason: expect.stringContaining('body not stored in the archive'),
    });
  });

  it('answers 503 when the queue refuses a pointer after S3 accepted the body, naming the orphan', async () => {
    const closedPort = silentPort + 1 === 65536 ? silentPort - 1 : silentPort + 1;
    const handler = handlerWithQueueAt(`http://127.0.0.1:${closedPort}`);
    const body = largeBody();
    const response = await handler(signedEvent(body));
    expect(response.statusCode).toBe(503);
    // The object stays until the bodies/ lifecycle rule expires it (docs/large-events.md).
    const [orphan] = await archivedKeys();
    expect(orphan).toMatch(new RegExp(`^bodies/\\d{4}/\\d\\d/\\d\\d/${eventIdOf(body)}$`));
    expect(
      logger.lines.find((line) => line.message === 'webhook refused')?.attributes.reason,
    ).toContain(`s3://${bucket}/${orphan} is orphaned`);
  });

  it('answers 503 when the queue times out', async () => {
    const handler = handlerWithQueueAt(`http://127.0.0.1:${silentPort}`);
    const response = await handler(signedEvent(JSON.stringify(SEED_EVENTS.PROJECT_CREATED)));
    expect(response.statusCode).toBe(503);
    expect(
      logger.lines.find((line) => line.message === 'webhook refused')?.attributes,
    ).toMatchObject({ status: 503, reason: expect.stringContaining('enqueue failed') });
  });

  it('answers 503 when the secret cannot be read', async () => {
    const handler = createIngestHandler({
      sqs: sdkQueueSender(local.sqs),
      queueUrl,
      bodies: s3BodyWriter(s3.s3, bucket),
      secrets: async () => {
        throw new Error('Secrets Manager unreachable');
      },
      maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
      logger,
    });
    const response = await handler(signedEvent(JSON.stringify(SEED_EVENTS.PROJECT_CREATED)));
    expect(response.statusCode).toBe(503);
    expect(await queued()).toHaveLength(0);
  });
});

describe('ingest: logs', () => {
  it('logs eventId and status but never the secret or the body', async () => {
    const body = JSON.stringify(SEED_EVENTS.BEFORE_UPDATE_LABELS);
    await handle(signedEvent(body));
    await handle(signedEvent(body, { secret: 'wrong' }));
    const text = logger.text();
    expect(text).toContain(eventIdOf(body));
    expect(text).not.toContain(TEST_SECRET);
    expect(text).not.toContain(PREVIOUS_SECRET);
    expect(text).not.toContain('user+1@datasaur.ai');
  });
});
