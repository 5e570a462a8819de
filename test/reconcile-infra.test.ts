/**
 * The reconciler in the synthesized template: deployed only when enabled, scheduled from
 * context, least privilege, its two alarms, and no unacknowledged cdk-nag finding.
 */
import { rmSync } from 'node:fs';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../infra/config.ts';
import type { WebhookStack } from '../infra/stack.ts';
import { RECONCILE_METRICS } from '../shared/reconcile/reconciler.ts';
import {
  actionsOf,
  type CfnResource,
  environmentOf,
  functionWithEnvironment,
  logicalIdOf,
  type PolicyStatementJson,
  refersTo,
  resourcesOfType,
  statementsOfFunctionRole,
  synthesizeApp,
  synthesizeIntoDirectory,
  validationViolations,
} from './support/cdk-template.ts';

const CONTEXT = {
  datasaurTeamIds: '12, 34',
  reconcileEvery: '30 minutes',
  reconcileLookbackDays: '7',
  datasaurApiUrl: 'https://datasaur.example.com/',
};

let outdir: string;
let stack: WebhookStack;
let template: Template;
let reconciler: CfnResource;
let statements: PolicyStatementJson[];

beforeAll(() => {
  ({ outdir, stack, template } = synthesizeIntoDirectory(CONTEXT, 'datasaur-reconcile-synth-'));
  reconciler = functionWithEnvironment(template, 'DATASAUR_TEAM_IDS');
  statements = statementsOfFunctionRole(template, reconciler);
});
afterAll(() => {
  rmSync(outdir, { recursive: true, force: true });
});

const secretId = () => logicalIdOf(stack, stack.datasaurCredentials);
const queueId = () => logicalIdOf(stack, stack.exportArchiver?.queue);

const contextOf = (values: Record<string, string>) => ({
  tryGetContext: (name: string) => values[name],
});

describe('reconciler settings', () => {
  it('default to hourly, 30 days back, and a reconciler of every team the credentials can see (no team ids)', () => {
    expect(readConfig(contextOf({}))).toMatchObject({
      reconcileEveryMinutes: 60,
      reconcileLookbackDays: 30,
      datasaurTeamIds: [],
    });
    const { stack } = synthesizeApp({}, { bundle: false });
    expect(stack.reconciler).toBeDefined();
    const variables = environmentOf(
      functionWithEnvironment(Template.fromStack(stack), 'RECONCILE_LOOKBACK_DAYS'),
    );
    // No filter: the function asks getAllTeams.
    expect(variables.DATASAUR_TEAM_IDS).toBeUndefined();
    expect(variables.DATASAUR_CREDENTIALS_SECRET_ARN).toBeDefined();
  });

  it('accept off, minutes, hours and days, and refuse anything else', () => {
    const every = (value: string) =>
      readConfig(contextOf({ reconcileEvery: value })).reconcileEveryMinutes;
    expect(every('off')).toBeUndefined();
    expect(every('15 minutes')).toBe(15);
    expect(every('2 hours')).toBe(120);
    expect(every('1 day')).toBe(1440);
    expect(() => every('1 minute')).toThrow(/reconcileEvery must be "off" or a period/);
    expect(() => every('hourly')).toThrow(/reconcileEvery/);
    expect(() => readConfig(contextOf({ reconcileLookbackDays: '0' }))).toThrow(
      /reconcileLookbackDays must be a whole number from 1 to 3650/,
    );
  });

  it('deploy no reconciler when reconcileEvery is off', () => {
    const off = synthesizeApp(
      { ...CONTEXT, reconcileEvery: 'off', exportOn: 'off' },
      { bundle: false },
    ).stack;
    expect(off.reconciler).toBeUndefined();
    // The credentials secret stays (retained, it would otherwise be orphaned), named by no output.
    expect(Template.fromStack(off).toJSON().Outputs).not.toHaveProperty(
      'DatasaurCredentialsSecretArn',
    );
  });

  it('have the credentials secret without export archiving, and then send no export', () => {
    const alone = synthesizeApp({ ...CONTEXT, exportOn: 'off' }, { bundle: false }).stack;
    expect(alone.exportArchiver).toBeUndefined();
    expect(alone.datasaurCredentials).toBeDefined();
    const variables = environmentOf(
      functionWithEnvironment(Template.fromStack(alone), 'DATASAUR_TEAM_IDS'),
    );
    expect(variables.EXPORT_QUEUE_URL).toBeUndefined();
  });
});

