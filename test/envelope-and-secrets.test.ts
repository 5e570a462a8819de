import { describe, expect, it } from 'vitest';
import {
  CredentialsMissingError,
  parseDatasaurCredentials,
} from '../shared/datasaur/credentials-secret.ts';
import { parseSecretList, parseSecretValue } from '../shared/runtime/secrets.ts';
import { INLINE_BODY_BYTES } from '../shared/webhook/claim-check.ts';
import { decodeEnvelope, MalformedEnvelopeError } from '../shared/webhook/envelope.ts';
import { encodeEnvelope, encodePointerEnvelope } from '../shared/webhook/envelope-encoder.ts';
import { QUEUE_MAX_MESSAGE_BYTES } from '../shared/webhook/ingest.ts';
import { eventIdOf } from '../shared/webhook/signature.ts';

function metadataFor(body: Buffer) {
  return {
    eventId: eventIdOf(body),
    receivedAt: '2026-11-23T10:00:00.000Z',
    method: 'POST' as const,
    requestId: 'request-1',
    sourceIp: '203.0.113.7',
    userAgent: 'Datasaur',
  };
}

describe('queued envelope', () => {
  it.each([
    ['compact JSON', Buffer.from('{"eventType":"PROJECT_CREATED"}'), 'utf8'],
    ['non-ASCII text', Buffer.from('{"name":"Ophelia’s ✓"}\n'), 'utf8'],
    ['invalid UTF-8', Buffer.from([0xf0, 0x9f, 0x98, 0x41]), 'base64'],
    ['characters SQS refuses', Buffer.from('\uffff'), 'base64'],
    ['mostly control characters', Buffer.from('\u0001'.repeat(100)), 'base64'],
    ['an empty body', Buffer.alloc(0), 'utf8'],
  ])('round-trips %s byte for byte', (_, body, encoding) => {
    const message = encodeEnvelope(body, metadataFor(body));
    const { envelope, rawBody } = decodeEnvelope(message);
    expect(envelope).toMatchObject({ bodyEncoding: encoding });
    expect(rawBody?.equals(body)).toBe(true);
    expect(envelope.eventId).toBe(eventIdOf(body));
  });

  it('fits the largest inline body in one SQS message, whatever its characters', () => {
    const worstText = Buffer.from(
      'é\u0001"\\'.repeat(INLINE_BODY_BYTES / 6).slice(0, INLINE_BODY_BYTES),
    );
    const invalidUtf8 = Buffer.alloc(INLINE_BODY_BYTES, 0xff);
    for (const body of [worstText, invalidUtf8]) {
      expect(body.length).toBeLessThanOrEqual(INLINE_BODY_BYTES);
      const message = encodeEnvelope(body, metadataFor(body));
      expect(Buffer.byteLength(message)).toBeLessThan(QUEUE_MAX_MESSAGE_BYTES);
      expect(decodeEnvelope(message).rawBody?.equals(body)).toBe(true);
    }
  });

  it('round-trips a pointer to a claim-checked body', () => {
    const body = Buffer.from('{"eventType":"BEFORE_UPDATE_LABELS"}');
    const metadata = metadataFor(body);
    const bodyObject = {
      bucket: 'archive',
      key: `bodies/2026/11/23/${metadata.eventId}`,
      size: body.length,
      sha256: metadata.eventId,
    };
    const decoded = decodeEnvelope(encodePointerEnvelope(bodyObject, metadata));
    expect(decoded.bodyObject).toEqual(bodyObject);
    expect(decoded.rawBody).toBeUndefined();
    expect(decoded.envelope).toMatchObject(metadata);
  });

  it('refuses a pointer to the body of another event', () => {
    const body = Buffer.from('{}');
    const bodyObject = { bucket: 'archive', key: 'bodies/x', size: 2, sha256: 'a'.repeat(64) };
    expect(() => decodeEnvelope(encodePointerEnvelope(bodyObject, metadataFor(body)))).toThrow(
      MalformedEnvelopeError,
    );
  });

  it('refuses a message that is not an envelope', () => {
    expect(() => decodeEnvelope('not json')).toThrow(MalformedEnvelopeError);
    expect(() => decodeEnvelope('{"version":1}')).toThrow(MalformedEnvelopeError);
  });
});

describe('webhook secrets', () => {
  it('reads the current and previous secrets from the Secrets Manager JSON', () => {
    expect(
      parseSecretValue('{"current":"new-secret-0123456789","previous":"old-secret-0123456789"}'),
    ).toEqual(['new-secret-0123456789', 'old-secret-0123456789']);
    expect(parseSecretValue('{"current":"only-secret-0123456789"}')).toEqual([
      'only-secret-0123456789',
    ]);
  });

  it('reads a plain-string secret', () => {
    expect(parseSecretValue('plain-secret-0123456789\n')).toEqual(['plain-secret-0123456789']);
  });

  it('trims every secret value, JSON values included (a pasted newline would never match)', () => {
    expect(
      parseSecretValue(
        '{"current":" new-secret-0123456789\\n","previous":"old-secret-0123456789 "}',
      ),
    ).toEqual(['new-secret-0123456789', 'old-secret-0123456789']);
  });

  it('refuses a secret it cannot use', () => {
    expect(() => parseSecretValue('')).toThrow(/empty/);
    expect(() => parseSecretValue('{"current":"  "}')).toThrow(/current/);
    expect(() => parseSecretValue('{"previous":"old"}')).toThrow(/current/);
    expect(() => parseSecretValue('{broken')).toThrow(/does not parse/);
  });

  it('refuses a secret shorter than 16 characters, saying how long it must be', () => {
    expect(() => parseSecretValue('secret')).toThrow(
      'the webhook secret is 6 characters long; use at least 16 (a short secret can be guessed)',
    );
    expect(() => parseSecretValue('{"current":"new-secret-0123456789","previous":"old"}')).toThrow(
      'the webhook secret\'s "previous" value is 3 characters long; use at least 16',
    );
  });

  it('reads a comma-separated list for the local stack', () => {
    expect(parseSecretList('first-secret-0123456789, second-secret-0123456789,,')).toEqual([
      'first-secret-0123456789',
      'second-secret-0123456789',
    ]);
    expect(() => parseSecretList(' , ')).toThrow(/empty/);
    expect(() => parseSecretList('first-secret-0123456789, b')).toThrow(
      'secret 2 of DATASAUR_WEBHOOK_SECRET is 1 characters long; use at least 16',
    );
  });
});

describe('Datasaur credentials secret', () => {
  it('trims the values, and refuses a blank or too-short client secret', () => {
    expect(
      parseDatasaurCredentials(
        '{"clientId":" my-client \\n","clientSecret":" a-client-secret-0123456789\\n"}',
      ),
    ).toEqual({ clientId: 'my-client', clientSecret: 'a-client-secret-0123456789' });
    expect(() => parseDatasaurCredentials('{"clientId":"id","clientSecret":"   "}')).toThrow(
      CredentialsMissingError,
    );
    expect(() => parseDatasaurCredentials('{"clientId":"id","clientSecret":"short"}')).toThrow(
      "the Datasaur credentials secret's clientSecret is 5 characters long; use at least 16",
    );
  });
});
