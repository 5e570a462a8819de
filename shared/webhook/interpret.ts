/**
 * Decides what a queued message becomes in the table: a project event, a label event, an
 * export delivery, an unknown event, or a rejected body with the reason. Pure: no AWS.
 */
import type { SchemaError, ZodMiniType } from '../runtime/schema.ts';
import type { BodyObject, BodyReader } from './claim-check.ts';
import { decodeEnvelope, type Envelope, MalformedEnvelopeError } from './envelope.ts';
import {
  type BeforeUpdateLabelsEvent,
  type ExportDelivery,
  exportDeliverySchema,
  instant,
  KNOWN_EVENT_TYPES,
  type KnownEventType,
  type ProjectEvent,
  type WebhookEvent,
  webhookEventSchemas,
} from './events.ts';
import { eventIdOf } from './signature.ts';

export type Interpretation =
  | { readonly kind: 'projectEvent'; readonly event: ProjectEvent }
  | { readonly kind: 'labelEvent'; readonly event: BeforeUpdateLabelsEvent }
  | { readonly kind: 'export'; readonly delivery: ExportDelivery }
  | {
      readonly kind: 'unknown';
      readonly eventType: string;
      /** The parsed body, kept whole: nothing Datasaur signs is lost. */
      readonly payload: Record<string, unknown>;
      /** `data.timestamp` when it is a valid instant, else the receive time. */
      readonly eventTime: string;
    }
  | { readonly kind: 'rejected'; readonly reason: string };

/**
 * Where a message came from: `webhook`, an envelope the ingest wrote after the body's
 * signature checked out; `queue`, a message that is not such an envelope (written to the
 * queue by something else), whose body never passed the signature check.
 */
export type Provenance = 'webhook' | 'queue';

export interface InterpretedMessage {
  readonly eventId: string;
  readonly provenance: Provenance;
  /** The webhook's HTTP method (only an envelope says it). */
  readonly method?: Envelope['method'];
  /** Normalized to `toISOString()` form so it sorts as text. */
  readonly receivedAt: string;
  /** The body exactly as received: what a rejected item keeps. */
  readonly rawBody: Buffer;
  /** Where the body is kept in the archive bucket, when it came through the claim check. */
  readonly bodyObject?: BodyObject;
  readonly interpretation: Interpretation;
}

/**
 * Interprets one queue message, reading a claim-checked body from the archive. A message
 * that is not an envelope (written by something other than the ingest) is rejected under the
 * hash of the message and the time SQS got it, so a redelivery lands on the same item. A
 * body that cannot be read, or is not the one the pointer describes, throws: the message is
 * retried, then moves to the DLQ, and is never stored as another event.
 */
export async function interpretMessage(
  messageBody: string,
  sentAt: Date,
  bodies: BodyReader,
): Promise<InterpretedMessage> {
  let decoded: ReturnType<typeof decodeEnvelope>;
  try {
    decoded = decodeEnvelope(messageBody);
  } catch (error) {
    if (!(error instanceof MalformedEnvelopeError)) throw error;
    const rawBody = Buffer.from(messageBody, 'utf8');
    return {
      eventId: eventIdOf(rawBody),
      provenance: 'queue',
      receivedAt: sentAt.toISOString(),
      rawBody,
      interpretation: { kind: 'rejected', reason: error.message },
    };
  }
  if (decoded.bodyObject === undefined) return interpretEnvelope(decoded.envelope, decoded.rawBody);
  const rawBody = await bodies.get(decoded.bodyObject);
  return { ...interpretEnvelope(decoded.envelope, rawBody), bodyObject: decoded.bodyObject };
}

export function interpretEnvelope(envelope: Envelope, rawBody: Buffer): InterpretedMessage {
  const receivedAt = new Date(envelope.receivedAt).toISOString();
  return {
    eventId: envelope.eventId,
    provenance: 'webhook',
    method: envelope.method,
    receivedAt,
    rawBody,
    interpretation: interpretBody(envelope.method, rawBody, receivedAt),
  };
}

