/**
 * What a deploy or a destroy must never lose: the secrets (kept, adoptable, their values never
 * rewritten by a template change), the logical ids of everything stateful (a new id makes
 * CloudFormation orphan the old resource and create an empty one), and the queues' retention.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import {
  type CfnResource,
  environmentOf,
  functionWithEnvironment,
  resourcesOfType,
  statementsOfFunctionRole,
  synthesizeTemplate,
} from './support/cdk-template.ts';

/** Every optional part on: the exporter, the reconciler, a created bus. */
const EVERYTHING_ON = { datasaurTeamIds: 'team-1', eventBusName: 'create' };

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
  // Nothing calls Datasaur: the credentials secret stays all the same, so switching either back
  // on finds the credentials entered instead of a new, empty secret.
  { exportOn: 'off', reconcileEvery: 'off' },
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
    const template = synthesizeTemplate(EVERYTHING_ON);
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
    const secrets = resourcesOfType(
      synthesizeTemplate(EVERYTHING_ON),
      'AWS::SecretsManager::Secret',
    );
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
      expect(secretsOf(synthesizeTemplate(context)).sort(byLogicalId)).toEqual(expected);
    }
  });

  it('name the credentials secret, and run the enrichment, only while something calls Datasaur', () => {
    const off = synthesizeTemplate({ exportOn: 'off', reconcileEvery: 'off' }).toJSON();
    expect(off.Outputs).not.toHaveProperty('DatasaurCredentialsSecretArn');
    expect(Object.keys(off.Resources).filter((id) => id.startsWith('Enricher'))).toEqual([]);
    const on = synthesizeTemplate({}).toJSON();
    expect(on.Outputs).toHaveProperty('DatasaurCredentialsSecretArn');
  });

  it('are adopted by ARN instead of created, with the same grants and outputs', () => {
    const webhookSecretArn =
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:DatasaurWebhooks-webhook-AbC123';
    const datasaurCredentialsSecretArn =
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:DatasaurWebhooks-credentials-XyZ789';
    const template = synthesizeTemplate({
      ...EVERYTHING_ON,
      webhookSecretArn,
      datasaurCredentialsSecretArn,
    });
    expect(resourcesOfType(template, 'AWS::SecretsManager::Secret')).toEqual([]);

    const ingest = functionWithEnvironment(template, 'WEBHOOK_SECRET_ARN');
    const exporter = functionWithEnvironment(template, 'EXPORT_BUDGET_SECONDS');
    const reconciler = functionWithEnvironment(template, 'DATASAUR_TEAM_IDS');
    expect(environmentOf(ingest).WEBHOOK_SECRET_ARN).toBe(webhookSecretArn);
    expect(environmentOf(exporter).DATASAUR_CREDENTIALS_SECRET_ARN).toBe(
      datasaurCredentialsSecretArn,
    );
    expect(environmentOf(reconciler).DATASAUR_CREDENTIALS_SECRET_ARN).toBe(
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
    const queues = resourcesOfType(synthesizeTemplate(EVERYTHING_ON), 'AWS::SQS::Queue');
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

describe('two stages in one account', () => {
  const stages = ['DatasaurWebhooks-dev', 'DatasaurWebhooks-prod'].map((stackName) =>
    synthesizeTemplate({ ...EVERYTHING_ON, stackName }).toJSON(),
  );
  const resources = (template: Record<string, unknown>) =>
    Object.values(
      template.Resources as Record<string, { Type: string; Properties?: Record<string, unknown> }>,
    );

  /** The values of an environment variable across the stack's functions that set it. */
  const variableOfFunctions = (template: Record<string, unknown>, name: string) =>
    resources(template).flatMap((resource) => {
      const environment = resource.Properties?.Environment as
        | { Variables?: Record<string, unknown> }
        | undefined;
      const value = environment?.Variables?.[name];
      return resource.Type === 'AWS::Lambda::Function' && value !== undefined ? [value] : [];
    });

  /**
   * Names unique in an account (or an account and region) that the template sets; a resource
   * without one gets a generated name, which cannot collide.
   */
  const PHYSICAL_NAMES: Record<string, string> = {
    'AWS::CloudWatch::Dashboard': 'DashboardName',
    'AWS::CloudWatch::Alarm': 'AlarmName',
    'AWS::DynamoDB::Table': 'TableName',
    'AWS::S3::Bucket': 'BucketName',
    'AWS::SQS::Queue': 'QueueName',
    'AWS::SNS::Topic': 'TopicName',
    'AWS::Lambda::Function': 'FunctionName',
    'AWS::Logs::LogGroup': 'LogGroupName',
    'AWS::IAM::Role': 'RoleName',
    'AWS::SecretsManager::Secret': 'Name',
    'AWS::KMS::Alias': 'AliasName',
    'AWS::Events::EventBus': 'Name',
    'AWS::Events::Rule': 'Name',
    'AWS::Events::Archive': 'ArchiveName',
    'AWS::EventSchemas::Registry': 'RegistryName',
  };
  const physicalNames = (template: Record<string, unknown>) =>
    resources(template).flatMap((resource) => {
      const property = PHYSICAL_NAMES[resource.Type];
      const name = property === undefined ? undefined : resource.Properties?.[property];
      return name === undefined ? [] : [`${resource.Type} ${JSON.stringify(name)}`];
    });

  /** Namespace and dimensions of every metric an alarm or a metric filter names. */
  const metrics = (template: Record<string, unknown>) =>
    resources(template).flatMap((resource) => {
      const p = resource.Properties ?? {};
      if (resource.Type === 'AWS::Logs::MetricFilter') {
        return (p.MetricTransformations as { MetricNamespace: string }[]).map((t) => ({
          namespace: t.MetricNamespace,
          dimensions: [] as unknown[],
        }));
      }
      if (resource.Type !== 'AWS::CloudWatch::Alarm') return [];
      const single = p.Namespace === undefined ? [] : [p];
      const inMath = (
        (p.Metrics as { MetricStat?: { Metric: Record<string, unknown> } }[]) ?? []
      ).flatMap((query) => (query.MetricStat === undefined ? [] : [query.MetricStat.Metric]));
      return [...single, ...inMath].map((metric) => ({
        namespace: metric.Namespace as string,
        dimensions: (metric.Dimensions ?? []) as unknown[],
      }));
    });

  it('give their resources different physical names, the dashboard named per region too', () => {
    const [dev = {}, prod = {}] = stages;
    const devNames = physicalNames(dev);
    expect(devNames.length).toBeGreaterThan(0);
    expect(devNames.filter((name) => physicalNames(prod).includes(name))).toEqual([]);
    const dashboard = resources(dev).find((r) => r.Type === 'AWS::CloudWatch::Dashboard');
    expect(JSON.stringify(dashboard?.Properties?.DashboardName)).toContain('AWS::Region');
  });

  it("publish their own metrics: the stack's namespace, or AWS's with a dimension naming the stack's resource", () => {
    const [dev = {}, prod = {}] = stages;
    for (const [template, stackName] of [
      [dev, 'DatasaurWebhooks-dev'],
      [prod, 'DatasaurWebhooks-prod'],
    ] as const) {
      const found = metrics(template);
      expect(found.length).toBeGreaterThan(10);
      for (const { namespace, dimensions } of found) {
        if (namespace.startsWith('AWS/')) {
          expect(JSON.stringify(dimensions)).toMatch(/"Ref"|"Fn::GetAtt"/);
        } else {
          expect(namespace).toBe(stackName);
        }
      }
    }
    // The worker, the exporter (its refused-URL count), the reconciler and the enrichment.
    expect(variableOfFunctions(dev, 'POWERTOOLS_METRICS_NAMESPACE')).toEqual([
      'DatasaurWebhooks-dev',
      'DatasaurWebhooks-dev',
      'DatasaurWebhooks-dev',
      'DatasaurWebhooks-dev',
    ]);
    expect(variableOfFunctions(prod, 'POWERTOOLS_METRICS_NAMESPACE')).toEqual([
      'DatasaurWebhooks-prod',
      'DatasaurWebhooks-prod',
      'DatasaurWebhooks-prod',
      'DatasaurWebhooks-prod',
    ]);
  });

  it('publish their events with different sources, the default stack keeping datasaur.webhooks', () => {
    const sources = stages.map((template) => variableOfFunctions(template, 'EVENT_SOURCE'));
    expect(sources).toEqual([
      ['datasaur.webhooks.DatasaurWebhooks-dev', 'datasaur.webhooks.DatasaurWebhooks-dev'],
      ['datasaur.webhooks.DatasaurWebhooks-prod', 'datasaur.webhooks.DatasaurWebhooks-prod'],
    ]);
    const defaultStack = functionWithEnvironment(synthesizeTemplate({}), 'WORKER_CONCURRENCY');
    expect(environmentOf(defaultStack).EVENT_SOURCE).toBe('datasaur.webhooks');
  });
});
