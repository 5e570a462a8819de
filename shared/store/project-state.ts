/**
 * The project item as a pure function of the project's events and export deliveries.
 *
 * Why this converges without transactions: every worker puts its event first and then
 * queries the project's events (consistent read) and puts the derived item only if the item
 * there was derived from fewer events (`eventCount`). The query that starts last begins
 * after every event's put finished, so it sees all N events; its put (n = N) is accepted,
 * and no put derived from a smaller set can overwrite it afterwards. Events are never
 * deleted, so the sets grow monotonically and a set of N events is the full set.
 *
 * Status events come from webhooks and from the reconciler (synthetic events, for webhooks
 * Datasaur never delivered). They form *transitions*: a run of same-status events holding
 * at most one webhook and any number of synthetic events is one transition, timed by the
 * member recorded first. So a webhook arriving after the reconciler stood in for it joins
 * that transition and moves nothing (status, statusAt and so the export stay put), while a
 * second webhook of the same status (a re-review) is a transition of its own.
 */

import type { Person } from '../webhook/events.ts';
import {
  PROJECT_STATUS_EVENTS,
  type ProjectCompletedEvent,
  type ProjectReviewedEvent,
  type ProjectStatus,
} from '../webhook/events.ts';
import {
  type ExportItem,
  type ProjectEventItem,
  type ProjectItem,
  RECONCILE_SOURCE,
  type StatusEventItem,
} from './items.ts';
import {
  EVENT_SORT_PREFIX,
  parseTimeAndEventId,
  projectKey,
  receivedAtOf,
  teamProjectKeys,
} from './keys.ts';

/**
 * What the project item copies from its events is capped, so it stays far below DynamoDB's
 * 400 KB however large each event's fields are (each event fits on its own, but a name from
 * one, tags from another and a reviewer from a third could add up past it, and every later
 * event of the project would then fail). The full values stay on the event items.
 */
export const MAX_COPIED_TEXT = 1_024;
export const MAX_COPIED_TAGS = 50;
/** Marks a copied text that was cut at MAX_COPIED_TEXT characters. */
const CUT = '…';

/** Copied text, capped; `null` (a field Datasaur sent empty) is none. */
function cappedText(value: string | null | undefined): string | undefined {
  if (value == null) return undefined;
  if (value.length <= MAX_COPIED_TEXT) return value;
  return `${value.slice(0, MAX_COPIED_TEXT - CUT.length)}${CUT}`;
}

function cappedTags(tags: readonly string[] | null | undefined): string[] | undefined {
  if (tags == null) return undefined;
  return tags?.slice(0, MAX_COPIED_TAGS).map((tag) => cappedText(tag) as string);
}

/** Same-instant status events resolve to the later step of the workflow. */
const STATUS_RANK: Record<ProjectStatus, number> = { CREATED: 0, COMPLETED: 1, REVIEWED: 2 };

interface TimedEvent<T> {
  readonly item: T;
  readonly time: string;
  readonly eventId: string;
}

/** A status change: one or more status events standing for the same step of the workflow. */
export interface Transition {
  readonly status: ProjectStatus;
  /** The event time of the member recorded first. */
  readonly time: string;
  readonly teamId: string;
  /** The webhook event among them, if one arrived. */
  readonly webhook?: ProjectEventItem;
  readonly members: readonly StatusEventItem[];
}