describe('the reconciler function', () => {
  it('gets its teams, look-back, API, secret and export queue from context', () => {
    expect(reconciler.Properties.Environment).toMatchObject({
      Variables: {
        DATASAUR_TEAM_IDS: '12,34',
        RECONCILE_LOOKBACK_DAYS: '7',
        DATASAUR_API_URL: 'https://datasaur.example.com',
        DATASAUR_CREDENTIALS_SECRET_ARN: { Ref: secretId() },
        EXPORT_ON: 'REVIEWED',
      },
    });
    expect(refersTo(environmentOf(reconciler).EXPORT_QUEUE_URL, queueId())).toBe(true);
  });

  it('runs on the schedule from context, without retries', () => {
    // The other rule is the exporter's resume schedule.
    const rule = resourcesOfType(template, 'AWS::Events::Rule').filter((candidate) =>
      refersTo((candidate.Properties.Targets as { Arn: unknown }[])[0]?.Arn, reconciler.logicalId),
    );
    expect(rule).toHaveLength(1);
    expect(rule[0]?.Properties.ScheduleExpression).toBe('rate(30 minutes)');
    const targets = rule[0]?.Properties.Targets as { Arn: unknown; RetryPolicy: unknown }[];
    expect(refersTo(targets[0]?.Arn, reconciler.logicalId)).toBe(true);
    expect(targets[0]?.RetryPolicy).toEqual({ MaximumRetryAttempts: 0 });
  });

  it('is not retried by Lambda after a failed run, nor started late from a queued invocation', () => {
    // Lambda retries a failed asynchronous invocation twice, and keeps a throttled one for up
    // to 6 hours, by default: the next scheduled run starts over instead.
    // The enrichment function has its own (test/enrich-infra.test.ts).
    const configs = resourcesOfType(template, 'AWS::Lambda::EventInvokeConfig').filter((config) =>
      refersTo(config.Properties.FunctionName, reconciler.logicalId),
    );
    expect(configs).toHaveLength(1);
    expect(configs[0]?.Properties).toMatchObject({
      FunctionName: { Ref: reconciler.logicalId },
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 30 * 60,
    });
  });

  it('may read only the Datasaur secret, read and put table items, add to the hourly counts, send exports and write its logs', () => {
    const table = resourcesOfType(template, 'AWS::DynamoDB::Table')[0] as CfnResource;
    expect(actionsOf(statements).sort()).toEqual(
      [
        'dynamodb:BatchGetItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:SendMessage',
      ].sort(),
    );
    const secretStatement = statements.find((one) => refersTo(one.Resource, secretId()));
    expect(secretStatement?.Resource).toEqual({ Ref: secretId() });
    const queueStatement = statements.find((one) => actionsOf([one]).includes('sqs:SendMessage'));
    expect(refersTo(queueStatement?.Resource, queueId())).toBe(true);
    const tableStatement = statements.find((one) => refersTo(one.Resource, table.logicalId));
    expect(JSON.stringify(tableStatement?.Resource)).not.toContain('index');
    // Its items only in the partitions it keeps (dynamodb:LeadingKeys), Query included; the
    // counters have their own UpdateItem statement.
    const items = statements.find((one) => actionsOf([one]).includes('dynamodb:PutItem'));
    expect(actionsOf(items ? [items] : []).sort()).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
    ]);
    expect(items?.Condition).toEqual({
      'ForAllValues:StringLike': {
        'dynamodb:LeadingKeys': ['PROJECT#*', 'RECEIPT#*', 'RECONCILE', 'LEASE#RECONCILE'],
      },
    });
  });
});

describe('reconciler alarms', () => {
  const alarms = () => resourcesOfType(template, 'AWS::CloudWatch::Alarm');

  it('fire when one run finds a gap', () => {
    const alarm = alarms().find((one) => one.Properties.MetricName === RECONCILE_METRICS.gapsFound);
    expect(alarm?.Properties).toMatchObject({
      Namespace: 'DatasaurWebhooks',
      Dimensions: [{ Name: 'service', Value: RECONCILE_METRICS.service }],
      Period: 1800,
      Threshold: 1,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('fire when two runs in a row fail, counting function errors too', () => {
    const alarm = alarms().find((one) =>
      JSON.stringify(one.Properties.Metrics ?? []).includes(RECONCILE_METRICS.failedRuns),
    );
    expect(alarm?.Properties).toMatchObject({
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      Threshold: 1,
    });
    expect(JSON.stringify(alarm?.Properties.Metrics)).toContain('"MetricName":"Errors"');
    expect(alarm?.Properties.AlarmActions).toBeDefined();
  });
});

describe('cdk-nag with the reconciler deployed', () => {
  it('reports no finding that is not acknowledged in code', () => {
    expect(validationViolations(outdir)).toEqual([]);
  });
});
