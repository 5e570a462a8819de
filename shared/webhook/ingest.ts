/**
 * The front door's rules, free of AWS event types: path shape, size, signature, then enqueue.
 * A validly signed body is accepted whatever it contains; the worker classifies it later.
 */

import {
  describeError,
  InvalidSignatureError,
  MethodNotAllowedError,
  PayloadTooLargeError,
  RouteNotFoundError,
  ServiceUnavailableError,
} from '../runtime/errors.ts';
import type { SecretSource } from '../runtime/secrets.ts';
import { type BodyObject, type BodyWriter, bodyKey, INLINE_BODY_BYTES } from './claim-check.ts';
import type { EnvelopeMetadata } from './envelope.ts';
import { encodeEnvelope, encodePointerEnvelope } from './envelope-encoder.ts';
import { isWebhookPath, RELEASED_WEBHOOK_PATH } from './route.ts';
import { eventIdOf, SIGNATURE_HEADER, verifySignature } from './signature.ts';

/** The queue's message size: the largest SQS allows, set on both queues. */
export const QUEUE_MAX_MESSAGE_BYTES = 1_048_576;
/** The largest request body API Gateway HTTP APIs take (10 MiB); it answers 413 above it. */
export const API_GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;
/**
 * The largest event a synchronous Lambda invocation carries, exactly as Lambda's own error
 * states it ("Exceeded maximum allowed payload size (6291556 bytes)"). API Gateway answers
 * 413 `{"message":"Request Too Long"}` itself, without invoking the ingest, above it.
 */
export const LAMBDA_MAX_EVENT_BYTES = 6_291_556;
/**
 * Room in the event for everything but the body: the headers (HTTP APIs take 10 KiB of
 * request line and headers), the user agent and query string a second time in
 * `requestContext`, and the context itself (about 1 KB).
 */
export const EVENT_ALLOWANCE_BYTES = 32 * 1024;
/**
 * The most the body can occupy inside the event: 6,258,788 bytes. The body sits in the event
 * as a JSON string, so every `"` and `\` in it takes two bytes and a control character six;
 * a content type API Gateway treats as binary arrives base64-encoded (4 bytes per 3), so
 * such a body reaches the ingest only up to 4,694,091 bytes.
 */
export const LARGEST_BODY_BYTES = LAMBDA_MAX_EVENT_BYTES - EVENT_ALLOWANCE_BYTES;
/**
 * The default limit, with a stated margin: a body of this size fits the event even when a
 * quarter of its bytes are escaped (5,000,000 × 1.25 = 6,250,000 ≤ 6,258,788). Datasaur's
 * bodies measure 12.1 % growth on large label events and at most 19.8 % on the small project
 * events (`test/body-limit.test.ts`), so a 5 MB label event (about 15,000 labels) fills
 * 5.6 MB of event, 10 % under Lambda's limit. Bodies above it get 413 from the ingest, with
 * the limit in the log line.
 */
export const DEFAULT_MAX_BODY_BYTES = 5_000_000;
/** The escaping growth the default limit leaves room for: one byte in four. */
export const ESCAPING_GROWTH_ALLOWED = 0.25;

export interface WebhookRequest {
  readonly method: string;
  readonly path: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Buffer;
  readonly requestId: string;
  readonly sourceIp: string;
  readonly receivedAt: Date;
}

export interface AcceptedWebhook {
  readonly eventId: string;
  /** Where the body was put when it was too large to queue inline. */
  readonly bodyObject?: BodyObject;
  readonly statusCode: 200 | 202;
  /** What Datasaur gets back: `{"eventId"}` for events, `{}` for export deliveries. */
  readonly responseBody: Record<string, string>;
}

