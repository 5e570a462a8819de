/**
 * The project item as a pure function of the project's events and export deliveries.
 *
 * Why this converges without transactions: every worker puts its event first and then
 * queries the project's events (consistent read) and puts the derived item only if the item
 * there was derived from fewer events (`eventCount`). The query that starts last begins
 * after every event's put finished, so it sees all N events; its put (n = N) is accepted,
 * and no put derived from a smaller set can overwrite it afterwards. Events are never
 * deleted, so the sets grow monotonically and a set of N events is the full set.
 */

import type { Person } from './events.ts';
import {
  PROJECT_STATUS_EVENTS,
  type ProjectCompletedEvent,
  type ProjectReviewedEvent,
  type ProjectStatus,
} from './events.ts';
import type { ExportItem, ProjectEventItem, ProjectItem } from './items.ts';
import { EVENT_SORT_PREFIX, parseTimeAndEventId, projectKey, teamProjectKeys } from './keys.ts';

/** Same-instant status events resolve to the later step of the workflow. */
const STATUS_RANK: Record<ProjectStatus, number> = { CREATED: 0, COMPLETED: 1, REVIEWED: 2 };

interface TimedEvent<T> {
  readonly item: T;
  readonly time: string;
  readonly eventId: string;
}

/** Derives the project item; `events` in any order, with or without duplicates' absence. */
export function deriveProject(
  projectId: string,
  events: readonly (ProjectEventItem | ExportItem)[],
): ProjectItem {
  const timed = events.map((item) => ({ item, ...eventTimeOf(item) }));
  const statusEvents = timed
    .filter(
      (event): event is TimedEvent<ProjectEventItem> => event.item.itemType === 'projectEvent',
    )
    .sort(byStatusOrder);
  const exports = timed
    .filter((event): event is TimedEvent<ExportItem> => event.item.itemType === 'export')
    .sort(byTimeThenId);

  const newestStatus = statusEvents.at(-1);
  const newestOf = (eventType: ProjectEventItem['eventType']) =>
    statusEvents.filter((event) => event.item.eventType === eventType).at(-1);
  const created = statusEvents.find((event) => event.item.eventType === 'PROJECT_CREATED');
  const completed = newestOf('PROJECT_COMPLETED');
  const reviewed = newestOf('PROJECT_REVIEWED');
  const newestProject = <K extends 'name' | 'tags'>(field: K) =>
    statusEvents.findLast((event) => event.item.data.project[field] !== undefined)?.item.data
      .project[field];
  const teamName = statusEvents.findLast((event) => event.item.data.team.name !== undefined)?.item
    .data.team.name;
  const lastExport = exports.at(-1);
  const lastEventAt =
    timed
      .map((event) => event.time)
      .sort()
      .at(-1) ?? '';

  const status = newestStatus && PROJECT_STATUS_EVENTS[newestStatus.item.eventType];
  const teamId = newestStatus?.item.teamId;
  return {
    ...projectKey(projectId),
    itemType: 'project',
    projectId,
    ...definedOnly({
      name: newestProject('name'),
      tags: newestProject('tags'),
      teamId,
      teamName,
      status,
      statusAt: newestStatus?.time,
      createdAt: created?.time,
      completedAt: completed?.time,
      completedBy: completed && personOf(completed.item),
      reviewedAt: reviewed?.time,
      reviewedBy: reviewed && personOf(reviewed.item),
      lastExport: lastExport && {
        fileUrl: lastExport.item.data.fileUrl,
        at: lastExport.time,
        ...definedOnly({
          documentId: lastExport.item.data.documentId,
          userId: lastExport.item.data.userId,
        }),
      },
    }),
    lastEventAt,
    eventCount: events.length,
    ...(status !== undefined && teamId !== undefined && newestStatus !== undefined
      ? teamProjectKeys(teamId, status, newestStatus.time, projectId)
      : {}),
  };
}

/** The time an event sorts by is in its sort key: `data.timestamp`, or receipt for exports. */
function eventTimeOf(item: ProjectEventItem | ExportItem): { time: string; eventId: string } {
  return parseTimeAndEventId(item.sk.slice(EVENT_SORT_PREFIX.length));
}

/** Who completed (the labeler) or reviewed (the reviewer) the project. */
function personOf(item: ProjectEventItem): Person | undefined {
  const { data } = item;
  const person =
    item.eventType === 'PROJECT_COMPLETED'
      ? (data as ProjectCompletedEvent['data']).labeler
      : item.eventType === 'PROJECT_REVIEWED'
        ? (data as ProjectReviewedEvent['data']).reviewer
        : undefined;
  if (person === undefined) return undefined;
  return definedOnly({
    id: person.id,
    email: person.email,
    username: person.username,
    name: person.name,
  }) as Person;
}

function byTimeThenId(left: TimedEvent<unknown>, right: TimedEvent<unknown>): number {
  return compareText(left.time, right.time) || compareText(left.eventId, right.eventId);
}

function byStatusOrder(left: TimedEvent<ProjectEventItem>, right: TimedEvent<ProjectEventItem>) {
  return (
    compareText(left.time, right.time) ||
    STATUS_RANK[PROJECT_STATUS_EVENTS[left.item.eventType]] -
      STATUS_RANK[PROJECT_STATUS_EVENTS[right.item.eventType]] ||
    compareText(left.eventId, right.eventId)
  );
}

function compareText(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}

/** Drops undefined fields so derived items compare equal however they were built. */
function definedOnly<T extends Record<string, unknown>>(fields: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(fields).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}
