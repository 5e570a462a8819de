/**
 * The go-live check's test event (`npm run doctor`): a PROJECT_CREATED whose project id starts
 * with a reserved prefix and whose team is a reserved id. The worker stores it like any event
 * (that is what the check proves) but does not publish it on the bus, replay leaves it out,
 * and a team's queries never list it beside the team's own projects.
 */

/** The team of every test event; no Datasaur workspace has this id. */
export const TEST_EVENT_TEAM_ID = 'datasaur-webhooks-doctor';
/** Every test event's project id starts with this. */
export const TEST_EVENT_PROJECT_PREFIX = 'datasaur-webhooks-doctor-';

/** True for an item, feed entry or event of the go-live check. */
export function isTestEvent(subject: { readonly projectId?: string | undefined }): boolean {
  return subject.projectId?.startsWith(TEST_EVENT_PROJECT_PREFIX) === true;
}

/** The body of a test event for project `datasaur-webhooks-doctor-<suffix>`, as Datasaur sends it. */
export function testEventBody(suffix: string, timestamp: string): string {
  return JSON.stringify({
    eventType: 'PROJECT_CREATED',
    data: {
      timestamp,
      project: { id: `${TEST_EVENT_PROJECT_PREFIX}${suffix}`, name: 'go-live check', tags: [] },
      team: { id: TEST_EVENT_TEAM_ID, name: 'datasaur-webhooks go-live check' },
    },
  });
}
