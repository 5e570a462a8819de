/** The DynamoDB table, built from the shared definition in `shared/store/table.ts`. */
import { RemovalPolicy } from 'aws-cdk-lib';
import {
  AttributeType,
  BillingMode,
  ProjectionType,
  StreamViewType,
  Table,
  TableEncryption,
} from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { INDEXES, type IndexDefinition, TABLE } from '../../shared/store/table.ts';

export interface EventStoreProps {
  /**
   * The global secondary indexes to declare: fewer than all only while a table deployed by an
   * earlier version is upgraded one index per deploy (docs/querying.md). @default all of them
   */
  readonly indexes?: readonly IndexDefinition[];
  /**
   * Refuse `DeleteTable` until someone turns protection off on purpose.
   * @default true
   */
  readonly deletionProtection?: boolean;
  /**
   * On-demand caps (request units a second) of the table and of each index: a cost guard
   * against a flood or a runaway redrive; requests above them are throttled. @default none
   */
  readonly maxWriteRequestUnits?: number;
  readonly maxReadRequestUnits?: number;
  /**
   * Warm throughput (units a second) of the table and each index: capacity DynamoDB keeps
   * ready, for a launch or a redrive at a high rate from the start. @default none
   */
  readonly warmWriteUnitsPerSecond?: number;
  readonly warmReadUnitsPerSecond?: number;
}

export class EventStore extends Construct {
  public readonly table: Table;
  /** The indexes the table declares. */
  public readonly indexes: readonly IndexDefinition[];

  constructor(scope: Construct, id: string, props: EventStoreProps = {}) {
    super(scope, id);
    this.indexes = props.indexes ?? INDEXES;
    const throughput = {
      ...(props.maxWriteRequestUnits === undefined
        ? {}
        : { maxWriteRequestUnits: props.maxWriteRequestUnits }),
      ...(props.maxReadRequestUnits === undefined
        ? {}
        : { maxReadRequestUnits: props.maxReadRequestUnits }),
      ...(props.warmWriteUnitsPerSecond === undefined && props.warmReadUnitsPerSecond === undefined
        ? {}
        : {
            warmThroughput: {
              ...(props.warmWriteUnitsPerSecond === undefined
                ? {}
                : { writeUnitsPerSecond: props.warmWriteUnitsPerSecond }),
              ...(props.warmReadUnitsPerSecond === undefined
                ? {}
                : { readUnitsPerSecond: props.warmReadUnitsPerSecond }),
            },
          }),
    };
    this.table = new Table(this, 'Table', {
      ...throughput,
      partitionKey: { name: TABLE.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // The AWS managed key (aws/dynamodb): every use is in CloudTrail, with no key policy
      // to maintain and no monthly key charge. A customer key adds value only for
      // cross-account control or crypto-shredding, which this product does not need.
      encryption: TableEncryption.AWS_MANAGED,
      deletionProtection: props.deletionProtection ?? true,
      // The table is the record of every webhook: it outlives the stack.
      removalPolicy: RemovalPolicy.RETAIN,
      // For downstream consumers (fan-out, analytics) without touching the pipeline.
      stream: StreamViewType.NEW_AND_OLD_IMAGES,
      timeToLiveAttribute: TABLE.ttlAttribute,
    });
    for (const index of this.indexes) {
      this.table.addGlobalSecondaryIndex({
        ...throughput,
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        ...(index.sortKey === undefined
          ? {}
          : { sortKey: { name: index.sortKey, type: AttributeType.STRING } }),
        ...(index.projection === 'ALL'
          ? { projectionType: ProjectionType.ALL }
          : index.projection.length === 0
            ? { projectionType: ProjectionType.KEYS_ONLY }
            : { projectionType: ProjectionType.INCLUDE, nonKeyAttributes: [...index.projection] }),
      });
    }
  }
}
