/**
 * Starts the exports that wait for credentials once the credentials work: reads the WAITING
 * status partition (GSI1) and queues each export again. Run on a schedule in AWS (the
 * exporter's `resume` event) and by the local stack's worker at start and every minute; an
 * export queued twice is still archived once (the exporter's claim).
 */
import type { CredentialsState } from '../datasaur/check-credentials.ts';
import { describeError } from '../runtime/errors.ts';
import type { ExportArchiveItem } from '../store/items.ts';
import { exportStatusPartition } from '../store/keys.ts';
import { queryAll } from '../store/query-all.ts';
import { TABLE } from '../store/table.ts';
import type { TableDocuments } from '../store/table-documents.ts';
import type { ExportRequest, ExportRequestSink } from './export-trigger.ts';

export interface ResumeOptions {
  readonly documents: TableDocuments;
  readonly tableName: string;
  readonly queue: ExportRequestSink;
  /** Whether the credentials work now (checkCredentials). */
  readonly credentials: () => Promise<CredentialsState>;
}

export interface ResumeResult {
  /** Exports found WAITING. */
  readonly waiting: number;
  /** Of those, queued again (all of them once the credentials work, else none). */
  readonly queued: number;
  /**
   * NOT_CHECKED when nothing waits: no token is asked for then. UNAVAILABLE when the check
   * itself failed (the token endpoint or Secrets Manager down): the count still stands.
   */
  readonly credentials: CredentialsState | 'NOT_CHECKED' | 'UNAVAILABLE';
  /** Why the check failed, when UNAVAILABLE. */
  readonly problem?: string;
}

/** The request that archives a waiting export, rebuilt from its item. */
export function resumeRequest(item: ExportArchiveItem): ExportRequest | undefined {
  switch (item.trigger) {
    case 'REVIEWED':
    case 'COMPLETED':
      return {
        kind: 'transition',
        projectId: item.projectId,
        teamId: item.teamId,
        status: item.trigger,
        statusAt: item.statusAt,
      };
    case 'MANUAL':
      return { kind: 'manual', projectId: item.projectId, requestedAt: item.statusAt };
    default:
      // A pushed export carries its own link and never waits for credentials.
      return undefined;
  }
}

function waitingExports(
  documents: TableDocuments,
  tableName: string,
): Promise<ExportArchiveItem[]> {
  return queryAll<ExportArchiveItem>(documents, {
    TableName: tableName,
    IndexName: TABLE.indexes.teamProjects.indexName,
    KeyConditionExpression: 'gsi1pk = :waiting',
    ExpressionAttributeValues: { ':waiting': exportStatusPartition('WAITING') },
  });
}

export async function resumeWaitingExports(options: ResumeOptions): Promise<ResumeResult> {
  const waiting = await waitingExports(options.documents, options.tableName);
  if (waiting.length === 0) return { waiting: 0, queued: 0, credentials: 'NOT_CHECKED' };
  let credentials: CredentialsState;
  try {
    credentials = await options.credentials();
  } catch (error) {
    // The exports still wait, and the alarm still needs their count: the next run checks again.
    const problem = describeError(error);
    return { waiting: waiting.length, queued: 0, credentials: 'UNAVAILABLE', problem };
  }
  if (credentials !== 'VALID') return { waiting: waiting.length, queued: 0, credentials };
  let queued = 0;
  for (const item of waiting) {
    const request = resumeRequest(item);
    if (request === undefined) continue;
    await options.queue.send(request);
    queued += 1;
  }
  return { waiting: waiting.length, queued, credentials };
}
