/**
 * The enrichment: a scheduled function that learns the Datasaur project of each document
 * whose label events arrived without one (shared/enrich), fills it into those label events
 * and recounts the projects. One pass at a time (reserved concurrency 1); it reads only the
 * Datasaur credentials secret and the table items and indexes the pass uses; an alarm says
 * when passes keep failing.
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
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ENRICH_METRICS } from '../../shared/enrich/enrich.ts';
import { TABLE } from '../../shared/store/table.ts';
import { BundledFunction, type FunctionLogLevels } from './bundled-function.ts';

/** Between two passes: label events are listed by project within about this long. */
export const ENRICH_EVERY_MINUTES = 10;

/**
 * What a pass does to the table (shared/enrich/enrich.ts): queries the pending documents
 * (GSI1), a document's label items (the table) and a project's label events (GSI4); updates
 * mappings and label items; puts a project's counts. No GetItem, no Scan, no delete.
 */
export const ENRICH_TABLE_ACTIONS = ['PutItem', 'UpdateItem'] as const;
export const ENRICH_QUERY_INDEXES = [
  TABLE.indexes.teamProjects.indexName,
  TABLE.indexes.projectLabels.indexName,
] as const;

export interface EnricherProps {
  readonly table: ITable;
  /** JSON `{"clientId", "clientSecret"}` of Datasaur API credentials. */
  readonly credentials: ISecret;
  readonly datasaurApiUrl: string;
  readonly alarmTopic: ITopic;
  readonly logRetention: RetentionDays;
  /** CloudWatch namespace of each pass's figures. @default 'DatasaurWebhooks' */
  readonly metricsNamespace?: string;
  /** @default application INFO, system WARN */
  readonly logLevels?: FunctionLogLevels;
}

export class Enricher extends Construct {
  public readonly function: BundledFunction;
  public readonly schedule: Rule;
  /** Two passes in a row failed (Datasaur or table errors, or the function itself). */
  public readonly failingRuns: Alarm;

  constructor(scope: Construct, id: string, props: EnricherProps) {
    super(scope, id);

    const metricsNamespace = props.metricsNamespace ?? ENRICH_METRICS.namespace;
    this.function = new BundledFunction(this, 'Function', {
      entry: 'functions/enrich/index.ts',
      description: 'Datasaur webhooks: gives label events their project',
      serviceName: ENRICH_METRICS.service,
      memorySizeMb: 256,
      // A pass is bounded (50 Datasaur requests, 1000 item updates): well inside one period.
      timeoutSeconds: 300,
      logRetention: props.logRetention,
      ...(props.logLevels === undefined ? {} : { logLevels: props.logLevels }),
      environment: {
        TABLE_NAME: props.table.tableName,
        DATASAUR_API_URL: props.datasaurApiUrl,
        DATASAUR_CREDENTIALS_SECRET_ARN: props.credentials.secretArn,
        POWERTOOLS_METRICS_NAMESPACE: metricsNamespace,
      },
    });
    // Single flight: a pass never overlaps another (a late scheduled one waits, then expires).
    (this.function.function.node.defaultChild as CfnFunction).reservedConcurrentExecutions = 1;
    props.credentials.grantRead(this.function.role);
    this.function.role.addToPolicy(
      new PolicyStatement({
        actions: ENRICH_TABLE_ACTIONS.map((action) => `dynamodb:${action}`),
        resources: [props.table.tableArn],
      }),
    );
    this.function.role.addToPolicy(
      new PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: [
          props.table.tableArn,
          ...ENRICH_QUERY_INDEXES.map((index) => `${props.table.tableArn}/index/${index}`),
        ],
      }),
    );

    const every = Duration.minutes(ENRICH_EVERY_MINUTES);
    this.schedule = new Rule(this, 'Schedule', {
      description: `Runs the Datasaur label enrichment every ${ENRICH_EVERY_MINUTES} minutes`,
      schedule: Schedule.rate(every),
    });
    // No retry: the next pass picks up whatever this one left (documents wait with back-off).
    this.schedule.addTarget(new LambdaFunction(this.function.function, { retryAttempts: 0 }));
    // Nor by Lambda: a failed pass is not retried, a throttled one is dropped after one period.
    this.function.function.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: every });

    this.failingRuns = new Alarm(this, 'FailingRuns', {
      metric: new MathExpression({
        expression: 'failed + errors',
        usingMetrics: {
          failed: new Metric({
            namespace: metricsNamespace,
            metricName: ENRICH_METRICS.failedRuns,
            dimensionsMap: { service: ENRICH_METRICS.service },
            period: every,
            statistic: Stats.SUM,
          }),
          errors: this.function.function.metricErrors({ period: every, statistic: Stats.SUM }),
        },
        period: every,
        label: 'Failed enrichment passes',
      }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      // A pass that reported nothing at all did not run: that is not a success either.
      treatMissingData: TreatMissingData.MISSING,
      alarmDescription:
        'Three enrichment passes in a row failed: label events are not getting their project. Read the function logs (Datasaur API reachability, the credentials in the Datasaur secret) and `npm run enrich` by hand.',
    });
    this.failingRuns.addAlarmAction(new SnsAction(props.alarmTopic));
    this.failingRuns.addOkAction(new SnsAction(props.alarmTopic));
  }
}
