/**
 * One enrichment pass: resolves the documents the worker recorded as UNRESOLVED to their
 * Datasaur project (a team's projects with `getProjects`, then each project's cabinets with
 * `getProjectCabinets`, each cached for the pass), fills the project into the label items
 * stored before, and recounts the projects it touched. Bounded: at most `maxApiCalls`
 * Datasaur requests and `maxItemUpdates` item updates a pass; what is left waits for the
 * next pass. A document that cannot be resolved (an outage, or no project of its team names
 * it) is retried later, its wait doubling each time.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { DatasaurClient, GraphqlOperation } from '../datasaur/client.ts';
import { getProjectCabinets, projectDocumentIds } from '../datasaur/get-project-cabinets.ts';
import { getAllProjects } from '../datasaur/get-projects.ts';
import { METRICS_NAMESPACE } from '../store/batch-figures.ts';
import type { DocumentProjectItem } from '../store/document-projects.ts';
import {
  documentPartition,
  documentProjectKey,
  PENDING_DOCUMENTS_PARTITION,
  pendingDocumentKeys,
  projectLabelCountsKey,
  projectLabelKeys,
  projectPartition,
} from '../store/keys.ts';
import { readingIndex, TABLE } from '../store/table.ts';

export interface EnrichOptions {
  readonly documents: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly datasaur: DatasaurClient;
  /** Datasaur requests a pass may make. @default 50 */
  readonly maxApiCalls?: number;
  /** Label items a pass may fill in. @default 1000 */
  readonly maxItemUpdates?: number;
  /** Pending documents a pass reads. @default 100 */
  readonly maxDocuments?: number;
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

export interface EnrichSummary {
  /** Pending documents read. */
  readonly pending: number;
  readonly resolved: number;
  /** Documents no project of their team names, or not reached because of an error. */
  readonly deferred: number;
  /** Label items given their project. */
  readonly filled: number;
  /** Documents whose items are all filled (no longer pending). */
  readonly finished: number;
  readonly apiCalls: number;
  /** Projects recounted, with their counts. */
  readonly projects: readonly ProjectLabelCounts[];
  /** The Datasaur error that stopped resolution, if any (the pass still fills and counts). */
  readonly error?: string;
  /** What `error` was: the pass's request budget spent (not a failure), or Datasaur failing. */
  readonly stoppedBy?: 'budget' | 'datasaur';
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

export interface ProjectLabelCounts {
  readonly projectId: string;
  readonly documentCount: number;
  readonly labelEventCount: number;
}

/** The pass has spent its Datasaur requests. */
class ApiBudgetSpentError extends Error {
  override readonly name = 'ApiBudgetSpentError';
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

  // Resolution, team by team: each team's project list and each project's cabinets once a pass.
  let error: string | undefined;
  let stoppedBy: EnrichSummary['stoppedBy'];
  let resolved = 0;
  let deferred = 0;
  const teams = new Map<string | undefined, DocumentProjectItem[]>();
  for (const mapping of unresolved) {
    teams.set(mapping.teamId, [...(teams.get(mapping.teamId) ?? []), mapping]);
  }
  for (const [teamId, mappings] of teams) {
    const left = new Map(mappings.map((mapping) => [mapping.documentId, mapping]));
    if (error === undefined) {
      try {
        for await (const project of getAllProjects(
          datasaur,
          teamId === undefined ? {} : { teamId },
        )) {
          const ids = projectDocumentIds(await getProjectCabinets(datasaur, project.id));
          for (const [documentId, mapping] of left) {
            if (!ids.has(documentId)) continue;
            const started = await startFilling(mapping, project.id);
            left.delete(documentId);
            resolved += 1;
            filling.set(documentId, started);
          }
          if (left.size === 0) break;
        }
      } catch (caught) {
        stoppedBy = caught instanceof ApiBudgetSpentError ? 'budget' : 'datasaur';
        error =
          caught instanceof ApiBudgetSpentError
            ? `stopped after ${maxApiCalls} Datasaur requests; the rest waits for the next pass`
            : `Datasaur: ${caught instanceof Error ? caught.message : String(caught)}`;
      }
    }
    for (const mapping of left.values()) {
      // Unreached because of an error or the budget, or named by no project of the team yet.
      await deferResolution(mapping, error ?? `no project of team ${teamId ?? '(none)'} lists it`);
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

  const projects: ProjectLabelCounts[] = [];
  for (const projectId of touched) projects.push(await recount(projectId));

  return {
    pending: pending.length,
    resolved,
    deferred,
    filled,
    finished,
    apiCalls,
    projects,
    ...(error !== undefined && { error, stoppedBy }),
  };

  async function pendingDocuments(limit: number): Promise<DocumentProjectItem[]> {
    const { teamProjects } = TABLE.indexes;
    const { Items = [] } = await documents.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: teamProjects.indexName,
        KeyConditionExpression: 'gsi1pk = :pending AND gsi1sk <= :due',
        ExpressionAttributeValues: {
          ':pending': PENDING_DOCUMENTS_PARTITION,
          ':due': `${nowIso}~`,
        },
        Limit: limit,
      }),
    );
    return Items as DocumentProjectItem[];
  }

