/**
 * The claim check: a body too large to travel inline is kept in the archive bucket and the
 * queued message carries a pointer to it (bucket, key, size, sha256). Keys, limits and the
 * check of what comes back live here; `body-archive.ts` talks to S3.
 */
import { eventIdOf } from './signature.ts';

/** Where large webhook bodies live in the archive bucket. */
export const BODIES_PREFIX = 'bodies/';

/**
 * Bodies up to this size travel inside the queue message; larger ones go to S3 first. Not
 * the queue's 1 MiB: the worker must be able to keep what it receives, and it may only read
 * the bucket. A body this size always fits one DynamoDB item, parsed or kept raw as a
 * rejected body, and its envelope fits a message even as base64.
 */
export const INLINE_BODY_BYTES = 400_000;

/** Where a body was put, and what it must be when read back. */
export interface BodyObject {
  readonly bucket: string;
  readonly key: string;
  /** Bytes of the body. */
  readonly size: number;
  /** Lower-case hex SHA-256 of the body (for webhook bodies, also their event id). */
  readonly sha256: string;
}

/** The S3 key of a body: `bodies/<yyyy>/<mm>/<dd>/<eventId>`, by the UTC day it was received. */
export function bodyKey(receivedAt: Date, eventId: string): string {
  const day = receivedAt.toISOString().slice(0, 10).replaceAll('-', '/');
  return `${BODIES_PREFIX}${day}/${eventId}`;
}

/** The object read back is not the body the pointer describes: never store it as that event. */
export class BodyObjectMismatchError extends Error {
  override readonly name = 'BodyObjectMismatchError';
}

/** Returns `body` when its size and SHA-256 are those of `expected`; throws otherwise. */
export function verifiedBody(body: Buffer, expected: BodyObject): Buffer {
  const where = `s3://${expected.bucket}/${expected.key}`;
  if (body.length !== expected.size) {
    throw new BodyObjectMismatchError(
      `${where} holds ${body.length} bytes, the pointer says ${expected.size}`,
    );
  }
  // A body's event id is its SHA-256.
  const sha256 = eventIdOf(body);
  if (sha256 !== expected.sha256) {
    throw new BodyObjectMismatchError(
      `${where} has sha256 ${sha256}, the pointer says ${expected.sha256}`,
    );
  }
  return body;
}

/** Writes bodies into the archive (the ingest's half). */
export interface BodyWriter {
  /** Resolves once the object is durable; throws when it is not stored. */
  put(key: string, body: Buffer): Promise<BodyObject>;
}

/** Reads bodies back (the worker's and the query's half). */
export interface BodyReader {
  /** The body, verified against the pointer; throws when missing or different. */
  get(object: BodyObject): Promise<Buffer>;
}
