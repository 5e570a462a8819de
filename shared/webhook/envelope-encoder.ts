/** Writes the queued message (see `envelope.ts` for its format); no zod, for a small ingest bundle. */
import { isUtf8 } from 'node:buffer';
import type { BodyObject } from './claim-check.ts';

export const ENVELOPE_VERSION = 1;

/** What the ingest knew about the request; `envelope.ts` checks the same fields with zod. */
export interface EnvelopeMetadata {
  readonly eventId: string;
  readonly receivedAt: string;
  readonly method: 'POST' | 'PUT';
  readonly requestId: string;
  readonly sourceIp: string;
  readonly userAgent: string;
}

/** `utf8` when the bytes are valid UTF-8 that SQS can carry as text, else `base64`. */
export type BodyEncoding = 'utf8' | 'base64';

/** Characters SQS refuses in a message body even when JSON-escaped text would carry them. */
const SQS_FORBIDDEN = /[\uFFFE\uFFFF]/;

/** Serializes the raw body and its metadata into an SQS message body. */
export function encodeEnvelope(rawBody: Buffer, metadata: EnvelopeMetadata): string {
  const base64Length = 4 * Math.ceil(rawBody.length / 3) + 2;
  let bodyEncoding: BodyEncoding = 'base64';
  let bodyJson: string | undefined;
  if (isUtf8(rawBody)) {
    const text = rawBody.toString('utf8');
    const asText = JSON.stringify(text);
    // Text that escapes badly (many control characters) is smaller as base64.
    if (!SQS_FORBIDDEN.test(text) && Buffer.byteLength(asText) <= base64Length) {
      bodyEncoding = 'utf8';
      bodyJson = asText;
    }
  }
  bodyJson ??= `"${rawBody.toString('base64')}"`;
  // The body is serialized once and spliced in: it is most of the message.
  const head = JSON.stringify({ version: ENVELOPE_VERSION, ...metadata, bodyEncoding });
  return `${head.slice(0, -1)},"body":${bodyJson}}`;
}

/** Serializes a pointer to a body kept in the archive bucket, with the request's metadata. */
export function encodePointerEnvelope(bodyObject: BodyObject, metadata: EnvelopeMetadata): string {
  return JSON.stringify({ version: ENVELOPE_VERSION, ...metadata, bodyObject });
}
