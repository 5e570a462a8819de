/**
 * The default body limit against what Lambda can be handed: API Gateway puts the body in the
 * event as a JSON string, so escaping grows it. Measured here on Datasaur's own bodies (the
 * documented examples and label events of many labels), and checked against the margin the
 * default is chosen for (a quarter of the bytes escaped).
 */
import { describe, expect, it } from 'vitest';
import { paddedLabelBody, seedEventBody } from '../scripts/local/datasaur-sender.ts';
import { SEED_EVENT_TYPES, SEED_EVENTS } from '../scripts/local/seed-events.ts';
import {
  DEFAULT_MAX_BODY_BYTES,
  ESCAPING_GROWTH_ALLOWED,
  LAMBDA_MAX_EVENT_BYTES,
  LARGEST_BODY_BYTES,
} from '../shared/webhook/ingest.ts';
import { signedEvent } from './support/webhook-requests.ts';

/** Bytes the body takes as a JSON string in the event, over its own bytes, minus one. */
const escapingGrowth = (body: string) =>
  (Buffer.byteLength(JSON.stringify(body)) - 2) / Buffer.byteLength(body) - 1;

const labelEvent = (labels: number) =>
  seedEventBody('BEFORE_UPDATE_LABELS', { timestamp: '2026-12-01T10:00:00.000Z', labels });

describe('escaping growth of Datasaur bodies', () => {
  it('is at most 19.8 % on the documented examples (small bodies, many quoted names)', () => {
    const growth = SEED_EVENT_TYPES.map((type) =>
      escapingGrowth(JSON.stringify(SEED_EVENTS[type])),
    );
    expect(Math.max(...growth)).toBeLessThan(0.199);
    expect(Math.max(...growth)).toBeLessThan(ESCAPING_GROWTH_ALLOWED);
  });

  it('is about 12.1 % on label events of 100 to 15,000 labels, the bodies that reach the limit', () => {
    for (const labels of [100, 1_000, 5_000, 15_000]) {
      const growth = escapingGrowth(labelEvent(labels));
      expect(growth).toBeGreaterThan(0.12);
      expect(growth).toBeLessThan(0.124);
    }
  });

  it('is six times for control characters, which only a body that is not JSON can hold', () => {
    expect(escapingGrowth('\u0001\u001f'.repeat(1_000))).toBe(5);
  });
});

describe('the default limit of 5,000,000 bytes', () => {
  it('fits a body with a quarter of its bytes escaped, twice the growth of large label events', () => {
    expect(DEFAULT_MAX_BODY_BYTES * (1 + ESCAPING_GROWTH_ALLOWED)).toBeLessThanOrEqual(
      LARGEST_BODY_BYTES,
    );
    // One `"` in four bytes, in the event Lambda would be handed with Datasaur's headers.
    const quarterEscaped = 'abc"'.repeat(DEFAULT_MAX_BODY_BYTES / 4);
    expect(escapingGrowth(quarterEscaped)).toBe(ESCAPING_GROWTH_ALLOWED);
    const event = Buffer.byteLength(JSON.stringify(signedEvent(quarterEscaped)));
    expect(event).toBeLessThanOrEqual(LAMBDA_MAX_EVENT_BYTES);
  });

  it('leaves a label event at the limit 10 % under what Lambda accepts', () => {
    const body = paddedLabelBody(labelEvent(1), DEFAULT_MAX_BODY_BYTES);
    expect(Buffer.byteLength(body)).toBe(DEFAULT_MAX_BODY_BYTES);
    const event = Buffer.byteLength(JSON.stringify(signedEvent(body)));
    expect(event).toBeLessThan(LAMBDA_MAX_EVENT_BYTES * 0.9);
  });

  it('cannot hand Lambda a body of control characters a sixth of its limit: API Gateway refuses it', () => {
    const body = '\u0001'.repeat(Math.ceil(LAMBDA_MAX_EVENT_BYTES / 6));
    expect(Buffer.byteLength(JSON.stringify(signedEvent(body)))).toBeGreaterThan(
      LAMBDA_MAX_EVENT_BYTES,
    );
  });
});