export interface IngestDependencies {
  /** Sends one message body to the queue; resolves only once the queue has accepted it. */
  readonly enqueue: (messageBody: string) => Promise<void>;
  /** Where bodies above `INLINE_BODY_BYTES` are put before their pointer is queued. */
  readonly bodies: BodyWriter;
  readonly secrets: SecretSource;
  readonly maxBodyBytes: number;
  /**
   * Take 0.1.0's tokenless path too (`/webhooks/datasaur`): set by a stack that still routes
   * it during an upgrade (`keepReleasedWebhookRoute`). @default false
   */
  readonly acceptReleasedPath?: boolean;
}

/**
 * Verifies a webhook request and enqueues it, a large body through the claim check (the
 * body to S3 first, then a pointer to the queue). Resolves only after everything is
 * durable; throws a `WebhookError` carrying the status to answer otherwise.
 */
export async function receiveWebhook(
  request: WebhookRequest,
  dependencies: IngestDependencies,
): Promise<AcceptedWebhook> {
  const released =
    dependencies.acceptReleasedPath === true && request.path === RELEASED_WEBHOOK_PATH;
  if (!isWebhookPath(request.path) && !released) {
    throw new RouteNotFoundError('no webhook route for this path');
  }
  const method = request.method.toUpperCase();
  if (method !== 'POST' && method !== 'PUT') {
    throw new MethodNotAllowedError(`method ${method} is not accepted`);
  }
  if (request.body.length > dependencies.maxBodyBytes) {
    throw new PayloadTooLargeError(
      `body of ${request.body.length} bytes exceeds the limit of ${dependencies.maxBodyBytes} bytes (MAX_BODY_BYTES)`,
    );
  }

  let secrets: readonly string[];
  try {
    secrets = await dependencies.secrets();
  } catch (error) {
    throw new ServiceUnavailableError(`webhook secret unavailable: ${describeError(error)}`);
  }
  const signature = request.headers[SIGNATURE_HEADER];
  if (!verifySignature(request.body, signature?.trim(), secrets)) {
    throw new InvalidSignatureError(
      signature ? 'signature does not match any live secret' : 'signature header missing',
    );
  }

  const eventId = eventIdOf(request.body);
  const metadata: EnvelopeMetadata = {
    eventId,
    receivedAt: request.receivedAt.toISOString(),
    method,
    requestId: request.requestId,
    sourceIp: request.sourceIp,
    userAgent: request.headers['user-agent'] ?? '',
  };
  let queued: QueueMessage;
  try {
    queued = await queueMessageFor(request.body, metadata, dependencies.bodies);
  } catch (error) {
    throw new ServiceUnavailableError(`body not stored in the archive: ${describeError(error)}`);
  }
  const { messageBody, bodyObject } = queued;
  try {
    await dependencies.enqueue(messageBody);
  } catch (error) {
    // The object stays behind unreferenced; the bodies/ lifecycle rule removes it (docs).
    const orphan =
      bodyObject === undefined ? '' : `; s3://${bodyObject.bucket}/${bodyObject.key} is orphaned`;
    throw new ServiceUnavailableError(`enqueue failed: ${describeError(error)}${orphan}`);
  }
  const accepted = bodyObject === undefined ? { eventId } : { eventId, bodyObject };
  return method === 'PUT'
    ? { ...accepted, statusCode: 200, responseBody: {} }
    : { ...accepted, statusCode: 202, responseBody: { eventId } };
}

export interface QueueMessage {
  readonly messageBody: string;
  /** Where the body was put, when it was too large to travel inline. */
  readonly bodyObject?: BodyObject;
}

/**
 * The queue message for a body: the body itself when it is small enough, else a pointer,
 * written only once the body is durable in the archive (the claim check).
 */
export async function queueMessageFor(
  body: Buffer,
  metadata: EnvelopeMetadata,
  bodies: BodyWriter,
): Promise<QueueMessage> {
  if (body.length <= INLINE_BODY_BYTES) return { messageBody: encodeEnvelope(body, metadata) };
  const key = bodyKey(new Date(metadata.receivedAt), metadata.eventId);
  const bodyObject = await bodies.put(key, body);
  return { messageBody: encodePointerEnvelope(bodyObject, metadata), bodyObject };
}
