/**
 * Queue → worker → table: the durable half of the pipeline. A message the worker fails on
 * `maxReceiveCount` times moves to the dead-letter queue, where it waits for a redrive.
 */
import { Duration } from 'aws-cdk-lib';
import { Metric, Stats } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Queue, QueueEncryption, RedrivePermission } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { type BatchFigure, METRICS_NAMESPACE } from '../../shared/store/batch-figures.ts';
import { BODIES_PREFIX } from '../../shared/webhook/claim-check.ts';
import { QUEUE_RETENTION_DAYS } from '../config.ts';
import type { ArchiveBucket } from './archive-bucket.ts';
import { BundledFunction, type FunctionLogLevels } from './bundled-function.ts';
import { grantHourlyCountUpdates } from './hourly-counts-grant.ts';

const WORKER_SERVICE_NAME = 'datasaur-webhooks-worker';

/**
 * What the event store calls, and nothing else: conditional puts, the first-receipt read
 * and the project refresh query. No update, delete, batch or scan: the worker can add to
 * the record but never erase it.
 */
const WORKER_TABLE_ACTIONS = ['GetItem', 'Query', 'PutItem'];

/**
 * A message moved to a dead-letter queue keeps its original enqueue time, and expires by the
 * DLQ's retention counted from then. Source queues keep messages 4 days (SQS's default), DLQs
 * the 14-day maximum: a message dead-lettered at the last moment still waits 10 days for a
 * redrive. Export archiving uses the same pair.
 */
export const SOURCE_QUEUE_RETENTION = Duration.days(4);
export const DEAD_LETTER_QUEUE_RETENTION = Duration.days(QUEUE_RETENTION_DAYS);

export interface EventPipelineProps {
  readonly table: ITable;
  /** Where the ingest put bodies too large for a queue message; the worker reads `bodies/`. */
  readonly archive: ArchiveBucket;
  /** @default 512 */
  readonly workerMemoryMb?: number;
  /** @default 30 */
  readonly workerTimeoutSeconds?: number;
  /** Messages per worker invocation. @default 10 */
  readonly batchSize?: number;
  /** Seconds the event source waits to fill a batch; 0 sends at once. @default 1 */
  readonly batchingWindowSeconds?: number;
  /** Concurrent worker invocations the queue may drive. @default 10 */
  readonly maxConcurrency?: number;
  /** Records of one batch the worker processes at the same time. @default 10 */
  readonly recordConcurrency?: number;
  /** Receives before a message moves to the dead-letter queue. @default 5 */
  readonly maxReceiveCount?: number;
  /** Largest message, in bytes, the queues accept. @default 1,048,576 (the SQS maximum) */
  readonly maxMessageSizeBytes?: number;
  readonly logRetention: RetentionDays;
  /** @default application INFO, system WARN */
  readonly logLevels?: FunctionLogLevels;
  /** Days after which raw items expire through the table's TTL. @default never */
  readonly rawTtlDays?: number;
  /** CloudWatch namespace of the worker's batch figures. @default 'DatasaurWebhooks' */
  readonly metricsNamespace?: string;
}

export class EventPipeline extends Construct {
  public readonly queue: Queue;
  public readonly deadLetterQueue: Queue;
  public readonly worker: BundledFunction;
  private readonly metricsNamespace: string;

  constructor(scope: Construct, id: string, props: EventPipelineProps) {
    super(scope, id);
    const workerTimeoutSeconds = props.workerTimeoutSeconds ?? 30;
    const batchingWindowSeconds = props.batchingWindowSeconds ?? 1;
    const maxMessageSizeBytes = props.maxMessageSizeBytes ?? 1_048_576;
    this.metricsNamespace = props.metricsNamespace ?? METRICS_NAMESPACE;

    // SQS-managed SSE: encrypted at rest with no key policy to keep in step with every
    // producer and consumer, and no KMS request per message.
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: DEAD_LETTER_QUEUE_RETENTION,
      // Declares it a dead-letter queue (Control Tower's CT.SQS.PR.1). allowAll is what SQS
      // does with no policy; byQueue would name the source queue, which names this one.
      redriveAllowPolicy: { redrivePermission: RedrivePermission.ALLOW_ALL },
      maxMessageSizeBytes,
    });
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: SOURCE_QUEUE_RETENTION,
      maxMessageSizeBytes,
      // AWS's advice for a Lambda-fed queue: six times the function timeout plus the
      // batching window, so a message is not redelivered while a retried invocation still
      // holds it.
      visibilityTimeout: Duration.seconds(6 * workerTimeoutSeconds + batchingWindowSeconds),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 },
    });

    this.worker = new BundledFunction(this, 'Worker', {
      entry: 'functions/worker/index.ts',
      // Only bodies too large to queue inline reach S3 (shared/webhook/body-archive.ts).
      loadedOnFirstUse: ['@aws-sdk/client-s3'],
      description: 'Datasaur webhooks: stores queued events in DynamoDB',
      serviceName: WORKER_SERVICE_NAME,
      memorySizeMb: props.workerMemoryMb ?? 512,
      timeoutSeconds: workerTimeoutSeconds,
      logRetention: props.logRetention,
      ...(props.logLevels === undefined ? {} : { logLevels: props.logLevels }),
      environment: {
        TABLE_NAME: props.table.tableName,
        POWERTOOLS_METRICS_NAMESPACE: this.metricsNamespace,
        WORKER_CONCURRENCY: String(props.recordConcurrency ?? 10),
        ...(props.rawTtlDays === undefined ? {} : { RAW_TTL_DAYS: String(props.rawTtlDays) }),
      },
    });
    // Item reads and writes on the table itself. `grantReadWriteData` would add
    // `<table>/index/*` and Scan: the worker never reads an index nor scans; only the query
    // CLI does, with the operator's own credentials.
    this.worker.role.addToPolicy(
      new PolicyStatement({
        actions: WORKER_TABLE_ACTIONS.map((action) => `dynamodb:${action}`),
        resources: [props.table.tableArn],
      }),
    );
    grantHourlyCountUpdates(this.worker.role, props.table);
    // GetObject under bodies/ only: the worker reads what pointers name, never lists or writes.
    props.archive.grantRead(this.worker.role, BODIES_PREFIX);
    // Grants receive, delete and change-visibility on this queue only.
    this.worker.function.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: props.batchSize ?? 10,
        ...(batchingWindowSeconds > 0
          ? { maxBatchingWindow: Duration.seconds(batchingWindowSeconds) }
          : {}),
        reportBatchItemFailures: true,
        maxConcurrency: props.maxConcurrency ?? 10,
      }),
    );
  }

  /** A figure the worker publishes once per batch (Powertools Metrics), summed per period. */
  public metricBatchFigure(figure: BatchFigure, period = Duration.minutes(5)): Metric {
    return new Metric({
      namespace: this.metricsNamespace,
      metricName: figure,
      dimensionsMap: { service: WORKER_SERVICE_NAME },
      statistic: Stats.SUM,
      period,
    });
  }
}