  /** The mapping knows its project from now on: the worker writes it into new label items. */
  async function startFilling(
    mapping: DocumentProjectItem,
    projectId: string,
  ): Promise<DocumentProjectItem> {
    const { Attributes } = await documents.send(
      new UpdateCommand({
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
      }),
    );
    return Attributes as DocumentProjectItem;
  }

  async function deferResolution(mapping: DocumentProjectItem, reason: string): Promise<void> {
    const attempts = mapping.attempts + 1;
    const waitSeconds = Math.min(retryMax, retryBase * 2 ** (attempts - 1));
    const dueAt = new Date(now.getTime() + waitSeconds * 1000).toISOString();
    await documents.send(
      new UpdateCommand({
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
      }),
    );
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
      const page = await documents.send(
        new QueryCommand({
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
        }),
      );
      for (const { pk, sk } of page.Items ?? []) {
        itemUpdatesLeft -= 1;
        try {
          await documents.send(
            new UpdateCommand({
              TableName: tableName,
              Key: { pk, sk },
              UpdateExpression: 'SET projectId = :project, gsi4pk = :gsi4pk',
              ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(projectId)',
              ExpressionAttributeValues: {
                ':project': projectId,
                ':gsi4pk': projectLabelKeys(projectId).gsi4pk,
              },
            }),
          );
          count += 1;
        } catch (caught) {
          // Filled by a concurrent pass, or written by the worker with its project meanwhile.
          if (!(caught instanceof ConditionalCheckFailedException)) throw caught;
        }
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return { filled: count, complete: true };
  }

  async function finish(mapping: DocumentProjectItem): Promise<void> {
    await documents.send(
      new UpdateCommand({
        TableName: tableName,
        Key: documentProjectKey(mapping.documentId),
        UpdateExpression: 'SET #status = :resolved REMOVE gsi1pk, gsi1sk',
        ConditionExpression: '#status = :filling',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':resolved': 'RESOLVED', ':filling': 'FILLING' },
      }),
    );
  }

  /**
   * Counts the project's label events and documents from GSI4 and stores them: a recount,
   * so a pass repeated or interrupted never counts an event twice.
   */
  async function recount(projectId: string): Promise<ProjectLabelCounts> {
    const { projectLabels } = TABLE.indexes;
    const documentIds = new Set<string>();
    let labelEventCount = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await readingIndex(tableName, projectLabels, () =>
        documents.send(
          new QueryCommand({
            TableName: tableName,
            IndexName: projectLabels.indexName,
            KeyConditionExpression: 'gsi4pk = :project',
            ExpressionAttributeValues: { ':project': projectPartition(projectId) },
            ProjectionExpression: 'documentId',
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      for (const item of page.Items ?? []) {
        labelEventCount += 1;
        documentIds.add(String(item.documentId));
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    const counts = { projectId, documentCount: documentIds.size, labelEventCount };
    await documents.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          ...projectLabelCountsKey(projectId),
          itemType: 'projectLabelCounts',
          ...counts,
          countedAt: nowIso,
        },
      }),
    );
    return counts;
  }
}
