/**
 * Export archiving: the export queue (with its DLQ), the exporter function and its alarms.
 * The Datasaur API credentials secret is the stack's, shared with the reconciler. The worker only sends to the queue; only the
 * exporter reads the credentials and writes `exports/` in the archive bucket.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  type IMetric,
  Metric,
  Stats,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { FilterPattern, MetricFilter, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption, RedrivePermission } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  EXPORT_FAILED_MESSAGE,
  EXPORT_URL_REFUSED_METRIC,
  EXPORTS_WAITING_METRIC,
} from '../../functions/exporter/handler.ts';
import { RESUME_EVENT } from '../../functions/exporter/resume-handler.ts';
import type { ExportOn } from '../../shared/export/export-trigger.ts';
import { DEFAULT_EXPORT_MAX_ATTEMPTS } from '../../shared/export/exporter.ts';
import { METRICS_NAMESPACE } from '../../shared/store/batch-figures.ts';
import { TABLE } from '../../shared/store/table.ts';
import type { ArchiveBucket } from './archive-bucket.ts';
import { BundledFunction, type FunctionLogLevels } from './bundled-function.ts';
import { DEAD_LETTER_QUEUE_RETENTION, SOURCE_QUEUE_RETENTION } from './event-pipeline.ts';
import { EXPORTER_ITEM_PARTITIONS, onlyPartitions } from './item-partitions.ts';

const EXPORTER_SERVICE_NAME = 'datasaur-webhooks-exporter';

/** Where archived exports go in the archive bucket. */
export const EXPORTS_PREFIX = 'exports/';

/** Claims, progress and results: item updates and reads, on the table only. */
const EXPORTER_TABLE_ACTIONS = ['GetItem', 'UpdateItem'];
/** How often the exports WAITING for credentials are checked (and counted for the alarm). */
export const RESUME_EVERY_MINUTES = 10;
/** One attempt waits at most 60 s for Datasaur; the rest is the download. */
const EXPORTER_TIMEOUT_SECONDS = 300;
const EXPORT_BUDGET_SECONDS = 60;

export interface ExportArchiverProps {
  readonly table: ITable;
  readonly archive: ArchiveBucket;
  /** The Datasaur API credentials `{"clientId","clientSecret"}`, created empty by the stack. */
  readonly credentials: ISecret;
  /** The worker, which sends export requests to the queue. */
  readonly worker: BundledFunction;
  readonly exportOn: Exclude<ExportOn, 'off'>;
  /** `format` of Datasaur's export. */
  readonly exportFormat: string;
  /** Datasaur's base URL (self-hosted installs have their own). */
  readonly datasaurApiUrl: string;
  readonly logRetention: RetentionDays;
  /** CloudWatch namespace of the failed-export count. @default 'DatasaurWebhooks' */
  readonly metricsNamespace?: string;
  /** @default application INFO, system WARN */
  readonly logLevels?: FunctionLogLevels;
  /** Which export file URLs the exporter downloads, and how many bytes at most. */
  readonly download: {
    readonly maxBytes: number;
    /** @default any public host */
    readonly allowedHosts?: readonly string[];
    /** @default false */
    readonly allowPrivateHosts?: boolean;
  };
  /** Notified by the exporter's alarms. */
  readonly alarmTopic: ITopic;
}

export class ExportArchiver extends Construct {
  public readonly queue: Queue;
  public readonly deadLetterQueue: Queue;
  public readonly exporter: BundledFunction;
  public readonly exportsFailed: Alarm;
  /** An export's file URL (or a redirect) was refused: a hostile or misdirected delivery. */
  public readonly urlsRefused: Alarm;
  public readonly deadLetterQueueNotEmpty: Alarm;
  /** Exports wait for credentials (the secret is empty or Datasaur refuses it). */
  public readonly exportsWaiting: Alarm;
  /** Invokes the exporter's resume check: waiting exports start once credentials work. */
  public readonly resumeSchedule: Rule;

