/**
 * Property-based fuzzing of the ingest handler against a real local-aws-sqs queue and a real
 * s3rver: whatever API Gateway hands it, the handler answers a defined status, accepts only
 * bodies signed with a live secret, and queues exactly one message per 2xx (and none
 * otherwise), a large body as a pointer to exactly its bytes in the archive.
 */
import { createHmac } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { createIngestHandler } from '../functions/ingest/handler.ts';
import { SEED_EVENTS } from '../scripts/local/seed-events.ts';
import { staticSecrets } from '../shared/runtime/secrets.ts';
import { s3BodyReader, s3BodyWriter } from '../shared/webhook/body-archive.ts';
import { INLINE_BODY_BYTES } from '../shared/webhook/claim-check.ts';
import { decodeEnvelope } from '../shared/webhook/envelope.ts';
import { WEBHOOK_PATH, webhookPath } from '../shared/webhook/route.ts';
import { sdkQueueSender } from '../shared/webhook/sdk-queue-sender.ts';
import { drainQueue, startedForTests, startLocalS3, startLocalSqs } from './support/local-aws.ts';
import { recordingLogger } from './support/recording-logger.ts';
import { TEST_SECRETS } from './support/test-secrets.ts';

const RUNS = 10_000;
/** Just above the claim-check threshold, so bodies around both stay cheap to generate. */
const MAX_BODY_BYTES = INLINE_BODY_BYTES + 2_048;
const LIVE_SECRETS = [TEST_SECRETS.fuzzCurrent, TEST_SECRETS.fuzzPrevious];
const RETIRED_SECRET = TEST_SECRETS.fuzzRetired;
const TOKEN_PATH = webhookPath(TEST_SECRETS.pathToken);

const local = startedForTests(startLocalSqs);
const s3 = startedForTests(startLocalS3);

const hmac = (secret: string, bytes: Uint8Array) =>
  createHmac('sha256', secret).update(bytes).digest('hex');

/** Bodies of `min` to `max` bytes: large, so each ends in a few random bytes rather than being random. */
const largeBodies = (min: number, max: number) =>
  fc
    .tuple(fc.integer({ min, max }), fc.uint8Array({ minLength: 8, maxLength: 8 }))
    .map(([size, tail]) => Buffer.concat([Buffer.alloc(size - tail.length, 0x61), tail]));

const bodyBytes = fc.oneof(
  { weight: 40, arbitrary: fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes)) },
  { weight: 40, arbitrary: fc.json({ maxDepth: 4 }).map((json) => Buffer.from(json)) },
  {
    weight: 40,
    arbitrary: fc
      .constantFrom(...Object.values(SEED_EVENTS))
      .map((event) => Buffer.from(JSON.stringify(event))),
  },
  {
    weight: 40,
    arbitrary: fc.string({ unit: 'grapheme', maxLength: 200 }).map((text) => Buffer.from(text)),
  },
  // Either side of the claim check, and of the size limit.
  { weight: 1, arbitrary: largeBodies(INLINE_BODY_BYTES - 2, INLINE_BODY_BYTES + 3) },
  { weight: 2, arbitrary: largeBodies(MAX_BODY_BYTES - 1, MAX_BODY_BYTES + 3) },
);

type SignatureMode =
  | 'current'
  | 'previous'
  | 'upper-case'
  | 'retired'
  | 'truncated'
  | 'extended'
  | 'flipped'
  | 'garbage'
  | 'empty'
  | 'missing';

const requestArbitrary = fc.record({
  bytes: bodyBytes,
  signatureMode: fc.constantFrom<SignatureMode>(
    'current',
    'previous',
    'upper-case',
    'retired',
    'truncated',
    'extended',
    'flipped',
    'garbage',
    'empty',
    'missing',
  ),
  garbage: fc.string({ maxLength: 80 }),
  headerName: fc
    .array(fc.boolean(), { minLength: 20, maxLength: 20 })
    .map((upper) =>
      [...'x-datasaur-signature'].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join(''),
    ),
  base64: fc.boolean(),
  method: fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom('POST', 'PUT', 'post') },
    { weight: 1, arbitrary: fc.constantFrom('GET', 'DELETE', 'PATCH', '') },
  ),
  path: fc.oneof(
    { weight: 12, arbitrary: fc.constant(TOKEN_PATH) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '/webhooks',
        '/',
        WEBHOOK_PATH,
        `${WEBHOOK_PATH}/`,
        `${WEBHOOK_PATH}/x`,
        `${TOKEN_PATH}/`,
      ),
    },
  ),
  // Mostly complete events; one in ten lacks some fields API Gateway normally sends.
  omit: fc.oneof(
    { weight: 9, arbitrary: fc.constant([]) },
    {
      weight: 1,
      arbitrary: fc.subarray([
        'headers',
        'body',
        'requestContext',
        'http',
        'rawPath',
        'isBase64Encoded',
      ] as const),
    },
  ),
});

type FuzzRequest = typeof requestArbitrary extends fc.Arbitrary<infer T> ? T : never;

