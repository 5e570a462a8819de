/**
 * The message the ingest puts on the queue: the raw body byte for byte plus what was known
 * about the request. The worker, the DLQ and a replay all read this one format.
 */
import { z } from 'zod';

export const ENVELOPE_VERSION = 1;

export const envelopeSchema = z.object({
  version: z.literal(ENVELOPE_VERSION),
  eventId: z.string().regex(/^[0-9a-f]{64}$/),
  receivedAt: z.iso.datetime(),
  method: z.enum(['POST', 'PUT']),
  requestId: z.string(),
  sourceIp: z.string(),
  userAgent: z.string(),
  /** `utf8` when the bytes are valid UTF-8 that SQS can carry as text, else `base64`. */
  bodyEncoding: z.enum(['utf8', 'base64']),
  body: z.string(),
});

export type Envelope = z.infer<typeof envelopeSchema>;
export type EnvelopeMetadata = Omit<Envelope, 'version' | 'bodyEncoding' | 'body'>;

/** Characters SQS refuses in a message body even when JSON-escaped text would carry them. */
const SQS_FORBIDDEN = /[\uFFFE\uFFFF]/;

/** Serializes the raw body and its metadata into an SQS message body. */
export function encodeEnvelope(rawBody: Buffer, metadata: EnvelopeMetadata): string {
  const text = rawBody.toString('utf8');
  // Invalid UTF-8 decodes to U+FFFD, so only a byte-for-byte round trip proves the text lossless.
  const losslessText = Buffer.from(text, 'utf8').equals(rawBody) && !SQS_FORBIDDEN.test(text);
  const asText = losslessText ? JSON.stringify(text) : undefined;
  const asBase64 = JSON.stringify(rawBody.toString('base64'));
  // Text that escapes badly (many control characters) is smaller as base64.
  const useText = asText !== undefined && asText.length <= asBase64.length;
  const envelope: Envelope = {
    version: ENVELOPE_VERSION,
    ...metadata,
    bodyEncoding: useText ? 'utf8' : 'base64',
    body: useText ? text : rawBody.toString('base64'),
  };
  return JSON.stringify(envelope);
}

export class MalformedEnvelopeError extends Error {
  override readonly name = 'MalformedEnvelopeError';
}

/** Parses an SQS message body written by `encodeEnvelope`, returning the exact raw bytes. */
export function decodeEnvelope(messageBody: string): { envelope: Envelope; rawBody: Buffer } {
  let json: unknown;
  try {
    json = JSON.parse(messageBody);
  } catch {
    throw new MalformedEnvelopeError('queued message is not JSON');
  }
  const parsed = envelopeSchema.safeParse(json);
  if (!parsed.success) {
    throw new MalformedEnvelopeError(`queued message is not an envelope: ${parsed.error.message}`);
  }
  const envelope = parsed.data;
  const rawBody = Buffer.from(envelope.body, envelope.bodyEncoding);
  return { envelope, rawBody };
}
