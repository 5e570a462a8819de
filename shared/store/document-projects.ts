/**
 * What the worker knows of a document's project: one GetItem per label event (eventually
 * consistent, 0.5 read units), and, for a document never seen, one conditional Put of its
 * UNRESOLVED mapping for the enrichment step to resolve. The worker never calls Datasaur.
 */
import { documentProjectKey, pendingDocumentKeys, projectLabelKeys } from './keys.ts';
import { isConditionalCheckFailed, type TableDocuments } from './table-documents.ts';
import type { ItemWrite } from './write-units.ts';

export type DocumentProjectStatus = 'UNRESOLVED' | 'FILLING' | 'RESOLVED';

export interface DocumentProjectItem {
  readonly pk: string;
  readonly sk: string;
  readonly itemType: 'documentProject';
  readonly documentId: string;
  /** The label event's `document.originId`: another labeler's copy has its own id, this one. */
  readonly originId?: string;
  readonly teamId?: string;
  readonly status: DocumentProjectStatus;
  readonly projectId?: string;
  readonly firstSeenAt: string;
  readonly resolvedAt?: string;
  readonly attempts: number;
  readonly lastError?: string;
  readonly gsi1pk?: string;
  readonly gsi1sk?: string;
}

/** The document a label event names: its own id, and the id of the document it is a copy of. */
export interface LabelledDocument {
  readonly id: string;
  readonly originId?: string;
}

export interface DocumentProjects {
  /** The project id when known, else undefined (the mapping is created if absent). */
  projectOf(
    document: LabelledDocument,
    teamId: string | undefined,
    seenAt: string,
    writes: ItemWrite[],
  ): Promise<string | undefined>;
}

/** The GSI4 attributes a label item carries once its project is known. */
export function withProject<Item extends { readonly sk: string }>(item: Item, projectId: string) {
  return { ...item, projectId, ...projectLabelKeys(projectId) };
}

export function createDocumentProjects(
  documents: TableDocuments,
  tableName: string,
): DocumentProjects {
  return {
    async projectOf(document, teamId, seenAt, writes) {
      const documentId = document.id;
      const key = documentProjectKey(documentId);
      const stored = await documents.get({ TableName: tableName, Key: key });
      const mapping = stored.Item as DocumentProjectItem | undefined;
      if (mapping !== undefined) return mapping.projectId;
      const item: DocumentProjectItem = {
        ...key,
        itemType: 'documentProject',
        documentId,
        ...(document.originId ? { originId: document.originId } : {}),
        ...(teamId !== undefined && { teamId }),
        status: 'UNRESOLVED',
        firstSeenAt: seenAt,
        attempts: 0,
        ...pendingDocumentKeys(seenAt, documentId),
      };
      try {
        await documents.put({
          TableName: tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk)',
        });
        writes.push({ item });
      } catch (error) {
        // Another delivery recorded it first: the enrichment will resolve it all the same.
        if (!isConditionalCheckFailed(error)) throw error;
        writes.push({ item, conditionFailed: true });
      }
      return undefined;
    },
  };
}
