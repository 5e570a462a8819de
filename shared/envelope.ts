/**
 * The message the ingest puts on the queue: the raw body byte for byte plus what was known
 * about the request. The worker, the DLQ and a replay all read this one format; the ingest
 * writes it with `envelope-encoder.ts`, which stays free of zod to keep the ingest bundle small.
 */
import * as z from 'zod';
import { ENVELOPE_VERSION } from './envelope-encoder.ts';

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
