import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  SEED_EVENT_TYPES,
  SEED_EVENTS,
  SEED_EXPORT_DELIVERY,
} from '../scripts/local/seed-events.ts';
import { builtOnFirstUse } from '../shared/runtime/schema.ts';
import {
  exportDeliverySchema,
  webhookEventSchema,
  webhookEventSchemas,
} from '../shared/webhook/events.ts';

describe('event schemas', () => {
  it.each(SEED_EVENT_TYPES)('parses the documented %s example', (eventType) => {
    const parsed = webhookEventSchema().parse(SEED_EVENTS[eventType]);
    expect(parsed.eventType).toBe(eventType);
    expect(parsed.data.timestamp).toBe(SEED_EVENTS[eventType].data.timestamp);
  });

  it('keeps fields Datasaur adds later', () => {
    const event = structuredClone(SEED_EVENTS.PROJECT_CREATED) as Record<string, unknown>;
    (event.data as Record<string, unknown>).newField = { nested: true };
    const parsed = webhookEventSchema().parse(event);
    expect((parsed.data as Record<string, unknown>).newField).toEqual({ nested: true });
  });

  it('accepts an older PROJECT_COMPLETED carrying project.type instead of tags', () => {
    const event = structuredClone(SEED_EVENTS.PROJECT_COMPLETED) as {
      data: { project: Record<string, unknown> };
    };
    event.data.project = { id: 'ZTYzZjRhYjE', name: 'hamlet.TXT', type: 'TOKEN_BASED' };
    const parsed = webhookEventSchema().parse(event);
    expect(parsed.eventType === 'PROJECT_COMPLETED' && parsed.data.project.type).toBe(
      'TOKEN_BASED',
    );
  });

  it('normalizes timestamps so they sort as text', () => {
    const event = structuredClone(SEED_EVENTS.PROJECT_CREATED) as { data: { timestamp: string } };
    event.data.timestamp = '2023-11-17T16:02:45.258+07:00';
    expect(webhookEventSchema().parse(event).data.timestamp).toBe('2023-11-17T09:02:45.258Z');
  });

  it('rejects a known event without the fields it is keyed by', () => {
    const event = structuredClone(SEED_EVENTS.BEFORE_UPDATE_LABELS) as {
      data: Record<string, unknown>;
    };
    delete event.data.document;
    expect(webhookEventSchema().safeParse(event).success).toBe(false);
    expect(
      webhookEventSchema().safeParse({ eventType: 'PROJECT_CREATED', data: { timestamp: 'soon' } })
        .success,
    ).toBe(false);
  });

  it('parses and refuses each event type with its own schema as the union of all does', () => {
    // The worker parses with the event type's own schema (built on first use): the same data
    // and the same issues as the union that picks it by eventType.
    for (const eventType of SEED_EVENT_TYPES) {
      const valid = SEED_EVENTS[eventType];
      expect(webhookEventSchemas[eventType]().parse(valid)).toEqual(
        webhookEventSchema().parse(valid),
      );
      const invalid = { eventType, data: { timestamp: 'soon', project: {}, document: {} } };
      expect(webhookEventSchemas[eventType]().safeParse(invalid).error?.issues).toEqual(
        webhookEventSchema().safeParse(invalid).error?.issues,
      );
    }
  });

  it('builds a schema once, on its first use', () => {
    let builds = 0;
    const schema = builtOnFirstUse(() => {
      builds++;
      return { built: builds };
    });
    expect(builds).toBe(0);
    expect(schema()).toBe(schema());
    expect(builds).toBe(1);
  });

  it('parses an export delivery with and without a documentId', () => {
    expect(exportDeliverySchema().parse(SEED_EXPORT_DELIVERY).userId).toBe('1');
    expect(
      exportDeliverySchema().parse({ ...SEED_EXPORT_DELIVERY, documentId: 'doc-1' }).documentId,
    ).toBe('doc-1');
    expect(exportDeliverySchema().safeParse({ userId: 1 }).success).toBe(false);
  });
});

describe('rejection reasons', () => {
  // The worker's bundle has zod/mini alone, which brings no messages of its own: a process
  // that never loads classic zod (as that bundle) must still say what was wrong, in English.
  it('name what was wrong in a process without classic zod, as in the worker bundle', () => {
    const script = `
      const { interpretBody } = await import('./shared/webhook/interpret.ts');
      const body = JSON.stringify({ eventType: 'PROJECT_CREATED', data: { timestamp: 'soon' } });
      const interpretation = interpretBody('POST', Buffer.from(body), new Date(0).toISOString());
      console.log(JSON.stringify(interpretation));
    `;
    const output = execFileSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8' },
    );
    expect(JSON.parse(output.trim().split('\n').pop() ?? '')).toEqual({
      kind: 'rejected',
      reason:
        'PROJECT_CREATED does not match its schema: data.timestamp: not an ISO-8601 date and time with a time zone; data.project: Invalid input: expected object, received undefined; data.team: Invalid input: expected object, received undefined',
    });
  });
});
