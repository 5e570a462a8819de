/**
 * One enrichment pass: resolves the documents the worker recorded as UNRESOLVED to their
 * Datasaur project, fills the project into the label items stored before, and keeps the
 * projects' label counters current (label-counts.ts). Each team's projects are read
 * (`getProjects`, then `getProjectCabinets` for each) from where the last pass stopped, on
 * past the last one to the first (project-walk.ts); a document belongs to the project whose
 * cabinets name its id or its originId. Bounded: at most `maxApiCalls` Datasaur requests and
 * `maxItemUpdates` item updates a pass; what is left waits for the next pass. A document no
 * project of its team lists, or that Datasaur failing kept from being looked for, is retried
 * later, its wait doubling each time; one the request budget or missing credentials kept
 * from being looked for stays due, with no attempt counted.
 */
import type { DatasaurClient, GraphqlOperation } from '../datasaur/client.ts';
import {
  CredentialsMalformedError,
  CredentialsMissingError,
} from '../datasaur/credentials-secret.ts';
import { CredentialsRefusedError } from '../datasaur/errors.ts';
import {
  type Cabinet,
  getProjectCabinets,
  projectDocumentIds,
} from '../datasaur/get-project-cabinets.ts';
import { METRICS_NAMESPACE } from '../store/batch-figures.ts';
import type { DocumentProjectItem } from '../store/document-projects.ts';
import {
  documentPartition,
  documentProjectKey,
  PENDING_DOCUMENTS_PARTITION,
  pendingDocumentKeys,
  projectLabelKeys,
} from '../store/keys.ts';
import { TABLE } from '../store/table.ts';
import { isConditionalCheckFailed, type TableDocuments } from '../store/table-documents.ts';
import { createLabelCounts, type ProjectLabelCounts } from './label-counts.ts';
import {
  createProjectWalks,
  type ProjectWalkItem,
  positionOf,
  teamKey,
  type WalkOutcome,
  walkProjects,
} from './project-walk.ts';

export type { ProjectLabelCounts } from './label-counts.ts';

