/**
 * What the stack gives its operators: the outputs the `--stack` resolver reads (named once in
 * shared/runtime/stack-outputs.ts), the deployed version, and a managed policy allowing exactly
 * what the CLIs call, on this stack's resources, with every cdk-nag finding acknowledged.
 */
import { readFileSync } from 'node:fs';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { STACK_OUTPUTS } from '../shared/runtime/stack-outputs.ts';
import {
  type PolicyStatementJson,
  resourcesOfType,
  synthesizeApp,
} from './support/cdk-template.ts';

const FULL = { datasaurTeamIds: 'T1', reconcileEvery: '1 hour' };
const VERSION = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;

let template: Template;
let statements: PolicyStatementJson[];

beforeAll(() => {
  const { app, stack } = synthesizeApp(FULL, { bundle: false });
  // Throws when an AwsSolutions finding is not acknowledged.
  app.synth();
  template = Template.fromStack(stack);
  const [policy, ...others] = resourcesOfType(template, 'AWS::IAM::ManagedPolicy');
  expect(others).toEqual([]);
  const document = policy?.Properties.PolicyDocument as { Statement: PolicyStatementJson[] };
  statements = document.Statement;
});

const actionsOf = (sid: string) => {
  const statement = statements.find((one) => (one as { Sid?: string }).Sid === sid);
  const actions = statement?.Action ?? [];
  return (Array.isArray(actions) ? actions : [actions]).sort();
};

describe('outputs for the operators', () => {
  it('names every output the --stack resolver knows, with export archiving and the reconciler on', () => {
    const outputs = Object.keys(template.toJSON().Outputs as object);
    expect(outputs.sort()).toEqual(expect.arrayContaining(Object.values(STACK_OUTPUTS).sort()));
  });

  it("reports package.json's version", () => {
    template.hasOutput(STACK_OUTPUTS.version, { Value: VERSION });
  });

  it('gives the operator policy ARN', () => {
    const policy = resourcesOfType(template, 'AWS::IAM::ManagedPolicy')[0];
    template.hasOutput(STACK_OUTPUTS.operatorPolicyArn, { Value: { Ref: policy?.logicalId } });
  });
});

describe('operator policy', () => {
  it('allows exactly the calls of the CLIs and aws logs tail', () => {
    expect(statements.flatMap((statement) => statement.Action).sort()).toEqual(
      [
        'apigateway:GET',
        'cloudformation:DescribeStacks',
        'cloudformation:ListStackResources',
        'cloudwatch:DescribeAlarms',
        'dynamodb:BatchGetItem',
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
        'events:PutEvents',
        'logs:FilterLogEvents',
        'logs:StartLiveTail',
        's3:GetObject',
        'secretsmanager:GetSecretValue',
        'secretsmanager:PutSecretValue',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:ListMessageMoveTasks',
        'sqs:ReceiveMessage',
        'sqs:SendMessage',
        'sqs:StartMessageMoveTask',
      ].sort(),
    );
  });

  it("reads the routes of this stack's API only (the webhook URL's path token), nothing else of API Gateway", () => {
    const api = resourcesOfType(template, 'AWS::ApiGatewayV2::Api')[0];
    const statement = statements.find(
      (one) => (one as { Sid?: string }).Sid === 'ReadTheWebhookRoutes',
    );
    expect(statement?.Action).toBe('apigateway:GET');
    expect(statement?.Resource).toEqual({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':apigateway:',
          { Ref: 'AWS::Region' },
          '::/apis/',
          { Ref: api?.logicalId },
          '/routes',
        ],
      ],
    });
    expect(
      statements.filter((one) =>
        [one.Action].flat().some((action) => action.startsWith('apigateway:')),
      ),
    ).toHaveLength(1);
  });

  it('names this stack, its table, its bucket prefix, its queues, its secrets and its log groups', () => {
    const resources = JSON.stringify(statements.map((statement) => statement.Resource));
    expect(resources).toContain(':stack/DatasaurWebhooks/*');
    expect(resources).toContain('/bodies/*');
    // The console's export downloads: pre-signed GetObject URLs, under exports/ only.
    expect(resources).toContain('/exports/*');
    expect(resources).not.toMatch(/"Resource":"\*"|"\*"/);
    expect(actionsOf('RedriveAndWatchDeadLetterQueues')).toContain('sqs:StartMessageMoveTask');
    // Item actions on the table only; an index takes Query alone.
    expect(actionsOf('QueryTheIndexes')).toEqual(['dynamodb:Query']);
    const tableStatement = statements.find(
      (one) => (one as { Sid?: string }).Sid === 'ReadAndRepairTheTable',
    );
    expect(JSON.stringify(tableStatement?.Resource)).not.toContain('/index/');
    // Two DLQs (webhooks, exports), two secrets, five log groups (ingest, worker, exporter,
    // reconciler, enrichment) in both ARN forms.
    const count = (sid: string) =>
      [statements.find((one) => (one as { Sid?: string }).Sid === sid)?.Resource].flat().length;
    expect(count('RedriveAndWatchDeadLetterQueues')).toBe(2);
    expect(count('ReadAndSetSecrets')).toBe(2);
    expect(count('TailLogs')).toBe(10);
  });

  it("allows the console's reconcile action: the credentials secret, the lease, repairs and run in the table, exports", () => {
    const logicalId = (type: string, prefix: string) =>
      resourcesOfType(template, type).find((one) => one.logicalId.startsWith(prefix))?.logicalId;
    const credentials = logicalId('AWS::SecretsManager::Secret', 'DatasaurCredentials');
    const table = logicalId('AWS::DynamoDB::Table', 'EventStoreTable');
    const exportQueue = logicalId('AWS::SQS::Queue', 'ExportArchiverQueue');
    const allowed = (action: string, resource: unknown) =>
      statements.some(
        (statement) =>
          [statement.Action].flat().includes(action) &&
          JSON.stringify([statement.Resource].flat()).includes(JSON.stringify(resource)),
      );
    expect(allowed('secretsmanager:GetSecretValue', { Ref: credentials })).toBe(true);
    for (const action of ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query']) {
      expect(allowed(action, { 'Fn::GetAtt': [table, 'Arn'] }), action).toBe(true);
    }
    expect(allowed('sqs:SendMessage', { 'Fn::GetAtt': [exportQueue, 'Arn'] })).toBe(true);
  });
});
