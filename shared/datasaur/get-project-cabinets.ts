/** A project's cabinets (one per role) and the documents in them: how a document finds its project. */
import type { DatasaurClient, GraphqlOperation } from './client.ts';

export const GET_PROJECT_CABINETS: GraphqlOperation = {
  operationName: 'GetProjectCabinetsQuery',
  // Only the join fields: a document's sentences and chunks are heavy.
  query: `query GetProjectCabinetsQuery($projectId: ID!) {
  result: getProjectCabinets(projectId: $projectId) {
    id
    role
    status
    documents {
      id
      originId
      name
      fileName
      projectId
    }
  }
}`,
};

export interface CabinetDocument {
  readonly id: string;
  readonly originId: string | null;
  readonly name: string;
  readonly fileName: string;
  readonly projectId: string | null;
}

export interface Cabinet {
  readonly id: string;
  readonly role: 'LABELER' | 'REVIEWER';
  readonly status: 'COMPLETE' | 'IN_PROGRESS';
  readonly documents: readonly CabinetDocument[];
}

export async function getProjectCabinets(
  client: DatasaurClient,
  projectId: string,
): Promise<readonly Cabinet[]> {
  const data = await client.request<{ result: Cabinet[] }>(GET_PROJECT_CABINETS, { projectId });
  return data.result;
}

/**
 * Every document id a project's cabinets name, with each document's `originId` too: a label
 * event's `document.id` may be either (a reviewer's cabinet holds copies of the labeler's).
 */
export function projectDocumentIds(cabinets: readonly Cabinet[]): Set<string> {
  const ids = new Set<string>();
  for (const cabinet of cabinets) {
    for (const document of cabinet.documents) {
      ids.add(document.id);
      if (document.originId !== null) ids.add(document.originId);
    }
  }
  return ids;
}
