/**
 * A project's label counters (`PROJECT#<id>` / `LABELS`): the documents and label events GSI4
 * lists for it. Always a recount, never an addition, so a pass repeated or cut short never
 * counts an event twice. The worker cannot update them (its role only puts), so the pass keeps
 * them current: it recounts the projects whose documents it filled in, then checks a few
 * counted projects in turn (all of them over successive passes) and recounts those GSI4 now
 * shows a newer label event for, or whose count is older than `maxCountAgeSeconds` (a label
 * event stored late, older than the newest one counted, is caught then).
 */
import {
  COUNTED_PROJECTS_PARTITION,
  countedProjectKeys,
  labelCountsCheckKey,
  projectLabelCountsKey,
  projectPartition,
} from '../store/keys.ts';
import { queryAll } from '../store/query-all.ts';
import { readingIndex, TABLE } from '../store/table.ts';
import { isConditionalCheckFailed, type TableDocuments } from '../store/table-documents.ts';

export interface ProjectLabelCounts {
  readonly projectId: string;
  readonly documentCount: number;
  readonly labelEventCount: number;
}

interface ProjectLabelCountsItem extends ProjectLabelCounts {
  readonly countedAt: string;
  readonly newestLabel?: string;
}

export interface LabelCountsOptions {
  readonly documents: TableDocuments;
  readonly tableName: string;
  readonly now: Date;
  /** Counted projects checked for newer label events a pass. @default 100 */
  readonly maxCountChecks?: number;
  /** A count older than this is redone even when no newer label event shows. @default 86400 */
  readonly maxCountAgeSeconds?: number;
}

export interface LabelCounts {
  /** Counts the project's label events and documents from GSI4 and stores them. */
  recount(projectId: string): Promise<ProjectLabelCounts>;
  /**
   * Checks the next counted projects in turn (but those in `counted`, counted already) and
   * recounts those with label events stored since their count; returns their counts.
   */
  recountChanged(counted: ReadonlySet<string>): Promise<ProjectLabelCounts[]>;
}

export function createLabelCounts(options: LabelCountsOptions): LabelCounts {
  const { documents, tableName, now } = options;
  const nowIso = now.toISOString();
  const maxChecks = options.maxCountChecks ?? 100;
  const oldestCount = new Date(
    now.getTime() - (options.maxCountAgeSeconds ?? 86_400) * 1000,
  ).toISOString();
  const { projectLabels, teamProjects } = TABLE.indexes;

  /** The project's GSI4 entries, newest first: keys and document ids only. */
  const projectLabelsQuery = (projectId: string) => ({
    TableName: tableName,
    IndexName: projectLabels.indexName,
    KeyConditionExpression: 'gsi4pk = :project',
    ExpressionAttributeValues: { ':project': projectPartition(projectId) },
    ProjectionExpression: 'sk, documentId',
    ScanIndexForward: false,
  });

  async function recount(projectId: string): Promise<ProjectLabelCounts> {
    const entries = await readingIndex(tableName, projectLabels, () =>
      queryAll(documents, projectLabelsQuery(projectId)),
    );
    const newestLabel = entries[0] === undefined ? undefined : String(entries[0].sk);
    const documentIds = new Set(entries.map((entry) => String(entry.documentId)));
    const labelEventCount = entries.length;
    const counts = { projectId, documentCount: documentIds.size, labelEventCount };
    await documents.put({
      TableName: tableName,
      Item: {
        ...projectLabelCountsKey(projectId),
        itemType: 'projectLabelCounts',
        ...counts,
        countedAt: nowIso,
        ...(newestLabel !== undefined && { newestLabel }),
        ...countedProjectKeys(projectId),
      },
    });
    return counts;
  }

  /** Whether label events were stored since the project was counted. */
  async function changed(counts: ProjectLabelCountsItem): Promise<boolean> {
    if (counts.countedAt < oldestCount) return true;
    const { Items = [] } = await readingIndex(tableName, projectLabels, () =>
      documents.query({ ...projectLabelsQuery(counts.projectId), Limit: 1 }),
    );
    return Items[0]?.sk !== counts.newestLabel;
  }

  /** Up to `limit` counted projects after `after` (from the first when undefined). */
  async function countedProjects(
    bound: { after: string } | { upTo: string } | undefined,
    limit: number,
  ): Promise<ProjectLabelCountsItem[]> {
    if (limit <= 0) return [];
    const range =
      bound === undefined
        ? { condition: '', values: {} }
        : 'after' in bound
          ? { condition: ' AND gsi1sk > :bound', values: { ':bound': bound.after } }
          : { condition: ' AND gsi1sk <= :bound', values: { ':bound': bound.upTo } };
    const { Items = [] } = await documents.query({
      TableName: tableName,
      IndexName: teamProjects.indexName,
      KeyConditionExpression: `gsi1pk = :counted${range.condition}`,
      ExpressionAttributeValues: { ':counted': COUNTED_PROJECTS_PARTITION, ...range.values },
      Limit: limit,
    });
    return Items as ProjectLabelCountsItem[];
  }

  async function readCheckPosition(): Promise<string | undefined> {
    const { Items = [] } = await documents.query({
      TableName: tableName,
      KeyConditionExpression: 'pk = :pk AND sk = :sk',
      ExpressionAttributeValues: {
        ':pk': labelCountsCheckKey().pk,
        ':sk': labelCountsCheckKey().sk,
      },
      ConsistentRead: true,
    });
    const after = Items[0]?.after;
    return typeof after === 'string' ? after : undefined;
  }

  async function saveCheckPosition(after: string, previous: string | undefined): Promise<void> {
    try {
      await documents.put({
        TableName: tableName,
        Item: {
          ...labelCountsCheckKey(),
          itemType: 'labelCountsCheck',
          after,
          checkedAt: nowIso,
        },
        // Another pass moved it meanwhile: its position is as good as this one.
        ...(previous === undefined
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : {
              ConditionExpression: '#after = :previous',
              ExpressionAttributeNames: { '#after': 'after' },
              ExpressionAttributeValues: { ':previous': previous },
            }),
      });
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  return {
    recount,

    async recountChanged(counted) {
      const previous = await readCheckPosition();
      const next = await countedProjects(
        previous === undefined ? undefined : { after: previous },
        maxChecks,
      );
      // Past the last counted project: on from the first, up to where this check started.
      const wrapped =
        previous === undefined
          ? []
          : await countedProjects({ upTo: previous }, maxChecks - next.length);
      const checked = [...next, ...wrapped];
      const recounted: ProjectLabelCounts[] = [];
      for (const counts of checked) {
        if (counted.has(counts.projectId) || !(await changed(counts))) continue;
        recounted.push(await recount(counts.projectId));
      }
      const last = checked.at(-1)?.projectId;
      if (last !== undefined && last !== previous) await saveCheckPosition(last, previous);
      return recounted;
    },
  };
}
