/** Datasaur's webhook signature: hex HMAC-SHA256 of the exact raw request body. */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** The header Datasaur signs with (HTTP header names are case-insensitive). */
export const SIGNATURE_HEADER = 'x-datasaur-signature';

const SIGNATURE_HEX = /^[0-9a-fA-F]{64}$/;

/** Lowercase hex HMAC-SHA256 of `body` under `secret`, as Datasaur computes it. */
export function signBody(secret: string, body: Uint8Array | string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/**
 * True when `signature` is the HMAC of `body` under any of `secrets` (current and previous
 * during a rotation). The shape is checked before any comparison, and each comparison runs
 * in constant time over equal-length buffers.
 */
export function verifySignature(
  body: Uint8Array,
  signature: string | undefined,
  secrets: readonly string[],
): boolean {
  if (signature === undefined || !SIGNATURE_HEX.test(signature)) return false;
  const received = Buffer.from(signature, 'hex');
  let matched = false;
  for (const secret of secrets) {
    if (secret.length === 0) continue;
    const expected = createHmac('sha256', secret).update(body).digest();
    // Every secret is tried, so the time taken does not tell which one matched.
    if (timingSafeEqual(expected, received)) matched = true;
  }
  return matched;
}

/** The event's id: hex SHA-256 of the raw body, so a redelivery or replay has the same id. */
export function eventIdOf(body: Uint8Array | string): string {
  return createHash('sha256').update(body).digest('hex');
}
