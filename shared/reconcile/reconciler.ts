/**
 * One reconcile run: pages Datasaur's projects of each team (every team the credentials can
 * see, or the configured ones), compares each with
 * the table (reconcile.ts), stores the synthetic status events that repair a gap through the
 * event store (the same derivation as webhooks), hands each repaired transition to the
 * export trigger, and records the run. Safe to run concurrently with the worker and with
 * itself: every write is a conditional put of an item both would write the same way.
 */
import { randomUUID } from 'node:crypto';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  type DynamoDBDocumentClient,
  PutCommand,
} from '@aws-sdk/lib-dynamodb';
import type { DatasaurClient } from '../datasaur/client.ts';
import { CredentialsMissingError } from '../datasaur/credentials-secret.ts';
import { getAllTeams } from '../datasaur/get-all-teams.ts';
import {
  checkNextCursor,
  type DatasaurProject,
  getProjects,
  pageAt,
} from '../datasaur/get-projects.ts';
import { limitConcurrency } from '../runtime/concurrency.ts';
import { describeError } from '../runtime/errors.ts';
import { createEventStore, type ProjectTransition } from '../store/event-store.ts';
import {
  createHourlyCounts,
  type HourlyTally,
  shardOf,
  tallyRecorded,
} from '../store/hourly-counts.ts';
import type { ProjectItem } from '../store/items.ts';
import { projectKey, reconcileRunKey } from '../store/keys.ts';
import { sdkTableDocuments } from '../store/sdk-table-documents.ts';
import { type ItemWrite, totalWriteUnits } from '../store/write-units.ts';
import type { ProjectStatus } from '../webhook/events.ts';
import { type Comparison, compareProject, syntheticEventsFor } from './reconcile.ts';

export const DEFAULT_RECONCILE_PAGE_SIZE = 50;
/**
 * CloudWatch metrics of each run (dimension `service`). The namespace is the default stack's;
 * a deployed stack uses its own name (`POWERTOOLS_METRICS_NAMESPACE`).
 */
export const RECONCILE_METRICS = {
  namespace: 'DatasaurWebhooks',
  service: 'datasaur-webhooks-reconcile',
  gapsFound: 'ReconcileGapsFound',
  repaired: 'ReconcileRepaired',
  projectsChecked: 'ReconcileProjectsChecked',
  failedRuns: 'ReconcileFailedRuns',
} as const;
export const DEFAULT_RECONCILE_LOOKBACK_DAYS = 30;
/** The run item lists at most this many gaps (the counts are always complete). */
export const MAX_LISTED_GAPS = 100;
/** BatchGetItem takes at most 100 keys. */
const BATCH_GET_LIMIT = 100;

