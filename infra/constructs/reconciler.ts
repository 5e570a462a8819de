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
  Metric,
  Stats,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { Rule } from 'aws-cdk-lib/aws-events';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ExportOn } from '../../shared/export/export-trigger.ts';
import { RECONCILE_METRICS } from '../../shared/reconcile/reconciler.ts';
import type { BundledFunction } from './bundled-function.ts';
import { grantHourlyCountUpdates } from './hourly-counts-grant.ts';
import { onlyPartitions, RECONCILER_ITEM_PARTITIONS } from './item-partitions.ts';
import {
  type DatasaurPassProps,
  datasaurPassFunction,
  failingPassesAlarm,
  schedulePasses,
} from './scheduled-pass.ts';

/** Lambda keeps an asynchronous invocation at most 6 hours. */
const MAX_EVENT_AGE_MINUTES = 360;

/** Item reads and writes on the table itself: no index, no Scan, no delete. */
export const RECONCILER_TABLE_ACTIONS = ['GetItem', 'BatchGetItem', 'PutItem', 'Query'] as const;

export interface ReconcilerProps extends DatasaurPassProps {
  /** Only these teams. @default every team the credentials can see (getAllTeams) */
  readonly teamIds?: readonly string[];
  readonly everyMinutes: number;
  readonly lookbackDays: number;
  /** Export archiving: where repaired transitions ask for their export. @default none */
  readonly exports?: { readonly queue: IQueue; readonly exportOn: Exclude<ExportOn, 'off'> };
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
    this.function = datasaurPassFunction(this, props, {
      entry: 'functions/reconcile/index.ts',
      description: 'Datasaur webhooks: repairs webhooks Datasaur never delivered',
      serviceName: RECONCILE_METRICS.service,
      timeoutSeconds: props.timeoutSeconds ?? 300,
      environment: {
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
        conditions: onlyPartitions(RECONCILER_ITEM_PARTITIONS),
      }),
    );
    grantHourlyCountUpdates(this.function.role, props.table);

    // Lambda would otherwise keep a throttled run queued for up to 6 hours: a run older than
    // one period is the next one's.
    const every = Duration.minutes(props.everyMinutes);
    this.schedule = schedulePasses(this, this.function, {
      description: `Runs the Datasaur reconciler every ${props.everyMinutes} minutes`,
      every,
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
    this.gapsFound.addAlarmAction(new SnsAction(props.alarmTopic));
    this.gapsFound.addOkAction(new SnsAction(props.alarmTopic));
    this.failingRuns = failingPassesAlarm(this, this.function, {
      failed: metric(RECONCILE_METRICS.failedRuns),
      every,
      passes: 2,
      label: 'Failed reconcile runs',
      description:
        'Two reconcile runs in a row failed: read the errors of `npm run query -- reconcile` and the function logs (credentials in the Datasaur secret, team ids, API reachability).',
      topic: props.alarmTopic,
    });
  }
}