export interface EnrichOptions {
  readonly documents: TableDocuments;
  readonly tableName: string;
  readonly datasaur: DatasaurClient;
  /** Datasaur requests a pass may make. @default 50 */
  readonly maxApiCalls?: number;
  /** Label items a pass may fill in. @default 1000 */
  readonly maxItemUpdates?: number;
  /** Pending documents a pass reads. @default 100 */
  readonly maxDocuments?: number;
  /** Counted projects a pass checks for label events stored since their count. @default 100 */
  readonly maxCountChecks?: number;
  /** A project's label count older than this is redone. @default 86400 (a day) */
  readonly maxCountAgeSeconds?: number;
  /** First wait after a failed resolution; doubles per attempt. @default 60 */
  readonly retryBaseSeconds?: number;
  /** Longest wait between attempts. @default 21600 (6 hours) */
  readonly retryMaxSeconds?: number;
  /**
   * How long after resolving a document its items are still checked for a label event the
   * worker stored without the project (it read the mapping just before it was written): at
   * least a worker invocation's time limit. @default 900
   */
  readonly fillGraceSeconds?: number;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

/** A project whose cabinets Datasaur would not give: passed over, read again next time round. */
export interface SkippedProject {
  readonly teamId?: string;
  readonly projectId: string;
  readonly error: string;
}

export interface EnrichSummary {
  /** Pending documents read. */
  readonly pending: number;
  readonly resolved: number;
  /**
   * Documents whose wait doubled: no project of their team lists them (of those read since the
   * walk went past the team's last project), or Datasaur failed.
   */
  readonly deferred: number;
  /** Documents not looked for (the request budget spent, or no usable credentials): still due. */
  readonly unreached: number;
  /** Label items given their project. */
  readonly filled: number;
  /** Documents whose items are all filled (no longer pending). */
  readonly finished: number;
  readonly apiCalls: number;
  /** Projects recounted, with their counts. */
  readonly projects: readonly ProjectLabelCounts[];
  /** Projects passed over because their cabinets call failed. */
  readonly skippedProjects: readonly SkippedProject[];
  /** What stopped resolution, if anything (the pass still fills and counts). */
  readonly error?: string;
  /**
   * What `error` was: the pass's request budget spent (not a failure), Datasaur failing, or
   * the credentials (missing, malformed or refused: only corrected credentials help).
   */
  readonly stoppedBy?: 'budget' | 'datasaur' | 'credentials';
}

/** The scheduled function's CloudWatch figures (functions/enrich), named once. */
export const ENRICH_METRICS = {
  namespace: METRICS_NAMESPACE,
  service: 'datasaur-webhooks-enrich',
  /** 1 when Datasaur or the table failed the pass, else 0. */
  failedRuns: 'EnrichFailedRuns',
  documentsResolved: 'EnrichDocumentsResolved',
  labelEventsFilled: 'EnrichLabelEventsFilled',
  datasaurRequests: 'EnrichDatasaurRequests',
} as const;

/**
 * Cabinets calls failing in a row that mean Datasaur itself is failing, not one project: the
 * team's walk stops there instead of passing over every project of an outage.
 */
const FAILURES_MEANING_OUTAGE = 3;

/** The pass has spent its Datasaur requests. */
class ApiBudgetSpentError extends Error {
  override readonly name = 'ApiBudgetSpentError';
}

/** No usable credentials: only correcting them helps, so no document is made to wait longer. */
function isCredentialsProblem(error: unknown): boolean {
  return (
    error instanceof CredentialsMissingError ||
    error instanceof CredentialsMalformedError ||
    error instanceof CredentialsRefusedError
  );
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

interface Halt {
  readonly by: NonNullable<EnrichSummary['stoppedBy']>;
  readonly error: string;
}

function haltFor(error: unknown, maxApiCalls: number): Halt {
  if (error instanceof ApiBudgetSpentError) {
    return {
      by: 'budget',
      error: `stopped after ${maxApiCalls} Datasaur requests; the rest waits for the next pass`,
    };
  }
  if (isCredentialsProblem(error)) {
    return { by: 'credentials', error: `Datasaur credentials: ${messageOf(error)}` };
  }
  return { by: 'datasaur', error: `Datasaur: ${messageOf(error)}` };
}

export async function runEnrichment(options: EnrichOptions): Promise<EnrichSummary> {
  const { documents, tableName } = options;
  const now = (options.now ?? (() => new Date()))();
  const nowIso = now.toISOString();
  const maxApiCalls = options.maxApiCalls ?? 50;
  let itemUpdatesLeft = options.maxItemUpdates ?? 1000;
  const retryBase = options.retryBaseSeconds ?? 60;
  const retryMax = options.retryMaxSeconds ?? 21_600;
  const graceMs = (options.fillGraceSeconds ?? 900) * 1000;

  let apiCalls = 0;
  const datasaur: DatasaurClient = {
    baseUrl: options.datasaur.baseUrl,
    request<TData>(operation: GraphqlOperation, variables: Record<string, unknown>) {
      if (apiCalls >= maxApiCalls) throw new ApiBudgetSpentError('API calls of this pass spent');
      apiCalls += 1;
      return options.datasaur.request<TData>(operation, variables);
    },
  };

  const pending = await pendingDocuments(options.maxDocuments ?? 100);
  const unresolved = pending.filter((mapping) => mapping.status === 'UNRESOLVED');
  const filling = new Map(
    pending
      .filter((mapping) => mapping.status === 'FILLING' && mapping.projectId !== undefined)
      .map((mapping) => [mapping.documentId, mapping]),
  );

  // Resolution, team by team, each walking on from where the last pass stopped.
  const walks = createProjectWalks(documents, tableName);
  const walked: ReadonlyMap<string, ProjectWalkItem> =
    unresolved.length === 0 ? new Map() : await walks.read();
  const teams = new Map<string | undefined, DocumentProjectItem[]>();
  for (const mapping of unresolved) {
    teams.set(mapping.teamId, [...(teams.get(mapping.teamId) ?? []), mapping]);
  }
  // The team walked longest ago first: one team's many projects cannot starve the others.
  const walkedAt = (teamId: string | undefined): string =>
    walked.get(teamKey(teamId))?.walkedAt ?? '';
  const teamsInTurn = [...teams].sort(([left], [right]) =>
    walkedAt(left) < walkedAt(right) ? -1 : walkedAt(left) > walkedAt(right) ? 1 : 0,
  );
  let halt: Halt | undefined;
  let resolved = 0;
  let deferred = 0;
  let unreached = 0;
  const skippedProjects: SkippedProject[] = [];
  for (const [teamId, mappings] of teamsInTurn) {
    const left = new Map(mappings.map((mapping) => [mapping.documentId, mapping]));
    let outcome: WalkOutcome | undefined;
    if (halt === undefined) {
      outcome = await resolveTeam(teamId, left);
      if (outcome.error !== undefined) halt = haltFor(outcome.error, maxApiCalls);
    }
    for (const mapping of left.values()) {
      if (halt?.by === 'credentials' || (halt?.by === 'budget' && outcome?.passedEnd !== true)) {
        unreached += 1;
        continue;
      }
      const team = `team ${teamId ?? '(none)'}`;
      await deferResolution(
        mapping,
        halt?.by === 'datasaur'
          ? halt.error
          : outcome?.complete === true
            ? `no project of ${team} lists it`
            : `no project of ${team} read so far lists it`,
      );
      deferred += 1;
    }
  }

  // Filling: the label items each resolved document had before its project was known.
  let filled = 0;
  let finished = 0;
  const touched = new Set<string>();
  for (const mapping of filling.values()) {
    const projectId = mapping.projectId as string;
    touched.add(projectId);
    const result = await fillDocument(mapping.documentId, projectId);
    filled += result.filled;
    const settled = Date.parse(mapping.resolvedAt ?? nowIso) + graceMs <= now.getTime();
    if (result.complete && result.filled === 0 && settled) {
      await finish(mapping);
      finished += 1;
    }
  }

  // Counting: the projects filled in, then those with label events stored since their count.
  const labelCounts = createLabelCounts({
    documents,
    tableName,
    now,
    ...(options.maxCountChecks !== undefined && { maxCountChecks: options.maxCountChecks }),
    ...(options.maxCountAgeSeconds !== undefined && {
      maxCountAgeSeconds: options.maxCountAgeSeconds,
    }),
  });
  const projects: ProjectLabelCounts[] = [];
  for (const projectId of touched) projects.push(await labelCounts.recount(projectId));
  projects.push(...(await labelCounts.recountChanged(touched)));

  return {
    pending: pending.length,
    resolved,
    deferred,
    unreached,
    filled,
    finished,
    apiCalls,
    projects,
    skippedProjects,
    ...(halt !== undefined && { error: halt.error, stoppedBy: halt.by }),
  };

  /**
   * Walks the team's projects from where its last walk stopped until every document in `left`
   * is found (removing each found), and keeps where it stopped.
   */
  async function resolveTeam(
    teamId: string | undefined,
    left: Map<string, DocumentProjectItem>,
  ): Promise<WalkOutcome> {
    const previous = walked.get(teamKey(teamId));
    const start = positionOf(previous);
    const originIds = new Map<string, string | undefined>();
    for (const mapping of left.values()) {
      originIds.set(mapping.documentId, await originIdOf(mapping));
    }
    let failuresInARow = 0;
    const outcome = await walkProjects(datasaur, teamId, start, async (project) => {
      let cabinets: readonly Cabinet[];
      try {
        cabinets = await getProjectCabinets(datasaur, project.id);
        failuresInARow = 0;
      } catch (error) {
        failuresInARow += 1;
        const stopsTheWalk =
          error instanceof ApiBudgetSpentError ||
          isCredentialsProblem(error) ||
          failuresInARow >= FAILURES_MEANING_OUTAGE;
        if (stopsTheWalk) throw error;
        skippedProjects.push({
          ...(teamId !== undefined && { teamId }),
          projectId: project.id,
          error: messageOf(error),
        });
        return 'next';
      }
      // Datasaur lists the caller's own cabinets: another labeler's copy of a document is
      // known there by the originId it shares with the caller's copy, not by its own id.
      const known = projectDocumentIds(cabinets);
      for (const [documentId, mapping] of left) {
        const originId = originIds.get(documentId);
        if (!known.has(documentId) && !(originId !== undefined && known.has(originId))) continue;
        filling.set(documentId, await startFilling(mapping, project.id));
        left.delete(documentId);
        resolved += 1;
      }
      return left.size === 0 ? 'stop' : 'next';
    });
    const moved =
      outcome.position.cursor !== start.cursor || outcome.position.index !== start.index;
    // Stopped before reading anything (no credentials, no budget left): not a turn taken.
    if (moved || outcome.error === undefined) {
      await walks.save(teamId, outcome.position, previous, nowIso);
    }
    return outcome;
  }

  /** The mapping's originId; for one recorded before mappings kept it, its label event's. */
  async function originIdOf(mapping: DocumentProjectItem): Promise<string | undefined> {
    if (mapping.originId !== undefined) return mapping.originId;
    const { Items = [] } = await documents.query({
      TableName: tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': documentPartition(mapping.documentId) },
      ProjectionExpression: '#data.#document.originId',
      ExpressionAttributeNames: { '#data': 'data', '#document': 'document' },
      Limit: 1,
    });
    const [labelEvent] = Items as { data?: { document?: { originId?: unknown } } }[];
    const originId = labelEvent?.data?.document?.originId;
    return typeof originId === 'string' && originId !== '' ? originId : undefined;
  }

  async function pendingDocuments(limit: number): Promise<DocumentProjectItem[]> {
    const { teamProjects } = TABLE.indexes;
    const { Items = [] } = await documents.query({
      TableName: tableName,
      IndexName: teamProjects.indexName,
      KeyConditionExpression: 'gsi1pk = :pending AND gsi1sk <= :due',
      ExpressionAttributeValues: {
        ':pending': PENDING_DOCUMENTS_PARTITION,
        ':due': `${nowIso}~`,
      },
      Limit: limit,
    });
    return Items as DocumentProjectItem[];
  }

  /** The mapping knows its project from now on: the worker writes it into new label items. */
  async function startFilling(
    mapping: DocumentProjectItem,
    projectId: string,
  ): Promise<DocumentProjectItem> {
    const { Attributes } = await documents.update({
      TableName: tableName,
      Key: documentProjectKey(mapping.documentId),
      UpdateExpression:
        'SET #status = :filling, projectId = :project, resolvedAt = :now, gsi1sk = :due REMOVE lastError',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':filling': 'FILLING',
        ':project': projectId,
        ':now': nowIso,
        ':due': pendingDocumentKeys(nowIso, mapping.documentId).gsi1sk,
      },
      ReturnValues: 'ALL_NEW',
    });
    return Attributes as DocumentProjectItem;
  }

  async function deferResolution(mapping: DocumentProjectItem, reason: string): Promise<void> {
    const attempts = mapping.attempts + 1;
    const waitSeconds = Math.min(retryMax, retryBase * 2 ** (attempts - 1));
    const dueAt = new Date(now.getTime() + waitSeconds * 1000).toISOString();
    await documents.update({
      TableName: tableName,
      Key: documentProjectKey(mapping.documentId),
      UpdateExpression: 'SET attempts = :attempts, lastError = :reason, gsi1sk = :due',
      ConditionExpression: '#status = :unresolved',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':attempts': attempts,
        ':reason': reason.slice(0, 500),
        ':due': pendingDocumentKeys(dueAt, mapping.documentId).gsi1sk,
        ':unresolved': 'UNRESOLVED',
      },
    });
  }

