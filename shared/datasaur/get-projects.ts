/** A page of the caller's projects, and every page of them (cursor pagination). */
import type { DatasaurClient, GraphqlOperation } from './client.ts';

export const GET_PROJECTS: GraphqlOperation = {
  operationName: 'GetProjectsQuery',
  query: `query GetProjectsQuery($input: GetProjectsPaginatedInput!) {
  result: getProjects(input: $input) {
    nodes {
      id
      name
      status
      createdDate
      updatedDate
      completedDate
      team {
        id
        name
      }
      tags {
        id
        name
      }
    }
    pageInfo {
      nextCursor
      prevCursor
    }
  }
}`,
};

/** `GqlProjectStatus`. */
export const DATASAUR_PROJECT_STATUSES = [
  'CREATED',
  'IN_PROGRESS',
  'REVIEW_READY',
  'IN_REVIEW',
  'COMPLETE',
] as const;
export type DatasaurProjectStatus = (typeof DATASAUR_PROJECT_STATUSES)[number];
/** `GqlProjectAndLabelingStatus`: the statuses a filter may name. */
export type DatasaurProjectFilterStatus = DatasaurProjectStatus | 'NOT_STARTED';

export interface DatasaurProject {
  readonly id: string;
  readonly name: string;
  readonly status: DatasaurProjectStatus;
  readonly createdDate: string | null;
  readonly updatedDate: string | null;
  readonly completedDate: string | null;
  readonly team: { readonly id: string; readonly name: string | null } | null;
  readonly tags: readonly { readonly id: string; readonly name: string }[] | null;
}

export interface GetProjectsFilter {
  readonly teamId?: string;
  readonly statuses?: readonly DatasaurProjectFilterStatus[];
  readonly keyword?: string;
  readonly isArchived?: boolean;
}

export interface GetProjectsInput {
  readonly cursor?: string | null;
  readonly page?: { readonly skip: number; readonly take: number };
  readonly sort?: readonly { readonly field: string; readonly order: 'ASC' | 'DESC' }[];
  readonly filter?: GetProjectsFilter;
}

export interface ProjectsPage {
  readonly nodes: readonly DatasaurProject[];
  readonly pageInfo: { readonly nextCursor: string | null; readonly prevCursor: string | null };
}

export async function getProjects(
  client: DatasaurClient,
  input: GetProjectsInput,
): Promise<ProjectsPage> {
  const data = await client.request<{ result: ProjectsPage }>(GET_PROJECTS, { input });
  return data.result;
}

/**
 * Where a page starts, as Datasaur's own clients ask: the first page by offset and size, each
 * later one by the `nextCursor` alone (the cursor carries the size; what Datasaur does with
 * both is not documented).
 */
export function pageAt(
  cursor: string | null,
  pageSize: number,
): Pick<GetProjectsInput, 'cursor' | 'page'> {
  return cursor === null ? { page: { skip: 0, take: pageSize } } : { cursor };
}

/** A page whose `nextCursor` is the cursor that asked for it would be read forever. */
export function checkNextCursor(cursor: string | null, page: ProjectsPage): string | null {
  const { nextCursor } = page.pageInfo;
  if (nextCursor !== null && nextCursor === cursor) {
    throw new Error('getProjects answered the page it was asked for as the next one as well');
  }
  return nextCursor;
}

/** Every project matching `filter`, page after page until `nextCursor` is null. */
export async function* getAllProjects(
  client: DatasaurClient,
  filter: GetProjectsFilter = {},
  pageSize = 100,
): AsyncGenerator<DatasaurProject> {
  let cursor: string | null = null;
  do {
    const page: ProjectsPage = await getProjects(client, { ...pageAt(cursor, pageSize), filter });
    yield* page.nodes;
    cursor = checkNextCursor(cursor, page);
  } while (cursor !== null);
}
