/**
 * The go-live check's test event (`npm run doctor`): a PROJECT_CREATED that the worker stores
 * like any other, but that is never published on the bus, and that the marker recognizes.
 */
import { describe, expect, it } from 'vitest';
import { isPublished } from '../shared/bus/bus-events.ts';
import { isTestEvent, TEST_EVENT_TEAM_ID, testEventBody } from '../shared/webhook/test-event.ts';
import { webhookEventItem } from './support/webhook-records.ts';

const receivedAt = '2026-12-06T08:00:00.000Z';

const itemOf = (body: string) => webhookEventItem(body, receivedAt);

describe('the go-live test event', () => {
  it('is a valid PROJECT_CREATED under the reserved team, stored as a project event', () => {
    const item = itemOf(testEventBody('abc123', receivedAt));
    expect(item).toMatchObject({
      itemType: 'projectEvent',
      eventType: 'PROJECT_CREATED',
      projectId: 'datasaur-webhooks-doctor-abc123',
      teamId: TEST_EVENT_TEAM_ID,
    });
    expect(isTestEvent(item as { projectId?: string })).toBe(true);
  });

  it('is never published, while the same event of another project is', () => {
    const settings = { publishLabelEvents: true };
    const test = itemOf(testEventBody('abc123', receivedAt));
    const real = itemOf(
      testEventBody('abc123', receivedAt).replace('datasaur-webhooks-doctor-', ''),
    );
    expect(isPublished(test, settings)).toBe(false);
    expect(isTestEvent(real as { projectId?: string })).toBe(false);
    expect(isPublished(real, settings)).toBe(true);
  });
});
