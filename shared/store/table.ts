/**
 * The table's shape, written once: the CDK stack, the local stack and the tests all build
 * the table from this definition.
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

export interface IndexDefinition {
  readonly indexName: string;
  readonly partitionKey: string;
  /** Absent for an index keyed by its partition key alone. */
  readonly sortKey?: string;
  /**
   * Non-key attributes copied into the index; `'ALL'` copies the whole item, an empty list
   * only the keys (KEYS_ONLY).
   */
  readonly projection: 'ALL' | readonly string[];
  /** What the index is for, as a message about a table without it says. */
  readonly purpose: string;
}

/** DynamoDB table names: 3 to 255 of these characters. */
export const TABLE_NAME_PATTERN = /^[A-Za-z0-9_.-]{3,255}$/;

export const TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Epoch seconds; items carrying it are removed by DynamoDB TTL after that time. */
  ttlAttribute: 'expiresAt',
  indexes: {
    /** A team's projects by status and status time; also archived exports by export status. */
    teamProjects: {
      indexName: 'GSI1',
      partitionKey: 'gsi1pk',
      sortKey: 'gsi1sk',
      projection: 'ALL',
      purpose: "a team's projects and exports by status",
    },
    /** Every event by receive time, one partition per day; small attributes only. */
    feed: {
      indexName: 'GSI2',
      partitionKey: 'gsi2pk',
      sortKey: 'gsi2sk',
      // The receive time is the index's sort key; the event id ends the table sort key, which
      // every index entry carries.
      projection: ['itemType', 'eventType', 'projectId', 'documentId', 'teamId'],
      purpose: 'every event by receive time',
    },
    /**
     * Every event item by its `eventId` (the item's own attribute, not a copy): the table
     * keys of the event, for `query event <eventId>`. Keys only, so each entry is 1 write unit.
     */
    eventIds: {
      indexName: 'GSI3',
      partitionKey: 'eventId',
      projection: [],
      purpose: 'lookup by event id',
    },
    /**
     * A project's label events, newest first: sparse, only label items whose project is known
     * carry `gsi4pk`. Sorted by the table's own sort key (`EVENT#<time>#<eventId>`), not a
     * copy of it. Small attributes only, so each entry is 1 write unit.
     */
    projectLabels: {
      indexName: 'GSI4',
      partitionKey: 'gsi4pk',
      sortKey: 'sk',
      projection: [
        'itemType',
        'eventType',
        'eventId',
        'documentId',
        'teamId',
        'receivedAt',
        'eventTime',
      ],
      purpose: "a project's label events",
    },
  },
} as const satisfies {
  partitionKey: string;
  sortKey: string;
  ttlAttribute: string;
  indexes: Record<string, IndexDefinition>;
};

export const INDEXES: readonly IndexDefinition[] = Object.values(TABLE.indexes);

export type IndexName = (typeof TABLE.indexes)[keyof typeof TABLE.indexes]['indexName'];

export const INDEX_NAMES: readonly IndexName[] = INDEXES.map(
  (index) => index.indexName as IndexName,
);

/**
 * The indexes of the first release (0.1.0): every deployed table has them, and the worker,
 * the queries and the exporter rely on them, so no stage of an upgrade goes without them.
 */
export const RELEASED_INDEX_NAMES: readonly IndexName[] = ['GSI1', 'GSI2'];

/** The definitions of `names`, in the table's own order. */
export function indexesNamed(names: readonly string[]): IndexDefinition[] {
  return INDEXES.filter((index) => names.includes(index.indexName));
}

/**
 * The indexes a table deployed with `names` gains and loses on the way to `next`.
 * CloudFormation (DynamoDB's UpdateTable underneath) creates or deletes one global secondary
 * index per update, so an update is possible only when the two lists together hold at most one.
 */
export function indexChanges(
  names: readonly string[],
  next: readonly string[],
): { created: string[]; deleted: string[] } {
  return {
    created: next.filter((name) => !names.includes(name)),
    deleted: names.filter((name) => !next.includes(name)),
  };
}

/**
 * A query or scan named an index the table does not have: a table deployed by an earlier
 * version that has not reached this stage of the staged upgrade, or a local table kept from
 * before the index existed. Thrown instead of DynamoDB's `ValidationException`.
 */
export class IndexNotDeployedError extends Error {
  override readonly name = 'IndexNotDeployedError';
  constructor(
    readonly tableName: string,
    readonly index: IndexDefinition,
  ) {
    super(
      `table ${tableName} has no index ${index.indexName} (${index.purpose}) yet: a table deployed by an earlier version gets it in a step of the staged upgrade (docs/querying.md#upgrading-an-existing-table); a local DATA_DIR from before it needs a new DATA_DIR`,
    );
  }
}

/**
 * Runs `read`, a request on `index` of `tableName`, turning DynamoDB's answer for a missing
 * index (ValidationException "The table does not have the specified index", the same from
 * DynamoDB, DynamoDB Local and dynalite) into an `IndexNotDeployedError`.
 */
export async function readingIndex<Result>(
  tableName: string,
  index: IndexDefinition,
  read: () => Promise<Result>,
): Promise<Result> {
  try {
    return await read();
  } catch (error) {
    if (
      error instanceof Error &&
      error.name === 'ValidationException' &&
      error.message.includes('does not have the specified index')
    ) {
      throw new IndexNotDeployedError(tableName, index);
    }
    throw error;
  }
}

/**
 * The `CreateTable` request for a local DynamoDB-API server (dynalite) or a test; `indexes`
 * builds a table of an earlier stage (a test of what reads a missing index).
 */
export function createTableInput(
  tableName: string,
  indexes: readonly IndexDefinition[] = INDEXES,
): CreateTableCommandInput {
  const keyAttributes = [
    ...new Set([TABLE.partitionKey, TABLE.sortKey, ...indexes.flatMap(indexKeyAttributes)]),
  ];
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: keyAttributes.map((name) => ({
      AttributeName: name,
      AttributeType: 'S',
    })),
    KeySchema: [
      { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: indexes.map((index) => ({
      IndexName: index.indexName,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' },
        ...(index.sortKey === undefined
          ? []
          : [{ AttributeName: index.sortKey, KeyType: 'RANGE' } as const]),
      ],
      Projection:
        index.projection === 'ALL'
          ? { ProjectionType: 'ALL' }
          : index.projection.length === 0
            ? { ProjectionType: 'KEYS_ONLY' }
            : { ProjectionType: 'INCLUDE', NonKeyAttributes: [...index.projection] },
    })),
  };
}

/** The attributes an index is keyed by: its partition key, and its sort key when it has one. */
export function indexKeyAttributes(index: IndexDefinition): string[] {
  return index.sortKey === undefined ? [index.partitionKey] : [index.partitionKey, index.sortKey];
}
