/**
 * The front door's rules, free of AWS event types: route, size, signature, then enqueue.
 * A validly signed body is accepted whatever it contains; the worker classifies it later.
 */
import { encodeEnvelope } from './envelope-encoder.ts';
import {
  describeError,
  InvalidSignatureError,
  MethodNotAllowedError,
  PayloadTooLargeError,
  RouteNotFoundError,
  ServiceUnavailableError,
} from './errors.ts';
import type { SecretSource } from './secrets.ts';
import { eventIdOf, SIGNATURE_HEADER, verifySignature } from './signature.ts';

export const WEBHOOK_PATH = '/webhooks/datasaur';
/** SQS's default message size; larger bodies need the claim check (a later capability). */
export const DEFAULT_MAX_BODY_BYTES = 256 * 1024;
/** The queue's message size: the largest SQS allows, set on both queues. */
export const QUEUE_MAX_MESSAGE_BYTES = 1_048_576;
/**
 * The largest body the pipeline always keeps. A rejected body is stored raw in one
 * DynamoDB item (400 KB at most, with room left for its keys and reason), and the queued
 * envelope of such a body stays far below the queue's 1 MiB even as base64 (4/3 growth).
 */
export const LARGEST_BODY_BYTES = 400_000;

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
  readonly statusCode: 200 | 202;
  /** What Datasaur gets back: `{"eventId"}` for events, `{}` for export deliveries. */
  readonly responseBody: Record<string, string>;
}

export interface IngestDependencies {
  /** Sends one message body to the queue; resolves only once the queue has accepted it. */
  readonly enqueue: (messageBody: string) => Promise<void>;
  readonly secrets: SecretSource;
  readonly maxBodyBytes: number;
}

/**
 * Verifies a webhook request and enqueues it. Resolves only after the queue accepted the
 * message; throws a `WebhookError` carrying the status to answer otherwise.
 */
export async function receiveWebhook(
  request: WebhookRequest,
  dependencies: IngestDependencies,
): Promise<AcceptedWebhook> {
  if (request.path.replace(/\/+$/, '') !== WEBHOOK_PATH) {
    throw new RouteNotFoundError(`no route for ${request.path}`);
  }
  const method = request.method.toUpperCase();
  if (method !== 'POST' && method !== 'PUT') {
    throw new MethodNotAllowedError(`method ${method} is not accepted`);
  }
  if (request.body.length > dependencies.maxBodyBytes) {
    throw new PayloadTooLargeError(
      `body of ${request.body.length} bytes exceeds the limit of ${dependencies.maxBodyBytes}`,
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
  const messageBody = encodeEnvelope(request.body, {
    eventId,
    receivedAt: request.receivedAt.toISOString(),
    method,
    requestId: request.requestId,
    sourceIp: request.sourceIp,
    userAgent: request.headers['user-agent'] ?? '',
  });
  try {
    await dependencies.enqueue(messageBody);
  } catch (error) {
    throw new ServiceUnavailableError(`enqueue failed: ${describeError(error)}`);
  }
  return method === 'PUT'
    ? { eventId, statusCode: 200, responseBody: {} }
    : { eventId, statusCode: 202, responseBody: { eventId } };
}