function signatureFor(request: FuzzRequest, bytes: Buffer): string | undefined {
  const valid = hmac(LIVE_SECRETS[0] ?? '', bytes);
  switch (request.signatureMode) {
    case 'current':
      return valid;
    case 'previous':
      return hmac(LIVE_SECRETS[1] ?? '', bytes);
    case 'upper-case':
      return valid.toUpperCase();
    case 'retired':
      return hmac(RETIRED_SECRET, bytes);
    case 'truncated':
      return valid.slice(0, 63);
    case 'extended':
      return `${valid}0`;
    case 'flipped':
      return `${valid.slice(0, 10)}${valid[10] === '0' ? '1' : '0'}${valid.slice(11)}`;
    case 'garbage':
      return request.garbage;
    case 'empty':
      return '';
    case 'missing':
      return undefined;
  }
}

function buildEvent(request: FuzzRequest): Partial<APIGatewayProxyEventV2> {
  const body = request.base64 ? request.bytes.toString('base64') : request.bytes.toString('utf8');
  // Sign the bytes the handler will see: a text body is whatever its UTF-8 encoding gives.
  const signed = request.base64 ? request.bytes : Buffer.from(body, 'utf8');
  const signature = signatureFor(request, signed);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (signature !== undefined) headers[request.headerName] = signature;
  const event: Record<string, unknown> = {
    version: '2.0',
    rawPath: request.path,
    headers,
    body,
    isBase64Encoded: request.base64,
    requestContext: {
      requestId: 'fuzz',
      timeEpoch: Date.now(),
      http: { method: request.method, path: request.path, sourceIp: '127.0.0.1' },
    },
  };
  for (const field of request.omit) {
    if (field === 'http')
      delete (event.requestContext as Record<string, unknown> | undefined)?.http;
    else delete event[field];
  }
  return event;
}

/** What the contract says the answer must be, computed independently of the handler. */
function expectedStatus(event: Partial<APIGatewayProxyEventV2>): { status: number; bytes: Buffer } {
  const bytes =
    typeof event.body === 'string'
      ? Buffer.from(event.body, event.isBase64Encoded === true ? 'base64' : 'utf8')
      : Buffer.alloc(0);
  const path = event.rawPath ?? event.requestContext?.http?.path ?? '';
  const method = (event.requestContext?.http?.method ?? '').toUpperCase();
  // The ingest checks the path's shape: the prefix and one token-like segment.
  if (!/^\/webhooks\/datasaur\/[A-Za-z0-9_-]{20,128}$/.test(path)) return { status: 404, bytes };
  if (method !== 'POST' && method !== 'PUT') return { status: 405, bytes };
  if (bytes.length > MAX_BODY_BYTES) return { status: 413, bytes };
  const signature = Object.entries(event.headers ?? {}).find(
    ([name]) => name.toLowerCase() === 'x-datasaur-signature',
  )?.[1];
  const signedByLiveSecret = LIVE_SECRETS.some(
    (secret) => signature?.trim().toLowerCase() === hmac(secret, bytes),
  );
  if (!signedByLiveSecret) return { status: 401, bytes };
  return { status: method === 'PUT' ? 200 : 202, bytes };
}

it(`answers ${RUNS} generated requests by the contract and queues exactly the accepted ones`, async () => {
  const { queueUrl } = await local.createQueues();
  const bucket = await s3.createBucket();
  const handle = createIngestHandler({
    sqs: sdkQueueSender(local.sqs),
    queueUrl,
    bodies: s3BodyWriter(s3.s3, bucket),
    secrets: staticSecrets(LIVE_SECRETS),
    maxBodyBytes: MAX_BODY_BYTES,
    logger: recordingLogger(),
  });
  const acceptedBodies: string[] = [];
  const statuses = new Map<number, number>();

  await fc.assert(
    fc.asyncProperty(requestArbitrary, async (request) => {
      const event = buildEvent(request);
      const expected = expectedStatus(event);
      const response = await handle(event as APIGatewayProxyEventV2);
      expect(response.statusCode).toBe(expected.status);
      statuses.set(expected.status, (statuses.get(expected.status) ?? 0) + 1);
      if (expected.status < 300) acceptedBodies.push(expected.bytes.toString('base64'));
    }),
    { numRuns: RUNS, seed: 20261123 },
  );

  const reader = s3BodyReader(s3.s3);
  let claimChecked = 0;
  const queued = await Promise.all(
    (await drainQueue(local.sqs, queueUrl)).map(async (message) => {
      const decoded = decodeEnvelope(message.Body ?? '');
      if (decoded.bodyObject === undefined) return decoded.rawBody.toString('base64');
      claimChecked += 1;
      return (await reader.get(decoded.bodyObject)).toString('base64');
    }),
  );
  expect(queued.sort()).toEqual(acceptedBodies.sort());
  expect(claimChecked).toBeGreaterThan(10);
  console.info('ingest fuzz: requests per status', Object.fromEntries(statuses), {
    claimChecked,
  });
  // Every outcome must actually have been exercised, or the fuzzing proves little.
  for (const status of [200, 202, 401, 404, 405, 413]) {
    expect(statuses.get(status) ?? 0).toBeGreaterThan(50);
  }
  // Ten thousand requests take seconds alone, longer while the rest of the suite runs beside.
}, 180_000);