/** Derives the project item; `events` in any order, with or without duplicates' absence. */
export function deriveProject(
  projectId: string,
  events: readonly (StatusEventItem | ExportItem)[],
): ProjectItem {
  const timed = events.map((item) => ({ item, ...eventTimeOf(item) }));
  const transitions = transitionsOf(events);
  const exports = timed
    .filter((event): event is TimedEvent<ExportItem> => event.item.itemType === 'export')
    .sort(byTimeThenId);

  const statusEvents = transitions.flatMap((transition) => transition.members);
  const newest = transitions.at(-1);
  const newestOf = (status: ProjectStatus) =>
    transitions.filter((transition) => transition.status === status).at(-1);
  const created = transitions.find((transition) => transition.status === 'CREATED');
  const completed = newestOf('COMPLETED');
  const reviewed = newestOf('REVIEWED');
  const newestProject = <K extends 'name' | 'tags'>(field: K) =>
    statusEvents.findLast((event) => event.data.project[field] != null)?.data.project[field];
  const teamName = statusEvents.findLast((event) => event.data.team.name != null)?.data.team.name;
  const lastExport = exports.at(-1);
  const lastEventAt =
    timed
      .map((event) => event.time)
      .sort()
      .at(-1) ?? '';

  const status = newest?.status;
  const teamId = newest?.teamId;
  return {
    ...projectKey(projectId),
    itemType: 'project',
    projectId,
    ...definedOnly({
      name: cappedText(newestProject('name') as string | undefined),
      tags: cappedTags(newestProject('tags') as string[] | undefined),
      teamId,
      teamName: cappedText(teamName),
      status,
      statusAt: newest?.time,
      source: newest !== undefined && newest.webhook === undefined ? RECONCILE_SOURCE : undefined,
      createdAt: created?.time,
      completedAt: completed?.time,
      completedBy: completed?.webhook && personOf(completed.webhook),
      reviewedAt: reviewed?.time,
      reviewedBy: reviewed?.webhook && personOf(reviewed.webhook),
      lastExport: lastExport && {
        at: lastExport.time,
        ...definedOnly({
          documentId: cappedText(lastExport.item.data.documentId),
          userId: cappedText(lastExport.item.data.userId),
        }),
      },
    }),
    lastEventAt,
    eventCount: events.length,
    ...(newest !== undefined
      ? teamProjectKeys(newest.teamId, newest.status, newest.time, projectId)
      : {}),
  };
}

/** The project's status transitions, oldest first (see the module comment). */
export function transitionsOf(events: readonly (StatusEventItem | ExportItem)[]): Transition[] {
  const statusEvents = events
    .filter((item): item is StatusEventItem => item.itemType !== 'export')
    .map((item) => ({ item, ...eventTimeOf(item) }))
    .sort(byStatusOrder);
  const groups: { status: ProjectStatus; members: TimedEvent<StatusEventItem>[] }[] = [];
  for (const event of statusEvents) {
    const status = statusOf(event.item);
    const last = groups.at(-1);
    const joins =
      last !== undefined &&
      last.status === status &&
      (event.item.itemType === 'syntheticStatusEvent' ||
        last.members.every((member) => member.item.itemType === 'syntheticStatusEvent'));
    if (joins) last.members.push(event);
    else groups.push({ status, members: [event] });
  }
  return groups.map(({ status, members }) => {
    const first = [...members].sort(
      (left, right) =>
        compareText(recordedAt(left.item), recordedAt(right.item)) || byStatusOrder(left, right),
    )[0] as TimedEvent<StatusEventItem>;
    const webhook = members.find(
      (member): member is TimedEvent<ProjectEventItem> => member.item.itemType === 'projectEvent',
    );
    return {
      status,
      time: first.time,
      teamId: (members.at(-1) as TimedEvent<StatusEventItem>).item.teamId,
      ...(webhook === undefined ? {} : { webhook: webhook.item }),
      members: members.map((member) => member.item),
    };
  });
}

/** The transition the status event with sort key `sk` belongs to, or undefined. */
export function transitionOfEvent(
  events: readonly (StatusEventItem | ExportItem)[],
  sk: string,
): Transition | undefined {
  return transitionsOf(events).find((transition) =>
    transition.members.some((member) => member.sk === sk),
  );
}

function statusOf(item: StatusEventItem): ProjectStatus {
  return PROJECT_STATUS_EVENTS[item.eventType];
}

/** When the item was written: its receive time (webhooks) or reconcile time, in its feed key. */
function recordedAt(item: StatusEventItem): string {
  return receivedAtOf(item.gsi2sk);
}

/** The time an event sorts by is in its sort key: `data.timestamp`, or receipt for exports. */
function eventTimeOf(item: StatusEventItem | ExportItem): { time: string; eventId: string } {
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
  if (person == null) return undefined;
  return definedOnly({
    id: cappedText(person.id),
    email: cappedText(person.email),
    username: cappedText(person.username),
    name: cappedText(person.name),
  }) as Person;
}

function byTimeThenId(left: TimedEvent<unknown>, right: TimedEvent<unknown>): number {
  return compareText(left.time, right.time) || compareText(left.eventId, right.eventId);
}

function byStatusOrder(left: TimedEvent<StatusEventItem>, right: TimedEvent<StatusEventItem>) {
  return (
    compareText(left.time, right.time) ||
    STATUS_RANK[statusOf(left.item)] - STATUS_RANK[statusOf(right.item)] ||
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
