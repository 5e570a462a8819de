import { describe, expect, it } from 'vitest';
import { SIGNATURE_TEST_VECTOR } from '../scripts/local/seed-events.ts';
import { eventIdOf, signBody, verifySignature } from '../shared/webhook/signature.ts';

const body = Buffer.from(SIGNATURE_TEST_VECTOR.body);

describe('Datasaur signature', () => {
  it("reproduces Datasaur's published test vector", () => {
    expect(signBody(SIGNATURE_TEST_VECTOR.secret, SIGNATURE_TEST_VECTOR.body)).toBe(
      SIGNATURE_TEST_VECTOR.signature,
    );
    expect(verifySignature(body, SIGNATURE_TEST_VECTOR.signature, ['secret'])).toBe(true);
  });

  it('accepts the signature in upper-case hex', () => {
    expect(verifySignature(body, SIGNATURE_TEST_VECTOR.signature.toUpperCase(), ['secret'])).toBe(
      true,
    );
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['truncated', SIGNATURE_TEST_VECTOR.signature.slice(0, 63)],
    ['65 characters long', `${SIGNATURE_TEST_VECTOR.signature}0`],
    ['not hex', `${SIGNATURE_TEST_VECTOR.signature.slice(0, 63)}g`],
    [
      'base64 instead of hex',
      Buffer.from(SIGNATURE_TEST_VECTOR.signature, 'hex').toString('base64'),
    ],
  ])('refuses a signature that is %s', (_, signature) => {
    expect(verifySignature(body, signature, ['secret'])).toBe(false);
  });

  it('accepts any live secret and refuses the others', () => {
    const signature = signBody('previous-secret', body);
    expect(verifySignature(body, signature, ['current-secret', 'previous-secret'])).toBe(true);
    expect(verifySignature(body, signature, ['current-secret'])).toBe(false);
    expect(verifySignature(body, signature, [])).toBe(false);
  });

  it('never matches an empty secret', () => {
    expect(verifySignature(body, signBody('', body), [''])).toBe(false);
  });

  it('gives the same eventId to the same bytes and a different one to other bytes', () => {
    expect(eventIdOf(body)).toBe(eventIdOf(SIGNATURE_TEST_VECTOR.body));
    expect(eventIdOf(body)).toMatch(/^[0-9a-f]{64}$/);
    expect(eventIdOf(`${SIGNATURE_TEST_VECTOR.body}\n`)).not.toBe(eventIdOf(body));
  });
});
