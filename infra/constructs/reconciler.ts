/**
 * The reconciler: a scheduled function that asks Datasaur's API for the projects of every
 * team the credentials can see (or of the configured teams) and repairs the webhooks Datasaur never delivered. It reads only the Datasaur
 * credentials secret and the table's items it needs, and sends only to the export queue;
 * two alarms say when webhooks are being missed and when it keeps failing.
 */
import { Duration } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  MathExpression,
  Metric,
  Stats,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ExportOn } from '../../shared/export/export-trigger.ts';
import { RECONCILE_METRICS } from '../../shared/reconcile/reconciler.ts';
import { BundledFunction, type FunctionLogLevels } from './bundled-function.ts';
import { grantHourlyCountUpdates } from './hourly-counts-grant.ts';

/** Lambda keeps an asynchronous invocation at most 6 hours. */
const MAX_EVENT_AGE_MINUTES = 360;

/** Item reads and writes on the table itself: no index, no Scan, no delete. */
export const RECONCILER_TABLE_ACTIONS = ['GetItem', 'BatchGetItem', 'PutItem', 'Query'] as const;

export interface ReconcilerProps {
  readonly table: ITable;
  /** JSON `{"clientId", "clientSecret"}` of Datasaur API credentials. */
  readonly credentials: ISecret;
  readonly datasaurApiUrl: string;
  /** Only these teams. @default every team the credentials can see (getAllTeams) */
  readonly teamIds?: readonly string[];
  readonly everyMinutes: number;
  readonly lookbackDays: number;
  /** Export archiving: where repaired transitions ask for their export. @default none */
  readonly exports?: { readonly queue: IQueue; readonly exportOn: Exclude<ExportOn, 'off'> };
  readonly alarmTopic: ITopic;
  readonly logRetention: RetentionDays;
  /** CloudWatch namespace of each run's figures. @default 'DatasaurWebhooks' */
  readonly metricsNamespace?: string;
  /** @default application INFO, system WARN */
  readonly logLevels?: FunctionLogLevels;
  /** Paging every project of a large workspace takes a while. @default 300 */
  readonly timeoutSeconds?: number;
}

export class Reconciler extends Construct {
  public readonly function: BundledFunction;
  public readonly schedule: Rule;
  /** A run found webhooks that never arrived (and repaired them). */
  public readonly gapsFound: Alarm;
  /** Two runs in a row failed (API or table errors, or the function itself). */
  public readonly failingRuns: Alarm;

  constructor(scope: Construct, id: string, props: ReconcilerProps) {
    super(scope, id);

    const metricsNamespace = props.metricsNamespace ?? RECONCILE_METRICS.namespace;
    this.function = new BundledFunction(this, 'Function', {
      entry: 'functions/reconcile/index.ts',
      description: 'Datasaur webhooks: repairs webhooks Datasaur never delivered',
      serviceName: RECONCILE_METRICS.service,
      memorySizeMb: 256,
      timeoutSeconds: props.timeoutSeconds ?? 300,
      logRetention: props.logRetention,
      ...(props.logLevels === undefined ? {} : { logLevels: props.logLevels }),
      environment: {
        TABLE_NAME: props.table.tableName,
        DATASAUR_API_URL: props.datasaurApiUrl,
        DATASAUR_CREDENTIALS_SECRET_ARN: props.credentials.secretArn,
        ...(props.teamIds === undefined || props.teamIds.length === 0
          ? {}
          : { DATASAUR_TEAM_IDS: props.teamIds.join(',') }),
        RECONCILE_LOOKBACK_DAYS: String(props.lookbackDays),
        POWERTOOLS_METRICS_NAMESPACE: metricsNamespace,
        ...(props.exports === undefined
          ? {}
          : { EXPORT_QUEUE_URL: props.exports.queue.queueUrl, EXPORT_ON: props.exports.exportOn }),
      },
    });
    props.exports?.queue.grantSendMessages(this.function.role);
    props.credentials.grantRead(this.function.role);
    this.function.role.addToPolicy(
      new PolicyStatement({
        actions: RECONCILER_TABLE_ACTIONS.map((action) => `dynamodb:${action}`),
        resources: [props.table.tableArn],
      }),
    );
    grantHourlyCountUpdates(this.function.role, props.table);

    const every = Duration.minutes(props.everyMinutes);
    this.schedule = new Rule(this, 'Schedule', {
      description: `Runs the Datasaur reconciler every ${props.everyMinutes} minutes`,
      schedule: Schedule.rate(every),
    });
    // No retry: the next scheduled run starts over, and a failed run is counted for the alarm.
    this.schedule.addTarget(new LambdaFunction(this.function.function, { retryAttempts: 0 }));
    // Nor by Lambda itself: by default it retries a failed asynchronous run twice and keeps a
    // throttled one queued for up to 6 hours. A run older than one period is the next one's.
    this.function.function.configureAsyncInvoke({
      retryAttempts: 0,
      maxEventAge: Duration.minutes(Math.min(props.everyMinutes, MAX_EVENT_AGE_MINUTES)),
    });

    const metric = (metricName: string) =>
      new Metric({
        namespace: metricsNamespace,
        metricName,
        dimensionsMap: { service: RECONCILE_METRICS.service },
        period: every,
        statistic: Stats.SUM,
      });
    this.gapsFound = new Alarm(this, 'GapsFound', {
      metric: metric(RECONCILE_METRICS.gapsFound),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription:
        'The reconciler found projects whose webhooks never arrived (and repaired them): Datasaur could not reach the endpoint, or the API answered 5xx. Check `npm run query -- reconcile` and the ingest alarms.',
    });
    this.failingRuns = new Alarm(this, 'FailingRuns', {
      metric: new MathExpression({
        expression: 'failed + errors',
        usingMetrics: {
          failed: metric(RECONCILE_METRICS.failedRuns),
          errors: this.function.function.metricErrors({ period: every, statistic: Stats.SUM }),
        },
        period: every,
        label: 'Failed reconcile runs',
      }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      // A run that reported nothing at all did not run: that is not a success either.
      treatMissingData: TreatMissingData.MISSING,
      alarmDescription:
        'Two reconcile runs in a row failed: read the errors of `npm run query -- reconcile` and the function logs (credentials in the Datasaur secret, team ids, API reachability).',
    });
    for (const alarm of [this.gapsFound, this.failingRuns]) {
      alarm.addAlarmAction(new SnsAction(props.alarmTopic));
      alarm.addOkAction(new SnsAction(props.alarmTopic));
    }
  }
}
