/**
 * What the reconciler decides, with no I/O: how Datasaur's project statuses map onto this
 * product's, whether the table is missing a project or lags behind Datasaur, and the
 * synthetic status events that repair a gap. The mapping lives here and nowhere else.
 */
import { createHash } from 'node:crypto';
import type { DatasaurProject, DatasaurProjectStatus } from '../datasaur/get-projects.ts';
import {
  type ProjectItem,
  RECONCILE_SOURCE,
  type SyntheticStatusEventItem,
} from '../store/items.ts';
import { feedKeys, projectEventKey } from '../store/keys.ts';
import type { ProjectStatus } from '../webhook/events.ts';

/**
 * Datasaur's `GqlProjectStatus` → this product's status. Datasaur does not document how its
 * statuses relate to the webhooks, so this is a decision (docs/reconcile.md):
 * - CREATED, IN_PROGRESS: labelers have not finished → CREATED (PROJECT_CREATED was due);
 * - REVIEW_READY, IN_REVIEW: the labelers marked the project complete and review has not
 *   finished → COMPLETED (PROJECT_COMPLETED was due);
 * - COMPLETE: the project is done, which in reviewer mode means the reviewer marked it
 *   complete → REVIEWED (PROJECT_REVIEWED was due).
 */
export const STATUS_FROM_DATASAUR: Readonly<Record<DatasaurProjectStatus, ProjectStatus>> = {
  CREATED: 'CREATED',
  IN_PROGRESS: 'CREATED',
  REVIEW_READY: 'COMPLETED',
  IN_REVIEW: 'COMPLETED',
  COMPLETE: 'REVIEWED',
};

const EVENT_TYPE_OF: Readonly<Record<ProjectStatus, SyntheticStatusEventItem['eventType']>> = {
  CREATED: 'PROJECT_CREATED',
  COMPLETED: 'PROJECT_COMPLETED',
  REVIEWED: 'PROJECT_REVIEWED',
};

const STATUS_RANK: Readonly<Record<ProjectStatus, number>> = {
  CREATED: 0,
  COMPLETED: 1,
  REVIEWED: 2,
};

/** How the table compares with Datasaur for one project. */
export type Comparison =
  /** Datasaur has the project, the table does not (its PROJECT_CREATED never arrived). */
  | 'missing'
  /** Datasaur's status is further along than the table's. */
  | 'behind'
  /** The table is further along (a webhook newer than the API's view): nothing to do. */
  | 'ahead'
  | 'matching';

export const COMPARISONS: readonly Comparison[] = ['missing', 'behind', 'ahead', 'matching'];

export interface ProjectComparison {
  readonly comparison: Comparison;
  readonly datasaurStatus: DatasaurProjectStatus;
  /** Datasaur's status in this product's terms. */
  readonly expected: ProjectStatus;
  /** The table's status, when it has the project. */
  readonly stored?: ProjectStatus;
}

export function compareProject(
  project: DatasaurProject,
  stored: Pick<ProjectItem, 'status'> | undefined,
): ProjectComparison {
  const expected = STATUS_FROM_DATASAUR[project.status];
  const base = { datasaurStatus: project.status, expected };
  if (stored?.status === undefined) return { ...base, comparison: 'missing' };
  const difference = STATUS_RANK[expected] - STATUS_RANK[stored.status];
  return {
    ...base,
    stored: stored.status,
    comparison: difference > 0 ? 'behind' : difference < 0 ? 'ahead' : 'matching',
  };
}

/** The time a synthetic event of `status` takes from the API's view, and which field it was. */
function apiTimeOf(
  project: DatasaurProject,
  status: ProjectStatus,
): { time: string; from: SyntheticStatusEventItem['timestampFrom'] } | undefined {
  const fields: readonly ('createdDate' | 'updatedDate' | 'completedDate')[] =
    status === 'CREATED'
      ? ['createdDate']
      : status === 'REVIEWED'
        ? ['completedDate', 'updatedDate']
        : ['updatedDate'];
  for (const field of fields) {
    const value = project[field];
    if (value !== null && value !== undefined && !Number.isNaN(Date.parse(value))) {
      return { time: new Date(value).toISOString(), from: field };
    }
  }
  return undefined;
}

/**
 * The synthetic events that bring the table to Datasaur's status: PROJECT_CREATED for a
 * missing project, then the event of Datasaur's status when it is past CREATED. An event
 * never sorts before the table's current status (`storedStatusAt`), so the derivation moves
 * the project forward. Its id depends only on the project, the status and the table state
 * it repairs, so two runs repairing the same gap write the same item.
 */
export function syntheticEventsFor(
  project: DatasaurProject,
  comparison: ProjectComparison,
  stored: Pick<ProjectItem, 'status' | 'statusAt'> | undefined,
  reconciledAt: string,
): SyntheticStatusEventItem[] {
  if (comparison.comparison !== 'missing' && comparison.comparison !== 'behind') return [];
  const statuses: ProjectStatus[] =
    comparison.comparison === 'missing' && comparison.expected !== 'CREATED'
      ? ['CREATED', comparison.expected]
      : [comparison.expected];
  const teamId = project.team?.id;
  if (teamId === undefined) return [];
  const basis = `${stored?.status ?? 'none'}@${stored?.statusAt ?? 'none'}`;
  let notBefore = stored?.statusAt;
  return statuses.map((status) => {
    const fromApi = apiTimeOf(project, status);
    let timestamp = fromApi?.time ?? reconciledAt;
    if (notBefore !== undefined && timestamp <= notBefore) {
      timestamp = new Date(Date.parse(notBefore) + 1).toISOString();
    }
    notBefore = timestamp;
    const eventId = syntheticEventId(project.id, status, basis);
    return {
      ...projectEventKey(project.id, timestamp, eventId),
      ...feedKeys(reconciledAt, eventId),
      itemType: 'syntheticStatusEvent',
      eventType: EVENT_TYPE_OF[status],
      eventId,
      receivedAt: reconciledAt,
      eventTime: timestamp,
      source: RECONCILE_SOURCE,
      projectId: project.id,
      teamId,
      data: {
        timestamp,
        project: {
          id: project.id,
          name: project.name,
          ...(project.tags === null ? {} : { tags: project.tags.map((tag) => tag.name) }),
        },
        team: {
          id: teamId,
          ...(project.team?.name == null ? {} : { name: project.team.name }),
        },
      },
      datasaurStatus: project.status,
      timestampFrom: fromApi?.from ?? 'reconciledAt',
    };
  });
}

/** `reconcile-<STATUS>-<hash>`: never a webhook's id (those are 64 hex digits). */
export function syntheticEventId(projectId: string, status: ProjectStatus, basis: string): string {
  const digest = createHash('sha256').update(`${projectId}\n${status}\n${basis}`).digest('hex');
  return `reconcile-${status}-${digest.slice(0, 20)}`;
}
