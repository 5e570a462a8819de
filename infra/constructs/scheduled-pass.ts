/**
 * What the enricher and the reconciler share: a function that calls Datasaur's API with the
 * stack's credentials secret, run on a schedule and never retried (the next pass starts over),
 * and an alarm when passes keep failing. Each part is made in the caller's scope, under the
 * ids `Function`, `Schedule` and `FailingRuns`.
 */
import type { Duration } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  type IMetric,
  MathExpression,
  Stats,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { BundledFunction, type FunctionLogLevels } from './bundled-function.ts';

/** What the stack gives a scheduled pass. */
export interface DatasaurPassProps {
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

/**
 * The pass's function (256 MB), told the table, the API URL and the credentials secret. It is
 * granted nothing here: the caller grants the secret's read and what the pass needs, in the
 * order its role's policy lists them.
 */
export function datasaurPassFunction(
  scope: Construct,
  props: DatasaurPassProps,
  pass: {
    readonly entry: string;
    readonly description: string;
    readonly serviceName: string;
    readonly timeoutSeconds: number;
    /** Variables after the table, the API URL and the credentials secret. */
    readonly environment: Readonly<Record<string, string>>;
  },
): BundledFunction {
  return new BundledFunction(scope, 'Function', {
    entry: pass.entry,
    description: pass.description,
    serviceName: pass.serviceName,
    memorySizeMb: 256,
    timeoutSeconds: pass.timeoutSeconds,
    logRetention: props.logRetention,
    ...(props.logLevels === undefined ? {} : { logLevels: props.logLevels }),
    environment: {
      TABLE_NAME: props.table.tableName,
      DATASAUR_API_URL: props.datasaurApiUrl,
      DATASAUR_CREDENTIALS_SECRET_ARN: props.credentials.secretArn,
      ...pass.environment,
    },
  });
}

/**
 * Runs the function every period with no retry, neither by EventBridge nor by Lambda: a failed
 * pass is counted for the alarm and the next one starts over; a throttled one is dropped once
 * `maxEventAge` has passed.
 */
export function schedulePasses(
  scope: Construct,
  passFunction: BundledFunction,
  options: {
    readonly description: string;
    readonly every: Duration;
    readonly maxEventAge: Duration;
  },
): Rule {
  const schedule = new Rule(scope, 'Schedule', {
    description: options.description,
    schedule: Schedule.rate(options.every),
  });
  schedule.addTarget(new LambdaFunction(passFunction.function, { retryAttempts: 0 }));
  passFunction.function.configureAsyncInvoke({
    retryAttempts: 0,
    maxEventAge: options.maxEventAge,
  });
  return schedule;
}

/**
 * Raised when `passes` periods in a row each had a failed pass: one the pass reported (`failed`)
 * or one the function itself failed. A period with no figure at all is missing, not a success.
 */
export function failingPassesAlarm(
  scope: Construct,
  passFunction: BundledFunction,
  options: {
    readonly failed: IMetric;
    readonly every: Duration;
    readonly passes: number;
    readonly label: string;
    readonly description: string;
    readonly topic: ITopic;
  },
): Alarm {
  const alarm = new Alarm(scope, 'FailingRuns', {
    metric: new MathExpression({
      expression: 'failed + errors',
      usingMetrics: {
        failed: options.failed,
        errors: passFunction.function.metricErrors({ period: options.every, statistic: Stats.SUM }),
      },
      period: options.every,
      label: options.label,
    }),
    threshold: 1,
    comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: options.passes,
    datapointsToAlarm: options.passes,
    treatMissingData: TreatMissingData.MISSING,
    alarmDescription: options.description,
  });
  alarm.addAlarmAction(new SnsAction(options.topic));
  alarm.addOkAction(new SnsAction(options.topic));
  return alarm;
}
