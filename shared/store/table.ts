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
}

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
    },
    /** Every event by receive time, one partition per day; small attributes only. */
    feed: {
      indexName: 'GSI2',
      partitionKey: 'gsi2pk',
      sortKey: 'gsi2sk',
      // The event id and receive time are in the index's own sort key.
      projection: ['itemType', 'eventType', 'projectId', 'documentId', 'teamId'],
    },
    /**
     * Every event item by its `eventId` (the item's own attribute, not a copy): the table
     * keys of the event, for `query event <eventId>`. Keys only, so each entry is 1 write unit.
     */
    eventIds: {
      indexName: 'GSI3',
      partitionKey: 'eventId',
      projection: [],
    },
    /**
     * A project's label events, newest first: sparse, only label items whose project is known
     * carry `gsi4pk`. Small attributes only, so each entry is 1 write unit.
     */
    projectLabels: {
      indexName: 'GSI4',
      partitionKey: 'gsi4pk',
      sortKey: 'gsi4sk',
      projection: [
        'itemType',
        'eventType',
        'eventId',
        'documentId',
        'teamId',
        'receivedAt',
        'eventTime',
      ],
    },
  },
} as const satisfies {
  partitionKey: string;
  sortKey: string;
  ttlAttribute: string;
  indexes: Record<string, IndexDefinition>;
};

export const INDEXES: readonly IndexDefinition[] = Object.values(TABLE.indexes);

/** The `CreateTable` request for a local DynamoDB-API server (dynalite) or a test. */
export function createTableInput(tableName: string): CreateTableCommandInput {
  const keyAttributes = [TABLE.partitionKey, TABLE.sortKey, ...INDEXES.flatMap(indexKeyAttributes)];
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
    GlobalSecondaryIndexes: INDEXES.map((index) => ({
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
