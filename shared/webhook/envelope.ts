/**
 * The message the ingest puts on the queue: the raw body byte for byte plus what was known
 * about the request, or, for a body too large to travel inline, a pointer to it in the
 * archive bucket (see `claim-check.ts`). The worker, the DLQ and a replay all read this one
 * format; the ingest writes it with `envelope-encoder.ts`, which stays free of zod to keep
 * the ingest bundle small and so sits below this module.
 */
import * as z from '../runtime/schema.ts';
import type { BodyObject } from './claim-check.ts';
import { type BodyEncoding, ENVELOPE_VERSION, type EnvelopeMetadata } from './envelope-encoder.ts';

const metadataShape = {
  version: z.literal(ENVELOPE_VERSION),
  eventId: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
  receivedAt: z.iso.datetime(),
  method: z.enum(['POST', 'PUT']),
  requestId: z.string(),
  sourceIp: z.string(),
  userAgent: z.string(),
};

const inlineEnvelopeSchema = z.object({
  ...metadataShape,
  /** `utf8` when the bytes are valid UTF-8 that SQS can carry as text, else `base64`. */
  bodyEncoding: z.enum(['utf8', 'base64']),
  body: z.string(),
});

const pointerEnvelopeSchema = z.object({
  ...metadataShape,
  /** Where the ingest put the body, and its size and SHA-256 to check it against. */
  bodyObject: z.object({
    bucket: z.string().check(z.minLength(3)),
    key: z.string().check(z.minLength(1)),
    size: z.number().check(z.int(), z.nonnegative()),
    sha256: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
  }),
});

export const envelopeSchema = z.union([inlineEnvelopeSchema, pointerEnvelopeSchema]);

export type InlineEnvelope = z.infer<typeof inlineEnvelopeSchema>;
export type PointerEnvelope = z.infer<typeof pointerEnvelopeSchema>;
export type Envelope = InlineEnvelope | PointerEnvelope;
export type { EnvelopeMetadata };

// The encoder's plain types and this schema describe one format: a drift fails to compile.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const metadataMatches: Same<
  Omit<InlineEnvelope, 'version' | 'bodyEncoding' | 'body'>,
  EnvelopeMetadata
> = true;
const encodingMatches: Same<InlineEnvelope['bodyEncoding'], BodyEncoding> = true;
void metadataMatches;
void encodingMatches;

/** A decoded message: the body itself, or where to read it. */
export type DecodedEnvelope =
  | { readonly envelope: InlineEnvelope; readonly rawBody: Buffer; readonly bodyObject?: never }
  | {
      readonly envelope: PointerEnvelope;
      readonly bodyObject: BodyObject;
      readonly rawBody?: never;
    };

export class MalformedEnvelopeError extends Error {
  override readonly name = 'MalformedEnvelopeError';
}

/** Parses an SQS message body written by the envelope encoder. */
export function decodeEnvelope(messageBody: string): DecodedEnvelope {
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
  if ('bodyObject' in envelope) {
    if (envelope.bodyObject.sha256 !== envelope.eventId) {
      throw new MalformedEnvelopeError('queued pointer names a body of another event');
    }
    return { envelope, bodyObject: envelope.bodyObject };
  }
  return { envelope, rawBody: Buffer.from(envelope.body, envelope.bodyEncoding) };
}