export function interpretBody(
  method: Envelope['method'],
  rawBody: Buffer,
  receivedAt: string,
): Interpretation {
  const rejected = (reason: string): Interpretation => ({ kind: 'rejected', reason });

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(rawBody);
  } catch {
    return rejected('body is not UTF-8 text');
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return rejected('body is not JSON');
  }
  if (!isPlainObject(body)) return rejected('body is not a JSON object');
  const unstorable = findUnstorableValue(body);
  if (unstorable !== undefined) return rejected(unstorable);

  // Datasaur does not say which method its event notifications use (POST is assumed) and
  // sends export deliveries as PUT: the body says what it is, the method only breaks a tie.
  const { eventType } = body;
  if (typeof eventType !== 'string' && (method === 'PUT' || 'fileUrl' in body)) {
    const delivery = exportDeliverySchema().safeParse(body);
    return delivery.success
      ? { kind: 'export', delivery: delivery.data }
      : rejected(`${method} body is not an export delivery: ${describeIssues(delivery.error)}`);
  }
  if (typeof eventType !== 'string') return rejected('body has no string eventType');
  if (!isKnownEventType(eventType)) {
    const data = isPlainObject(body.data) ? body.data : {};
    const timestamp = instant().safeParse(data.timestamp);
    return {
      kind: 'unknown',
      eventType,
      payload: body,
      eventTime: timestamp.success ? timestamp.data : receivedAt,
    };
  }
  // Its own type's schema: a cold start builds only the schemas of the types it receives.
  const parsed = (webhookEventSchemas[eventType]() as ZodMiniType<WebhookEvent>).safeParse(body);
  if (!parsed.success) {
    return rejected(`${eventType} does not match its schema: ${describeIssues(parsed.error)}`);
  }
  const event = parsed.data;
  return event.eventType === 'BEFORE_UPDATE_LABELS'
    ? { kind: 'labelEvent', event }
    : { kind: 'projectEvent', event };
}

/** One line naming each failing path, e.g. `data.project.id: expected string, received undefined`. */
function describeIssues(error: SchemaError): string {
  return error.issues
    .map((issue) => `${issue.path.map(String).join('.') || '(body)'}: ${issue.message}`)
    .join('; ');
}

function isKnownEventType(eventType: string): eventType is KnownEventType {
  return (KNOWN_EVENT_TYPES as readonly string[]).includes(eventType);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * DynamoDB's limit on nested lists and maps, counting the item itself as the first level
 * (DynamoDB Local refuses an attribute value 32 containers deep and takes 31; dynalite takes
 * any depth). Deeper documents fail with a ValidationException.
 */
export const MAX_NESTING_DEPTH = 32;

/** DynamoDB numbers: a non-zero magnitude from 1E-130 (the upper bound is above ±2^53). */
export const MIN_NUMBER_MAGNITUDE = 1e-130;

/**
 * Half of a UTF-16 surrogate pair with no other half. Valid UTF-8 JSON can carry one as an
 * escape (`"\ud800"`); once parsed, it is no Unicode character: DynamoDB's UTF-8 would
 * store U+FFFD in its place (two ids could become one key), and `encodeURIComponent` throws
 * on it. With the `u` flag a well-formed pair is one code point and never matches.
 */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
const LONE_SURROGATE_REASON =
  'body has a string with an unpaired UTF-16 surrogate escape (\\ud800-\\udfff), which is not Unicode text';

/**
 * Why a parsed body cannot be stored as a DynamoDB document, or undefined when it can.
 * Checked here, by DynamoDB's documented rules, rather than left to the server: dynalite
 * accepts what DynamoDB refuses, and the outcome must not depend on the backend.
 * Iterative on purpose: a 256 KB body can nest far deeper than the call stack allows, and
 * the document client's recursive marshalling would overflow on it.
 */
/**
 * Keys that JSON.parse makes own data properties but the document client's marshaller reads
 * as the object's type (`constructor.name`: "Set", "String", … or none, an error), and that
 * assigning them copies into the prototype (`__proto__`): such an object would be retried
 * into the dead-letter queue or stored as something else.
 */
const MARSHALLER_KEYS = new Set(['constructor', '__proto__']);

function findUnstorableValue(body: Record<string, unknown>): string | undefined {
  // An unknown event stores the body whole as one attribute: the item is level 1, the body 2.
  const pending: Array<{ value: unknown; depth: number }> = [{ value: body, depth: 2 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value, depth } = next;
    if (typeof value === 'number' && Math.abs(value) > Number.MAX_SAFE_INTEGER) {
      // JSON.parse already rounded it, and the document client refuses to store it.
      return `${value} is a number beyond ±2^53 that cannot be stored exactly`;
    }
    if (typeof value === 'number' && value !== 0 && Math.abs(value) < MIN_NUMBER_MAGNITUDE) {
      return `${value} is a number closer to zero than DynamoDB's smallest magnitude, 1E-130`;
    }
    if (typeof value === 'string' && LONE_SURROGATE.test(value)) return LONE_SURROGATE_REASON;
    if (typeof value !== 'object' || value === null) continue;
    if (depth > MAX_NESTING_DEPTH) {
      return `body nests deeper than DynamoDB's ${MAX_NESTING_DEPTH} levels (the item is one)`;
    }
    for (const [key, child] of Object.entries(value)) {
      // DynamoDB attribute names, map keys included, need at least one character.
      if (key === '' && !Array.isArray(value)) {
        return 'body has an empty object key, which DynamoDB cannot store as a map key';
      }
      if (LONE_SURROGATE.test(key)) return LONE_SURROGATE_REASON;
      if (MARSHALLER_KEYS.has(key) && !Array.isArray(value)) {
        return `body has an object key "${key}", which the DynamoDB document client reads as the object's type instead of storing it`;
      }
      pending.push({ value: child, depth: depth + 1 });
    }
  }
  return undefined;
}
