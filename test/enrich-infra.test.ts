/**
 * The label enrichment in the synthesized template: deployed with the Datasaur credentials,
 * every 10 minutes, one pass at a time, exactly the table grants a pass uses, its alarm, its
 * log-group output, and no unacknowledged cdk-nag finding.
 */
import { rmSync } from 'node:fs';
import type { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebhookStack } from '../infra/stack.ts';
import { ENRICH_METRICS } from '../shared/enrich/enrich.ts';
import { STACK_OUTPUTS } from '../shared/runtime/stack-outputs.ts';
import {
  actionsOf,
  type CfnResource,
  environmentOf,
  functionWithService,
  logicalIdOf,
  type PolicyStatementJson,
  refersTo,
  resourcesOfType,
  statementsOfFunctionRole,
  synthesizeApp,
  synthesizeIntoDirectory,
  validationViolations,
} from './support/cdk-template.ts';

const CONTEXT = { datasaurApiUrl: 'https://datasaur.example.com/' };

let outdir: string;
let stack: WebhookStack;
let template: Template;
let enricher: CfnResource;
let statements: PolicyStatementJson[];

beforeAll(() => {
  ({ outdir, stack, template } = synthesizeIntoDirectory(CONTEXT, 'datasaur-enrich-synth-'));
  enricher = functionWithService(template, ENRICH_METRICS.service);
  statements = statementsOfFunctionRole(template, enricher);
});
afterAll(() => {
  rmSync(outdir, { recursive: true, force: true });
});

const tableId = () => resourcesOfType(template, 'AWS::DynamoDB::Table')[0]?.logicalId ?? '';

describe('the enrichment function', () => {
  it('is deployed whenever something calls Datasaur (exports or the reconciler), and not without', () => {
    expect(stack.enricher).toBeDefined();
    // The default stack reconciles, so it calls Datasaur and has the enrichment.
    expect(synthesizeApp({}, { bundle: false }).stack.enricher).toBeDefined();
    const off = synthesizeApp({ reconcileEvery: 'off', exportOn: 'off' }, { bundle: false }).stack;
    expect(off.enricher).toBeUndefined();
  });

  it('reads its table, API and credentials secret from the environment', () => {
    expect(enricher.Properties.Environment).toMatchObject({
      Variables: {
        DATASAUR_API_URL: 'https://datasaur.example.com',
        DATASAUR_CREDENTIALS_SECRET_ARN: { Ref: logicalIdOf(stack, stack.datasaurCredentials) },
        POWERTOOLS_METRICS_NAMESPACE: 'DatasaurWebhooks',
      },
    });
    expect(refersTo(environmentOf(enricher).TABLE_NAME, tableId())).toBe(true);
  });

  it('never runs two passes at once (reserved concurrency 1)', () => {
    expect(enricher.Properties.ReservedConcurrentExecutions).toBe(1);
  });

  it('runs every 10 minutes on its own rule, without retries', () => {
    const rules = resourcesOfType(template, 'AWS::Events::Rule').filter((rule) =>
      refersTo(rule.Properties.Targets, enricher.logicalId),
    );
    expect(rules).toHaveLength(1);
    expect(rules[0]?.Properties.ScheduleExpression).toBe('rate(10 minutes)');
    const targets = rules[0]?.Properties.Targets as { RetryPolicy: unknown }[];
    expect(targets).toHaveLength(1);
    expect(targets[0]?.RetryPolicy).toEqual({ MaximumRetryAttempts: 0 });
  });

  it('is not retried by Lambda, and a pass queued longer than one period is dropped', () => {
    const configs = resourcesOfType(template, 'AWS::Lambda::EventInvokeConfig').filter((config) =>
      refersTo(config.Properties.FunctionName, enricher.logicalId),
    );
    expect(configs).toHaveLength(1);
    expect(configs[0]?.Properties).toMatchObject({
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 600,
    });
  });

  it('may read only the Datasaur secret, put and update table items, query the table, GSI1 and GSI4, and write its logs', () => {
    expect(actionsOf(statements).sort()).toEqual(
      [
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
      ].sort(),
    );
    const secretStatement = statements.find((one) =>
      actionsOf([one]).includes('secretsmanager:GetSecretValue'),
    );
    expect(secretStatement?.Resource).toEqual({
      Ref: logicalIdOf(stack, stack.datasaurCredentials),
    });

    const writes = statements.find((one) => actionsOf([one]).includes('dynamodb:UpdateItem'));
    expect(actionsOf(writes ? [writes] : []).sort()).toEqual([
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ]);
    expect(writes?.Resource).toEqual({ 'Fn::GetAtt': [tableId(), 'Arn'] });
    // Only in the partitions it keeps: documents' projects, label events, projects' label
    // counters and its own progress (dynamodb:LeadingKeys).
    expect(writes?.Condition).toEqual({
      'ForAllValues:StringLike': {
        'dynamodb:LeadingKeys': ['DOC#*', 'DOCUMENT#*', 'PROJECT#*', 'ENRICH'],
      },
    });

    const query = statements.find((one) => actionsOf([one]).includes('dynamodb:Query'));
    expect(actionsOf(query ? [query] : [])).toEqual(['dynamodb:Query']);
    const resources = query?.Resource as unknown[];
    expect(resources).toHaveLength(3);
    expect(resources[0]).toEqual({ 'Fn::GetAtt': [tableId(), 'Arn'] });
    const indexes = resources.slice(1).map((resource) => JSON.stringify(resource));
    expect(indexes[0]).toContain('/index/GSI1');
    expect(indexes[1]).toContain('/index/GSI4');
    expect(JSON.stringify(resources)).not.toContain('/index/*');
  });
});

describe('the enrichment alarm', () => {
  it('fires when three passes in a row fail, counting function errors too, and notifies the topic', () => {
    const alarm = resourcesOfType(template, 'AWS::CloudWatch::Alarm').find((one) =>
      JSON.stringify(one.Properties.Metrics ?? []).includes(ENRICH_METRICS.failedRuns),
    );
    expect(alarm?.Properties).toMatchObject({
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'missing',
    });
    const metrics = JSON.stringify(alarm?.Properties.Metrics);
    expect(metrics).toContain('"MetricName":"Errors"');
    expect(metrics).toContain(`"Value":"${ENRICH_METRICS.service}"`);
    expect(metrics).toContain('"Period":600');
    expect(refersTo(alarm?.Properties.Metrics, enricher.logicalId)).toBe(true);
    expect(alarm?.Properties.AlarmActions).toHaveLength(1);
  });
});

describe('the enrichment outputs', () => {
  it('name its log group for the operate resolver', () => {
    const output = template.toJSON().Outputs[STACK_OUTPUTS.enricherLogGroupName] as {
      Value: unknown;
    };
    const logGroup = resourcesOfType(template, 'AWS::Logs::LogGroup').find((group) =>
      refersTo(output.Value, group.logicalId),
    );
    expect(logGroup).toBeDefined();
    expect(refersTo(enricher.Properties.LoggingConfig, logGroup?.logicalId ?? '')).toBe(true);
  });
});

describe('cdk-nag with the enrichment deployed', () => {
  it('reports no finding that is not acknowledged in code', () => {
    expect(validationViolations(outdir)).toEqual([]);
  });
});