  constructor(scope: Construct, id: string, props: ExportArchiverProps) {
    super(scope, id);

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: DEAD_LETTER_QUEUE_RETENTION,
      // Declares it a dead-letter queue (Control Tower's CT.SQS.PR.1). allowAll is what SQS
      // does with no policy; byQueue would name the source queue, which names this one.
      redriveAllowPolicy: { redrivePermission: RedrivePermission.ALLOW_ALL },
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the dead-letter queue of the export queue.',
    });
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: SOURCE_QUEUE_RETENTION,
      // A retry's delay is set per message (ChangeMessageVisibility); this covers an attempt
      // that ends without saying, as AWS advises for a Lambda-fed queue.
      visibilityTimeout: Duration.seconds(6 * EXPORTER_TIMEOUT_SECONDS),
      // The exporter records FAILED on its own last attempt; the DLQ catches what it could not.
      deadLetterQueue: {
        queue: this.deadLetterQueue,
        maxReceiveCount: DEFAULT_EXPORT_MAX_ATTEMPTS + 4,
      },
    });

    this.exporter = new BundledFunction(this, 'Exporter', {
      entry: 'functions/exporter/index.ts',
      description: 'Datasaur webhooks: archives project exports into the archive bucket',
      serviceName: EXPORTER_SERVICE_NAME,
      memorySizeMb: 512,
      timeoutSeconds: EXPORTER_TIMEOUT_SECONDS,
      logRetention: props.logRetention,
      ...(props.logLevels === undefined ? {} : { logLevels: props.logLevels }),
      environment: {
        POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace ?? METRICS_NAMESPACE,
        EXPORT_MAX_BYTES: String(props.download.maxBytes),
        ...(props.download.allowedHosts === undefined || props.download.allowedHosts.length === 0
          ? {}
          : { EXPORT_ALLOWED_HOSTS: props.download.allowedHosts.join(',') }),
        ...(props.download.allowPrivateHosts === true
          ? { EXPORT_ALLOW_PRIVATE_HOSTS: 'true' }
          : {}),
        TABLE_NAME: props.table.tableName,
        ARCHIVE_BUCKET: props.archive.bucket.bucketName,
        EXPORT_QUEUE_URL: this.queue.queueUrl,
        DATASAUR_API_URL: props.datasaurApiUrl,
        DATASAUR_CREDENTIALS_SECRET_ARN: props.credentials.secretArn,
        EXPORT_FORMAT: props.exportFormat,
        EXPORT_BUDGET_SECONDS: String(EXPORT_BUDGET_SECONDS),
        EXPORT_MAX_ATTEMPTS: String(DEFAULT_EXPORT_MAX_ATTEMPTS),
      },
    });
    this.exporter.role.addToPolicy(
      new PolicyStatement({
        actions: EXPORTER_TABLE_ACTIONS.map((action) => `dynamodb:${action}`),
        resources: [props.table.tableArn],
        conditions: onlyPartitions(EXPORTER_ITEM_PARTITIONS),
      }),
    );
    props.credentials.grantRead(this.exporter.role);
    props.archive.grantPut(this.exporter.role, EXPORTS_PREFIX, { multipart: true });
    // Receive, delete and change-visibility (the retry delay) on this queue only.
    this.exporter.function.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: 1,
        reportBatchItemFailures: true,
        maxConcurrency: 5,
      }),
    );

    // The resume check: reads the WAITING status partition, queues those exports again.
    this.exporter.role.addToPolicy(
      new PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: [`${props.table.tableArn}/index/${TABLE.indexes.teamProjects.indexName}`],
      }),
    );
    this.queue.grantSendMessages(this.exporter.role);
    this.resumeSchedule = new Rule(this, 'ResumeSchedule', {
      description: 'Datasaur webhooks: starts exports waiting for Datasaur credentials',
      schedule: Schedule.rate(Duration.minutes(RESUME_EVERY_MINUTES)),
      targets: [
        new LambdaFunction(this.exporter.function, {
          event: RuleTargetInput.fromObject(RESUME_EVENT),
          retryAttempts: 2,
        }),
      ],
    });

    // The worker may send here and nothing else of export archiving.
    this.queue.grantSendMessages(props.worker.role);
    props.worker.function.addEnvironment('EXPORT_QUEUE_URL', this.queue.queueUrl);
    props.worker.function.addEnvironment('EXPORT_ON', props.exportOn);

    const failedExports = new MetricFilter(this, 'FailedExports', {
      logGroup: this.exporter.logGroup,
      filterPattern: FilterPattern.stringValue('$.message', '=', EXPORT_FAILED_MESSAGE),
      metricNamespace: props.metricsNamespace ?? METRICS_NAMESPACE,
      metricName: 'ExportsFailed',
      metricValue: '1',
    });
    this.exportsFailed = this.alarm(
      'ExportsFailed',
      failedExports.metric({ statistic: Stats.SUM, period: Duration.minutes(5) }),
      'An export was recorded FAILED: npm run query -- exports --status FAILED says why',
      props.alarmTopic,
    );
    this.urlsRefused = this.alarm(
      'ExportUrlsRefused',
      new Metric({
        namespace: props.metricsNamespace ?? METRICS_NAMESPACE,
        metricName: EXPORT_URL_REFUSED_METRIC,
        dimensionsMap: { service: EXPORTER_SERVICE_NAME },
        statistic: Stats.SUM,
        period: Duration.minutes(5),
      }),
      'An export file URL was refused (not https, not a public address, or not an allowed host): npm run query -- exports --status FAILED shows which project and why',
      props.alarmTopic,
    );
    this.exportsWaiting = this.alarm(
      'ExportsWaiting',
      new Metric({
        namespace: props.metricsNamespace ?? METRICS_NAMESPACE,
        metricName: EXPORTS_WAITING_METRIC,
        dimensionsMap: { service: EXPORTER_SERVICE_NAME },
        statistic: Stats.MAXIMUM,
        period: Duration.minutes(RESUME_EVERY_MINUTES),
      }),
      'Exports are WAITING for Datasaur credentials: fill the secret named by the DatasaurCredentialsSecretArn output (docs/deploy.md); they start by themselves within 10 minutes',
      props.alarmTopic,
    );
    this.deadLetterQueueNotEmpty = this.alarm(
      'ExportDeadLetterQueueNotEmpty',
      this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        statistic: Stats.MAXIMUM,
        period: Duration.minutes(5),
      }),
      'An export request could not be processed nor recorded FAILED: read the exporter log',
      props.alarmTopic,
    );
  }

  private alarm(id: string, metric: IMetric, description: string, topic: ITopic): Alarm {
    const alarm = new Alarm(this, id, {
      metric,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    });
    alarm.addAlarmAction(new SnsAction(topic));
    alarm.addOkAction(new SnsAction(topic));
    return alarm;
  }
}
