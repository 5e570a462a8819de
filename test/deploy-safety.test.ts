/**
 * What a deploy or a destroy must never lose: the secrets (kept, adoptable, their values never
 * rewritten by a template change), the logical ids of everything stateful (a new id makes
 * CloudFormation orphan the old resource and create an empty one), and the queues' retention.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import {
  type CfnResource,
  functionWithEnvironment,
  resourcesOfType,
  statementsOfFunctionRole,
  synthesizeApp,
} from './support/cdk-template.ts';

/** Every optional part on: the exporter, the reconciler, a created bus. */
const EVERYTHING_ON = { datasaurTeamIds: 'team-1', eventBusName: 'create' };

const templateOf = (context: Record<string, unknown>) =>
  Template.fromStack(synthesizeApp(context, { bundle: false }).stack);

const STATEFUL_TYPES = [
  'AWS::DynamoDB::Table',
  'AWS::S3::Bucket',
  'AWS::SecretsManager::Secret',
  'AWS::SQS::Queue',
];

/**
 * The logical ids of the stateful resources as deployed stacks know them. Changing one (by
 * renaming or moving a construct) would orphan the retained table, bucket or secret and
 * create an empty one: keep the construct ids, or pin the old id with `overrideLogicalId`.
 */
const PINNED_LOGICAL_IDS = {
  'AWS::DynamoDB::Table': ['EventStoreTable9A84AAAA'],
  'AWS::S3::Bucket': ['ArchiveAccessLogs31F4F9D7', 'ArchiveBucket49F1AC64'],
  'AWS::SecretsManager::Secret': ['DatasaurCredentials6E881EA6', 'IngestApiWebhookSecretFD072B93'],
  'AWS::SQS::Queue': [
    'EventPipelineDeadLetterQueue9C200182',
    'EventPipelineQueue7E13776F',
    'ExportArchiverDeadLetterQueue03F74B27',
    'ExportArchiverQueue697325D9',
  ],
};

/** Settings a later deploy may change; none of them may touch a secret. */
const OTHER_SETTINGS = [
  {},
  EVERYTHING_ON,
  {
    ...EVERYTHING_ON,
    throttleRateLimit: 20,
    maxBodyBytes: 1_000_000,
    webhookSecretCacheSeconds: 60,
    logRetentionDays: 365,
    exportOn: 'COMPLETED',
    exportFormat: 'json',
    datasaurApiUrl: 'https://datasaur.example.com',
    alarmEmail: 'ops@example.com',
  },
];

const secretsOf = (template: Template) =>
  resourcesOfType(template, 'AWS::SecretsManager::Secret').map(({ logicalId, Properties }) => ({
    logicalId,
    generated: Properties.GenerateSecretString,
    value: Properties.SecretString,
  }));
const byLogicalId = (a: { logicalId: string }, b: { logicalId: string }) =>
  a.logicalId.localeCompare(b.logicalId);

describe('logical ids of stateful resources', () => {
  it('stay the pinned ones', () => {
    const template = templateOf(EVERYTHING_ON);
    const found = Object.fromEntries(
      STATEFUL_TYPES.map((type) => [
        type,
        resourcesOfType(template, type)
          .map((resource) => resource.logicalId)
          .sort(),
      ]),
    );
    expect(found).toEqual(PINNED_LOGICAL_IDS);
  });
});

describe('secrets', () => {
  it('are kept when the stack is deleted or a resource replaced, like the table and buckets', () => {
    const secrets = resourcesOfType(templateOf(EVERYTHING_ON), 'AWS::SecretsManager::Secret');
    expect(secrets).toHaveLength(2);
    for (const secret of secrets) {
      expect(secret.DeletionPolicy).toBe('Retain');
      expect(secret.UpdateReplacePolicy).toBe('Retain');
    }
  });

  it('keep the fields that set their value identical whatever else a deploy changes', () => {
    const expected = [
      {
        logicalId: 'DatasaurCredentials6E881EA6',
        generated: undefined,
        // Written again by CloudFormation if it ever changes: it would empty the credentials.
        value: '{"clientId": "", "clientSecret": ""}',
      },
      {
        logicalId: 'IngestApiWebhookSecretFD072B93',
        // Any change generates a new value, and Datasaur's copy stops matching.
        generated: {
          ExcludePunctuation: true,
          GenerateStringKey: 'current',
          PasswordLength: 48,
          SecretStringTemplate: '{}',
        },
        value: undefined,
      },
    ];
    for (const context of OTHER_SETTINGS) {
      expect(secretsOf(templateOf(context)).sort(byLogicalId)).toEqual(expected);
    }
  });

  it('are adopted by ARN instead of created, with the same grants and outputs', () => {
    const webhookSecretArn =
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:DatasaurWebhooks-webhook-AbC123';
    const datasaurCredentialsSecretArn =
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:DatasaurWebhooks-credentials-XyZ789';
    const template = templateOf({
      ...EVERYTHING_ON,
      webhookSecretArn,
      datasaurCredentialsSecretArn,
    });
    expect(resourcesOfType(template, 'AWS::SecretsManager::Secret')).toEqual([]);

    const ingest = functionWithEnvironment(template, 'WEBHOOK_SECRET_ARN');
    const exporter = functionWithEnvironment(template, 'EXPORT_BUDGET_SECONDS');
    const reconciler = functionWithEnvironment(template, 'DATASAUR_TEAM_IDS');
    const variables = (fn: CfnResource) =>
      (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables(ingest).WEBHOOK_SECRET_ARN).toBe(webhookSecretArn);
    expect(variables(exporter).DATASAUR_CREDENTIALS_SECRET_ARN).toBe(datasaurCredentialsSecretArn);
    expect(variables(reconciler).DATASAUR_CREDENTIALS_SECRET_ARN).toBe(
      datasaurCredentialsSecretArn,
    );
    const readsSecret = (fn: CfnResource, arn: string) =>
      statementsOfFunctionRole(template, fn).some(
        (statement) =>
          JSON.stringify(statement.Action).includes('secretsmanager:GetSecretValue') &&
          JSON.stringify(statement.Resource) === JSON.stringify(arn),
      );
    expect(readsSecret(ingest, webhookSecretArn)).toBe(true);
    expect(readsSecret(exporter, datasaurCredentialsSecretArn)).toBe(true);
    expect(readsSecret(reconciler, datasaurCredentialsSecretArn)).toBe(true);

    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.WebhookSecretArn?.Value).toBe(webhookSecretArn);
    expect(outputs.DatasaurCredentialsSecretArn?.Value).toBe(datasaurCredentialsSecretArn);
  });
});

describe('queue retention', () => {
  it('keeps a dead-lettered message 10 days or more, though it keeps its original enqueue time', () => {
    const queues = resourcesOfType(templateOf(EVERYTHING_ON), 'AWS::SQS::Queue');
    const sources = queues.filter((queue) => queue.Properties.RedrivePolicy !== undefined);
    expect(sources).toHaveLength(2);
    for (const source of sources) {
      const target = (source.Properties.RedrivePolicy as { deadLetterTargetArn: unknown })
        .deadLetterTargetArn as { 'Fn::GetAtt': [string, string] };
      const deadLetterQueue = queues.find((q) => q.logicalId === target['Fn::GetAtt'][0]);
      expect(source.Properties.MessageRetentionPeriod).toBe(4 * 86_400);
      expect(deadLetterQueue?.Properties.MessageRetentionPeriod).toBe(14 * 86_400);
    }
  });
});
