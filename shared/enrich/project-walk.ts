/**
 * A team's projects, read a budget's worth per pass: where a pass stopped (the `getProjects`
 * page it was in and the index in that page) is kept in the table, and the next pass goes on
 * from there, wrapping around after the team's last project. So a document in a team's 500th
 * project is found after a few passes, not never.
 */
import type { DatasaurClient } from '../datasaur/client.ts';
import { DatasaurGraphqlError } from '../datasaur/errors.ts';
import {
  checkNextCursor,
  type DatasaurProject,
  getProjects,
  pageAt,
} from '../datasaur/get-projects.ts';
import { ENRICH_PARTITION, PROJECT_WALK_SORT_PREFIX, projectWalkKey } from '../store/keys.ts';
import { queryAll } from '../store/query-all.ts';
import { isConditionalCheckFailed, type TableDocuments } from '../store/table-documents.ts';

/** Projects per `getProjects` page. */
const PAGE_SIZE = 100;

export interface WalkPosition {
  /** The `getProjects` cursor of the page the walk is in; null for the team's first page. */
  readonly cursor: string | null;
  /** The index, in that page, of the next project to read. */
  readonly index: number;
}

export const WALK_START: WalkPosition = { cursor: null, index: 0 };

export interface ProjectWalkItem {
  readonly pk: string;
  readonly sk: string;
  readonly itemType: 'projectWalk';
  readonly teamId?: string;
  readonly cursor?: string;
  readonly index: number;
  readonly walkedAt: string;
}

export interface WalkOutcome {
  /** Where the next pass starts. */
  readonly position: WalkPosition;
  /** The walk went past the team's last project (and on from its first). */
  readonly passedEnd: boolean;
  /** Every project of the team was read once. */
  readonly complete: boolean;
  /** What stopped the walk early, thrown by `getProjects` or by `visit`. */
  readonly error?: unknown;
}

/**
 * Reads the team's projects from `start` on, one `visit` each, until `visit` answers 'stop',
 * every project was visited once, or an error is thrown. A project whose visit threw is where
 * the next walk starts, so it is read again first.
 */
export async function walkProjects(
  datasaur: DatasaurClient,
  teamId: string | undefined,
  start: WalkPosition,
  visit: (project: DatasaurProject) => Promise<'next' | 'stop'>,
): Promise<WalkOutcome> {
  const filter = teamId === undefined ? {} : { teamId };
  const fromFirst = start.cursor === null && start.index === 0;
  let position = start;
  let passedEnd = false;
  try {
    for (;;) {
      const { cursor } = position;
      let page: Awaited<ReturnType<typeof getProjects>>;
      try {
        page = await getProjects(datasaur, { ...pageAt(cursor, PAGE_SIZE), filter });
      } catch (error) {
        // Datasaur answered, and refused the page: a saved cursor it no longer takes would
        // stop the team's walk on every pass. The next one starts from the first page.
        if (cursor !== null && error instanceof DatasaurGraphqlError) {
          return { position: WALK_START, passedEnd, complete: false, error };
        }
        throw error;
      }
      for (let index = position.index; index < page.nodes.length; index += 1) {
        if (passedEnd && cursor === start.cursor && index >= start.index) {
          return { position: start, passedEnd, complete: true };
        }
        position = { cursor, index };
        const answer = await visit(page.nodes[index] as DatasaurProject);
        position = { cursor, index: index + 1 };
        if (answer === 'stop') return { position, passedEnd, complete: false };
      }
      let nextCursor: string | null;
      try {
        nextCursor = checkNextCursor(cursor, page);
      } catch (error) {
        // Resumed there, every pass would stop at the same page: the next starts over.
        return { position: WALK_START, passedEnd, complete: false, error };
      }
      if (nextCursor !== null) {
        position = { cursor: nextCursor, index: 0 };
        continue;
      }
      // Past the team's last project. A second time means the list changed under the walk.
      if (fromFirst || passedEnd) return { position: WALK_START, passedEnd: true, complete: true };
      passedEnd = true;
      position = WALK_START;
    }
  } catch (error) {
    return { position, passedEnd, complete: false, error };
  }
}

export interface ProjectWalks {
  /** Each team's walk as the last pass left it, by `teamKey`. */
  read(): Promise<ReadonlyMap<string, ProjectWalkItem>>;
  /**
   * Stores where the team's walk stopped, unless another pass moved it since `previous` was
   * read (its position is as good as this one).
   */
  save(
    teamId: string | undefined,
    position: WalkPosition,
    previous: ProjectWalkItem | undefined,
    walkedAt: string,
  ): Promise<void>;
}

/** The key `read` files a team's walk under (the sort key: one per team, and one for no team). */
export function teamKey(teamId: string | undefined): string {
  return projectWalkKey(teamId).sk;
}

export function positionOf(walk: ProjectWalkItem | undefined): WalkPosition {
  return walk === undefined ? WALK_START : { cursor: walk.cursor ?? null, index: walk.index };
}

export function createProjectWalks(documents: TableDocuments, tableName: string): ProjectWalks {
  return {
    async read() {
      const items = await queryAll<ProjectWalkItem>(documents, {
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :walk)',
        ExpressionAttributeValues: { ':pk': ENRICH_PARTITION, ':walk': PROJECT_WALK_SORT_PREFIX },
        ConsistentRead: true,
      });
      return new Map(items.map((item) => [item.sk, item]));
    },

    async save(teamId, position, previous, walkedAt) {
      const item: ProjectWalkItem = {
        ...projectWalkKey(teamId),
        itemType: 'projectWalk',
        ...(teamId !== undefined && { teamId }),
        ...(position.cursor !== null && { cursor: position.cursor }),
        index: position.index,
        walkedAt,
      };
      try {
        await documents.put({
          TableName: tableName,
          Item: item,
          ...(previous === undefined
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : {
                ConditionExpression: 'walkedAt = :walkedAt',
                ExpressionAttributeValues: { ':walkedAt': previous.walkedAt },
              }),
        });
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
      }
    },
  };
}