export interface ReconcileOptions {
  readonly client: DatasaurClient;
  readonly documents: DynamoDBDocumentClient;
  readonly tableName: string;
  /**
   * Only these teams (`datasaurTeamIds`). @default every team the credentials can see
   * (getAllTeams)
   */
  readonly teamIds?: readonly string[];
  /** Projects not created or updated within this many days are skipped. @default 30 */
  readonly lookbackDays?: number;
  /** Projects asked for per getProjects call. @default 50 */
  readonly pageSize?: number;
  /** Find and report gaps, write nothing (no repair, no run item, no export). */
  readonly dryRun?: boolean;
  /** Repairs written at the same time. @default 10 */
  readonly concurrency?: number;
  /** Called after each page, e.g. for a progress line. */
  readonly onPage?: (progress: PageProgress) => void;
  /**
   * Called for each repaired status transition: the one place the reconciler fires the
   * export, as the worker does for a webhook's transition.
   */
  readonly onTransition?: (transition: ProjectTransition) => Promise<void>;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

export interface PageProgress {
  readonly teamId: string;
  readonly page: number;
  readonly projects: number;
  readonly checked: number;
  readonly gaps: number;
}

export interface ReconcileGap {
  readonly projectId: string;
  readonly teamId: string;
  readonly kind: 'missing' | 'behind';
  readonly datasaurStatus: string;
  readonly expected: ProjectStatus;
  readonly stored?: ProjectStatus;
}

/** The `reconcile` item: what one run checked, found, repaired and failed on. */
export interface ReconcileRun {
  readonly pk: string;
  readonly sk: string;
  readonly itemType: 'reconcileRun';
  readonly runId: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly outcome: 'succeeded' | 'failed';
  readonly dryRun: boolean;
  /** The teams checked: the configured ones, else every team the credentials can see. */
  readonly teamIds: readonly string[];
  readonly lookbackDays: number;
  /** getProjects calls answered. */
  readonly pages: number;
  /** Projects compared with the table (inside the look-back window). */
  readonly projectsChecked: number;
  readonly projectsOutsideWindow: number;
  readonly compared: Readonly<Record<Comparison, number>>;
  readonly gapsFound: number;
  readonly repaired: number;
  /** Transitions handed to the export trigger. */
  readonly transitions: number;
  /** Write units of the repairs (the run item itself adds one). */
  readonly writeUnits: number;
  readonly gaps: readonly ReconcileGap[];
  readonly errors: readonly string[];
}

export async function reconcile(options: ReconcileOptions): Promise<ReconcileRun> {
  const now = options.now ?? (() => new Date());
  const startedAt = now().toISOString();
  const runId = randomUUID();
  const lookbackDays = options.lookbackDays ?? DEFAULT_RECONCILE_LOOKBACK_DAYS;
  const windowStart = new Date(Date.parse(startedAt) - lookbackDays * 86_400_000).toISOString();
  const pageSize = options.pageSize ?? DEFAULT_RECONCILE_PAGE_SIZE;
  const store = createEventStore(sdkTableDocuments(options.documents), options.tableName);
  // The stand-ins it stores count in the hourly counts like the worker's events, once per run.
  const tally: HourlyTally = new Map();
  const limited = limitConcurrency(options.concurrency ?? 10);

  const compared: Record<Comparison, number> = { missing: 0, behind: 0, ahead: 0, matching: 0 };
  const gaps: ReconcileGap[] = [];
  const errors: string[] = [];
  const writes: ItemWrite[] = [];
  let pages = 0;
  let projectsChecked = 0;
  let projectsOutsideWindow = 0;
  let repaired = 0;
  let transitions = 0;

  async function storedProjects(ids: readonly string[]): Promise<Map<string, ProjectItem>> {
    const found = new Map<string, ProjectItem>();
    for (let start = 0; start < ids.length; start += BATCH_GET_LIMIT) {
      let keys: Record<string, unknown>[] | undefined = ids
        .slice(start, start + BATCH_GET_LIMIT)
        .map((id) => ({ ...projectKey(id) }));
      while (keys !== undefined && keys.length > 0) {
        const answer: BatchGetCommandOutput = await options.documents.send(
          new BatchGetCommand({ RequestItems: { [options.tableName]: { Keys: keys } } }),
        );
        for (const item of answer.Responses?.[options.tableName] ?? []) {
          found.set(String(item.projectId), item as ProjectItem);
        }
        keys = answer.UnprocessedKeys?.[options.tableName]?.Keys;
      }
    }
    return found;
  }

  async function repair(project: DatasaurProject, stored: ProjectItem | undefined) {
    const comparison = compareProject(project, stored);
    compared[comparison.comparison] += 1;
    if (comparison.comparison !== 'missing' && comparison.comparison !== 'behind') return;
    gaps.push({
      projectId: project.id,
      teamId: project.team?.id ?? '',
      kind: comparison.comparison,
      datasaurStatus: comparison.datasaurStatus,
      expected: comparison.expected,
      ...(comparison.stored === undefined ? {} : { stored: comparison.stored }),
    });
    if (options.dryRun === true) return;
    try {
      for (const item of syntheticEventsFor(project, comparison, stored, now().toISOString())) {
        const recorded = await store.recordSynthetic(item);
        writes.push(...recorded.writes);
        tallyRecorded(tally, recorded);
        if (recorded.transition !== undefined && options.onTransition !== undefined) {
          await options.onTransition(recorded.transition);
          transitions += 1;
        }
      }
      repaired += 1;
    } catch (error) {
      errors.push(`project ${project.id}: ${describeError(error)}`);
    }
  }

  const inWindow = (project: DatasaurProject) => {
    const latest = [project.updatedDate, project.completedDate, project.createdDate]
      // A value that is no date (the API's answer is data too) is left out, as apiTimeOf does.
      .filter(
        (value): value is string => typeof value === 'string' && !Number.isNaN(Date.parse(value)),
      )
      .map((value) => new Date(value).toISOString())
      .sort()
      .at(-1);
    // No date at all: checked, rather than silently never reconciled.
    return latest === undefined || latest >= windowStart;
  };

  // Missing credentials are no run's failure: the caller says the reconciler waits for them.
  // Any other failure to list the teams is recorded as this run's, like a failed page.
  let teamIds: readonly string[] = [];
  if (options.teamIds !== undefined && options.teamIds.length > 0) teamIds = options.teamIds;
  else {
    try {
      teamIds = (await getAllTeams(options.client)).map((team) => team.id);
    } catch (error) {
      if (error instanceof CredentialsMissingError) throw error;
      errors.push(`listing the teams the credentials can see: ${describeError(error)}`);
    }
  }
  for (const teamId of teamIds) {
    let cursor: string | null = null;
    // The page being read (1 for the first), as an error names it.
    let page = 0;
    try {
      do {
        page += 1;
        const answer = await getProjects(options.client, {
          ...pageAt(cursor, pageSize),
          filter: { teamId },
        });
        pages += 1;
        const candidates = answer.nodes.filter(inWindow);
        projectsOutsideWindow += answer.nodes.length - candidates.length;
        const stored = await storedProjects(candidates.map((project) => project.id));
        await Promise.all(
          candidates.map((project) =>
            // Datasaur's `Project.team` is nullable; the page was asked for this team's projects.
            limited(() =>
              repair(
                { ...project, team: project.team ?? { id: teamId, name: null } },
                stored.get(project.id),
              ),
            ),
          ),
        );
        projectsChecked += candidates.length;
        options.onPage?.({
          teamId,
          page,
          projects: answer.nodes.length,
          checked: projectsChecked,
          gaps: gaps.length,
        });
        cursor = checkNextCursor(cursor, answer);
      } while (cursor !== null);
    } catch (error) {
      if (error instanceof CredentialsMissingError) throw error;
      // The pages read so far are repaired; the next run starts from the first page again.
      errors.push(`team ${teamId}, page ${page}: ${describeError(error)}`);
    }
  }

  if (tally.size > 0) {
    try {
      const counts = createHourlyCounts(sdkTableDocuments(options.documents), options.tableName);
      writes.push(...(await counts.add(tally, shardOf(runId))));
    } catch (error) {
      errors.push(`hourly counts: ${describeError(error)}`);
    }
  }

  const runKey = reconcileRunKey(startedAt, runId);
  const run: ReconcileRun = {
    ...runKey,
    itemType: 'reconcileRun',
    runId,
    startedAt,
    finishedAt: now().toISOString(),
    outcome: errors.length === 0 ? 'succeeded' : 'failed',
    dryRun: options.dryRun === true,
    teamIds: [...teamIds],
    lookbackDays,
    pages,
    projectsChecked,
    projectsOutsideWindow,
    compared,
    gapsFound: gaps.length,
    repaired,
    transitions,
    writeUnits: totalWriteUnits(writes),
    gaps: gaps.slice(0, MAX_LISTED_GAPS),
    errors: errors.slice(0, MAX_LISTED_GAPS),
  };
  if (options.dryRun !== true) {
    await options.documents.send(new PutCommand({ TableName: options.tableName, Item: run }));
  }
  return run;
}