  /** Gives the document's label items without a project theirs; stops at the pass's budget. */
  async function fillDocument(
    documentId: string,
    projectId: string,
  ): Promise<{ filled: number; complete: boolean }> {
    let count = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      if (itemUpdatesLeft <= 0) return { filled: count, complete: false };
      const page = await documents.query({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk',
        FilterExpression: 'itemType = :label AND attribute_not_exists(projectId)',
        ExpressionAttributeValues: {
          ':pk': documentPartition(documentId),
          ':label': 'labelEvent',
        },
        ProjectionExpression: 'pk, sk',
        Limit: itemUpdatesLeft,
        ExclusiveStartKey: startKey,
      });
      for (const { pk, sk } of page.Items ?? []) {
        itemUpdatesLeft -= 1;
        try {
          await documents.update({
            TableName: tableName,
            Key: { pk, sk },
            UpdateExpression: 'SET projectId = :project, gsi4pk = :gsi4pk',
            ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(projectId)',
            ExpressionAttributeValues: {
              ':project': projectId,
              ':gsi4pk': projectLabelKeys(projectId).gsi4pk,
            },
          });
          count += 1;
        } catch (caught) {
          // Filled by a concurrent pass, or written by the worker with its project meanwhile.
          if (!isConditionalCheckFailed(caught)) throw caught;
        }
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return { filled: count, complete: true };
  }

  async function finish(mapping: DocumentProjectItem): Promise<void> {
    await documents.update({
      TableName: tableName,
      Key: documentProjectKey(mapping.documentId),
      UpdateExpression: 'SET #status = :resolved REMOVE gsi1pk, gsi1sk',
      ConditionExpression: '#status = :filling',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':resolved': 'RESOLVED', ':filling': 'FILLING' },
    });
  }
}
