/**
 * The synthesized template keeps every property the deployment relies on. One synthesis with
 * non-default context (so the test also proves each setting reaches its resource), no bundling.
 */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { BATCH_FIGURES, METRICS_NAMESPACE } from '../shared/store/batch-figures.ts';
import { INDEXES, TABLE } from '../shared/store/table.ts';
import { webhookRouteKeys } from '../shared/webhook/route.ts';
import {
  actionsOf,
  type CfnResource,
  functionWithEnvironment,
  type PolicyStatementJson,
  refersTo,
  resourcesOfType,
  statementsOfFunctionRole,
  synthesizeTemplate,
} from './support/cdk-template.ts';
import { TEST_SECRETS } from './support/test-secrets.ts';

const CONTEXT = {
  throttleRateLimit: '25',
  throttleBurstLimit: 40,
  ingestMemoryMb: 256,
  ingestTimeoutSeconds: 8,
  workerMemoryMb: 1024,
  workerTimeoutSeconds: 20,
  workerBatchSize: 25,
  workerBatchingWindowSeconds: 2,
  workerMaxConcurrency: 4,
  maxReceiveCount: 3,
  tableMaxWriteRequestUnits: 20_000,
  tableMaxReadRequestUnits: 30_000,
  tableWarmWriteUnitsPerSecond: 8_000,
  tableWarmReadUnitsPerSecond: 15_000,
  maxBodyBytes: 300_000,
  oldestMessageAgeAlarmSeconds: 600,
  alarmEmail: 'ops@example.com',
  logRetentionDays: 14,
  rawTtlDays: 90,
  bodyRetentionDays: 400,
  logLevel: 'warn',
  systemLogLevel: 'INFO',
  // Export archiving and the reconciler have their own tests (export-infra, reconcile-infra);
  // this one covers the rest.
  exportOn: 'off',
  reconcileEvery: 'off',
};

let template: Template;
let queue: CfnResource;
let deadLetterQueue: CfnResource;
let worker: CfnResource;
let ingest: CfnResource;
let table: CfnResource;
let secret: CfnResource;

beforeAll(() => {
  template = synthesizeTemplate(CONTEXT);
  const queues = resourcesOfType(template, 'AWS::SQS::Queue');
  queue = only(queues.filter((q) => q.Properties.RedrivePolicy !== undefined));
  deadLetterQueue = only(queues.filter((q) => q.Properties.RedrivePolicy === undefined));
  worker = functionWithEnvironment(template, 'TABLE_NAME');
  ingest = functionWithEnvironment(template, 'WEBHOOK_SECRET_ARN');
  table = only(resourcesOfType(template, 'AWS::DynamoDB::Table'));
  // The webhook secret; the Datasaur credentials secret is kept while nothing calls Datasaur.
  secret = only(
    resourcesOfType(template, 'AWS::SecretsManager::Secret').filter(
      (candidate) => candidate.Properties.GenerateSecretString !== undefined,
    ),
  );
});

describe('ingest API', () => {
  it('routes POST and PUT of the secret webhook path, and nothing else, to the ingest function', () => {
    const routes = resourcesOfType(template, 'AWS::ApiGatewayV2::Route');
    expect(routes.map((route) => route.Properties.RouteKey).sort()).toEqual(
      webhookRouteKeys(TEST_SECRETS.pathToken).sort(),
    );
    const integration = only(resourcesOfType(template, 'AWS::ApiGatewayV2::Integration'));
    expect(refersTo(integration.Properties.IntegrationUri, ingest.logicalId)).toBe(true);
    expect(integration.Properties.PayloadFormatVersion).toBe('2.0');
  });

  it('throttles the $default stage with the rate and burst from context', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 25, ThrottlingBurstLimit: 40 },
    });
  });

  it('writes JSON access logs to a log group with bounded retention', () => {
    const stage = only(resourcesOfType(template, 'AWS::ApiGatewayV2::Stage'));
    const settings = stage.Properties.AccessLogSettings as {
      DestinationArn: unknown;
      Format: string;
    };
    const fields = JSON.parse(settings.Format) as Record<string, string>;
    expect(fields).toMatchObject({ requestId: '$context.requestId', status: '$context.status' });
    const logGroupId = (settings.DestinationArn as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
    expect(template.toJSON().Resources[logGroupId].Properties.RetentionInDays).toBe(14);
  });

  it('generates the webhook secret as {"current": …} at deploy', () => {
    expect(secret.Properties.GenerateSecretString).toMatchObject({
      SecretStringTemplate: '{}',
      GenerateStringKey: 'current',
      ExcludePunctuation: true,
    });
    template.resourceCountIs('AWS::SecretsManager::ResourcePolicy', 0);
  });
});

describe('functions', () => {
  it('run on Node.js 24, arm64, with the Powertools environment and no source maps at start-up', () => {
    const functions = resourcesOfType(template, 'AWS::Lambda::Function');
    expect(functions).toHaveLength(2);
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Environment: {
          Variables: {
            POWERTOOLS_SERVICE_NAME: expect.stringMatching(/^datasaur-webhooks-/),
            POWERTOOLS_LOG_LEVEL: 'WARN',
          },
        },
      });
      // Node would read the whole source map at every cold start (see bundled-function.ts).
      expect(JSON.stringify(fn.Properties.Environment)).not.toContain('NODE_OPTIONS');
    }
  });

  it('take memory, timeout and limits from context', () => {
    expect(ingest.Properties).toMatchObject({ MemorySize: 256, Timeout: 8 });
    expect(worker.Properties).toMatchObject({ MemorySize: 1024, Timeout: 20 });
    expect(ingest.Properties.Environment).toMatchObject({
      Variables: { MAX_BODY_BYTES: '300000', WEBHOOK_SECRET_CACHE_SECONDS: '300' },
    });
    expect(worker.Properties.Environment).toMatchObject({ Variables: { RAW_TTL_DAYS: '90' } });
  });

  it('log JSON that Lambda filters at the application and system levels from context', () => {
    for (const fn of [ingest, worker]) {
      expect(fn.Properties.LoggingConfig).toMatchObject({
        LogFormat: 'JSON',
        ApplicationLogLevel: 'WARN',
        SystemLogLevel: 'INFO',
      });
    }
  });

  it('log to their own log group with bounded retention', () => {
    for (const fn of [ingest, worker]) {
      const logGroupId = (fn.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup
        .Ref;
      expect(template.toJSON().Resources[logGroupId].Properties.RetentionInDays).toBe(14);
    }
  });
});

describe('queue and dead-letter queue', () => {
  it('move a message to the DLQ after maxReceiveCount receives', () => {
    expect(queue.Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [deadLetterQueue.logicalId, 'Arn'] },
      maxReceiveCount: 3,
    });
  });

  it('keep messages 4 days in the queue and 14 in the DLQ, up to 1 MiB, encrypted at rest', () => {
    expect(queue.Properties.MessageRetentionPeriod).toBe(4 * 24 * 3600);
    expect(deadLetterQueue.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    for (const q of [queue, deadLetterQueue]) {
      expect(q.Properties).toMatchObject({
        MaximumMessageSize: 1_048_576,
        SqsManagedSseEnabled: true,
      });
    }
  });

  it('refuse any request not made over TLS', () => {
    for (const q of [queue, deadLetterQueue]) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: q.logicalId }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    }
  });

  it('hide a message at least six times as long as the worker may run', () => {
    expect(queue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(
      6 * (worker.Properties.Timeout as number),
    );
  });

  it('feed the worker in batches that report item failures, with bounded concurrency', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queue.logicalId, 'Arn'] },
      FunctionName: { Ref: worker.logicalId },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 25,
      MaximumBatchingWindowInSeconds: 2,
      ScalingConfig: { MaximumConcurrency: 4 },
    });
  });
});

describe('table', () => {
  it('is built from the shared definition', () => {
    expect(table.Properties.KeySchema).toEqual([
      { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
    ]);
    const indexes = table.Properties.GlobalSecondaryIndexes as { IndexName: string }[];
    expect(indexes.map((index) => index.IndexName).sort()).toEqual(
      INDEXES.map((index) => index.indexName).sort(),
    );
    expect(table.Properties.TimeToLiveSpecification).toEqual({
      AttributeName: TABLE.ttlAttribute,
      Enabled: true,
    });
  });

  it('caps on-demand throughput and keeps warm throughput, on the table and each index, from context', () => {
    const throughput = {
      OnDemandThroughput: { MaxWriteRequestUnits: 20_000, MaxReadRequestUnits: 30_000 },
      WarmThroughput: { WriteUnitsPerSecond: 8_000, ReadUnitsPerSecond: 15_000 },
    };
    expect(table.Properties).toMatchObject(throughput);
    const indexes = table.Properties.GlobalSecondaryIndexes as Record<string, unknown>[];
    expect(indexes).toHaveLength(INDEXES.length);
    for (const index of indexes) expect(index).toMatchObject(throughput);
  });

  it('is on-demand, encrypted, recoverable, protected and retained with the stack deleted', () => {
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      DeletionProtectionEnabled: true,
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
    });
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
  });
});

describe('least privilege', () => {
  let ingestStatements: PolicyStatementJson[];
  let workerStatements: PolicyStatementJson[];
  beforeAll(() => {
    ingestStatements = statementsOfFunctionRole(template, ingest);
    workerStatements = statementsOfFunctionRole(template, worker);
  });

  it('gives neither role a managed policy', () => {
    for (const role of resourcesOfType(template, 'AWS::IAM::Role')) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  it('lets the ingest function only send to the queue, read the secret, put bodies and write its logs', () => {
    expect(actionsOf(ingestStatements).sort()).toEqual(
      [
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        's3:PutObject',
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:SendMessage',
      ].sort(),
    );
    const secretStatement = ingestStatements.find((s) => refersTo(s.Resource, secret.logicalId));
    expect(secretStatement?.Resource).toEqual({ Ref: secret.logicalId });
  });

  it('does not let the ingest function touch the table', () => {
    expect(actionsOf(ingestStatements).filter((a) => a.startsWith('dynamodb:'))).toEqual([]);
    expect(ingestStatements.some((s) => refersTo(s.Resource, table.logicalId))).toBe(false);
  });

  it('does not let the worker read the secret', () => {
    expect(actionsOf(workerStatements).filter((a) => a.startsWith('secretsmanager:'))).toEqual([]);
    expect(workerStatements.some((s) => refersTo(s.Resource, secret.logicalId))).toBe(false);
  });

  it('lets the worker consume the queue and read and write table items, nothing wider', () => {
    expect(
      actionsOf(workerStatements)
        .filter((a) => a.startsWith('sqs:'))
        .sort(),
    ).toEqual(
      [
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:ReceiveMessage',
      ].sort(),
    );
    // The one wildcard is the archive's bodies/ prefix (see the next test).
    for (const statement of workerStatements.filter((s) => !isArchiveStatement(s))) {
      expect(JSON.stringify(statement.Resource)).not.toContain('*');
      expect(actionsOf([statement]).every((action) => !action.endsWith('*'))).toBe(true);
    }
    const tableStatements = workerStatements.filter((s) => refersTo(s.Resource, table.logicalId));
    const [tableStatement, countersStatement] = tableStatements;
    expect(tableStatements).toHaveLength(2);
    expect(actionsOf(tableStatement ? [tableStatement] : []).sort()).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
    ]);
    // Updates only the hourly counters' partitions: the events themselves stay put-only.
    expect(countersStatement?.Action).toBe('dynamodb:UpdateItem');
    expect(countersStatement?.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['COUNTS#*'] },
    });
    expect(actionsOf(workerStatements)).not.toContain('dynamodb:Scan');
  });

  it('lets the ingest only put and the worker only get objects under bodies/ of the archive', () => {
    const bodiesOnly = (statements: PolicyStatementJson[], action: string) => {
      const archive = statements.filter(isArchiveStatement);
      expect(archive.map((statement) => statement.Action)).toEqual([action]);
      expect(JSON.stringify(archive[0]?.Resource)).toMatch(/"\/bodies\/\*"\]\]\}$/);
    };
    bodiesOnly(ingestStatements, 's3:PutObject');
    bodiesOnly(workerStatements, 's3:GetObject');
    expect(ingest.Properties.Environment).toMatchObject({
      Variables: { ARCHIVE_BUCKET: { Ref: archiveBucketId() } },
    });
  });
});

function archiveBucketId(): string {
  const buckets = resourcesOfType(template, 'AWS::S3::Bucket');
  return only(buckets.filter((bucket) => bucket.Properties.LoggingConfiguration !== undefined))
    .logicalId;
}

function isArchiveStatement(statement: PolicyStatementJson): boolean {
  return refersTo(statement.Resource, archiveBucketId());
}

describe('alarms', () => {
  let alarms: CfnResource[];
  let topic: CfnResource;
  beforeAll(() => {
    alarms = resourcesOfType(template, 'AWS::CloudWatch::Alarm');
    topic = only(resourcesOfType(template, 'AWS::SNS::Topic'));
  });
  const alarmOn = (metricName: string): CfnResource =>
    only(alarms.filter((alarm) => alarm.Properties.MetricName === metricName));

  it("put the worker's batch figures on the dashboard next to the alarms", () => {
    const dashboard = only(resourcesOfType(template, 'AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    for (const figure of BATCH_FIGURES) expect(body).toContain(`\\"${figure}\\"`);
    expect(body).toContain('datasaur-webhooks-worker');
    expect(worker.Properties.Environment).toMatchObject({
      Variables: { POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE },
    });
  });

  it('fire as soon as one message is in the dead-letter queue', () => {
    const alarm = alarmOn('ApproximateNumberOfMessagesVisible');
    expect(alarm.Properties).toMatchObject({
      Namespace: 'AWS/SQS',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(refersTo(alarm.Properties.Dimensions, deadLetterQueue.logicalId)).toBe(true);
  });

  it('fire when the oldest queued message is older than the threshold from context', () => {
    const alarm = alarmOn('ApproximateAgeOfOldestMessage');
    expect(alarm.Properties).toMatchObject({
      Threshold: 600,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(refersTo(alarm.Properties.Dimensions, queue.logicalId)).toBe(true);
  });

  it('fire on any 5xx answered by the API', () => {
    const alarm = alarmOn('5xx');
    expect(alarm.Properties).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Statistic: 'Sum',
    });
  });

  it('fire on any throttled write, of the table and of each index', () => {
    const throttled = alarms.filter(
      (alarm) => alarm.Properties.MetricName === 'WriteThrottleEvents',
    );
    const dimensions = throttled.map(
      (alarm) => alarm.Properties.Dimensions as { Name: string; Value: unknown }[],
    );
    const indexNames = dimensions.map(
      (list) => list.find((dimension) => dimension.Name === 'GlobalSecondaryIndexName')?.Value,
    );
    expect(indexNames.sort()).toEqual([...INDEXES.map((index) => index.indexName), undefined]);
    for (const [at, alarm] of throttled.entries()) {
      expect(alarm.Properties).toMatchObject({
        Namespace: 'AWS/DynamoDB',
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
      const tableName = dimensions[at]?.find((dimension) => dimension.Name === 'TableName');
      expect(refersTo(tableName?.Value, table.logicalId)).toBe(true);
    }
  });

  it('fire on any worker error', () => {
    const alarm = alarmOn('Errors');
    expect(alarm.Properties).toMatchObject({ Namespace: 'AWS/Lambda', Threshold: 1 });
    expect(refersTo(alarm.Properties.Dimensions, worker.logicalId)).toBe(true);
  });

  it('fire on any webhook refused as too large (413), by the ingest or by API Gateway, counted from the access log', () => {
    const alarm = alarmOn('RequestsTooLarge');
    expect(alarm.Properties).toMatchObject({
      Namespace: 'DatasaurWebhooks',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Statistic: 'Sum',
    });
    expect(alarm.Properties.AlarmDescription).toContain('6,291,556');
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      FilterPattern: '{ $.status = "413" }',
      MetricTransformations: [
        { MetricNamespace: 'DatasaurWebhooks', MetricName: 'RequestsTooLarge', MetricValue: '1' },
      ],
    });
  });

  it('fire on any webhook the API turned away with 429, counted from its access log', () => {
    const alarm = alarmOn('ThrottledRequests');
    expect(alarm.Properties).toMatchObject({
      Namespace: 'DatasaurWebhooks',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Statistic: 'Sum',
    });
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      FilterPattern: '{ $.status = "429" }',
      MetricTransformations: [
        { MetricNamespace: 'DatasaurWebhooks', MetricName: 'ThrottledRequests', MetricValue: '1' },
      ],
    });
  });

  it('notify an encrypted, TLS-only topic that e-mails the address from context', () => {
    // Eight on the pipeline, and write throttling of the table and of each index.
    expect(alarms).toHaveLength(8 + 1 + INDEXES.length);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topic.logicalId }]);
    }
    expect(topic.Properties.KmsMasterKeyId).toBeDefined();
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: topic.logicalId },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
    // The topic's policy replaces SNS's default one: CloudWatch may publish only if it says
    // so, for this account's alarms, and use the topic's key the same way.
    const forThisAccountsAlarms = {
      StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
      ArnLike: {
        'aws:SourceArn': {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':cloudwatch:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              ':alarm:*',
            ],
          ],
        },
      },
    };
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topic.logicalId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Sid: 'CloudWatchAlarmsPublish',
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: { Ref: topic.logicalId },
            Condition: forThisAccountsAlarms,
          },
        ]),
      },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Resource: '*',
            Condition: forThisAccountsAlarms,
          },
        ]),
      },
    });
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', {
      DashboardName: { 'Fn::Join': ['', ['DatasaurWebhooks-', { Ref: 'AWS::Region' }]] },
    });
  });
});

describe('archive bucket', () => {
  let archive: CfnResource;
  let accessLogs: CfnResource;
  beforeAll(() => {
    const buckets = resourcesOfType(template, 'AWS::S3::Bucket');
    archive = only(
      buckets.filter((bucket) => bucket.Properties.LoggingConfiguration !== undefined),
    );
    accessLogs = only(buckets.filter((bucket) => bucket.logicalId !== archive.logicalId));
  });

  it('is encrypted, private, versioned and retained with the stack deleted', () => {
    for (const bucket of [archive, accessLogs]) {
      expect(bucket.Properties.BucketEncryption).toEqual({
        ServerSideEncryptionConfiguration: [
          { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
        ],
      });
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(bucket.DeletionPolicy).toBe('Retain');
      expect(bucket.UpdateReplacePolicy).toBe('Retain');
    }
  });

  it('keeps a deleted or overwritten object restorable for 30 days, then expires the old version', () => {
    for (const bucket of [archive, accessLogs]) {
      expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      const rules = (bucket.Properties.LifecycleConfiguration as { Rules: unknown[] }).Rules;
      expect(rules).toContainEqual(
        expect.objectContaining({
          NoncurrentVersionExpiration: { NoncurrentDays: 30 },
          ExpiredObjectDeleteMarker: true,
          Status: 'Enabled',
        }),
      );
    }
  });

  it('refuses any request not made over TLS', () => {
    for (const bucket of [archive, accessLogs]) {
      const policy = only(
        resourcesOfType(template, 'AWS::S3::BucketPolicy').filter((p) =>
          refersTo(p.Properties.Bucket, bucket.logicalId),
        ),
      );
      const statements = (policy.Properties.PolicyDocument as { Statement: unknown[] }).Statement;
      expect(statements).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Action: 's3:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      );
    }
  });

  it('expires bodies/ after bodyRetentionDays and aborts stale multipart uploads', () => {
    const rules = (archive.Properties.LifecycleConfiguration as { Rules: unknown[] }).Rules;
    expect(rules).toContainEqual(
      expect.objectContaining({ Prefix: 'bodies/', ExpirationInDays: 400, Status: 'Enabled' }),
    );
    expect(rules).toContainEqual(
      expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
    );
  });

  it('keeps every body when bodyRetentionDays is not set', () => {
    const buckets = resourcesOfType(synthesizeTemplate({}), 'AWS::S3::Bucket');
    const rules = buckets.flatMap(
      (bucket) =>
        (bucket.Properties.LifecycleConfiguration as { Rules: { Prefix?: string }[] }).Rules,
    );
    expect(rules.filter((rule) => rule.Prefix !== undefined)).toEqual([]);
  });

  it('logs every request to the access log bucket', () => {
    expect(archive.Properties.LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: accessLogs.logicalId },
      LogFilePrefix: 'archive/',
    });
  });
});

describe('outputs', () => {
  it('give the API (not the secret webhook path), the secret, the table, the archive bucket, both queues, the bus and the schemas', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(Object.keys(outputs).sort()).toEqual(
      [
        'DeadLetterQueueArn',
        'DeadLetterQueueUrl',
        'EventBusName',
        'QueueArn',
        'SchemaRegistryName',
        'QueueUrl',
        'TableName',
        'ArchiveBucketName',
        'WebhookSecretArn',
        'ApiEndpoint',
        'ApiId',
        // For the operators' CLIs (--stack): test/operator-infra.test.ts.
        'EventSource',
        'IngestLogGroupName',
        'OperatorPolicyArn',
        'Version',
        'WorkerLogGroupName',
      ].sort(),
    );
    expect(outputs.WebhookSecretArn?.Value).toEqual({ Ref: secret.logicalId });
    expect(outputs.TableName?.Value).toEqual({ Ref: table.logicalId });
    expect(JSON.stringify(outputs.ArchiveBucketName?.Value)).toContain('ArchiveBucket');
    expect(outputs.QueueUrl?.Value).toEqual({ Ref: queue.logicalId });
    expect(outputs.DeadLetterQueueUrl?.Value).toEqual({ Ref: deadLetterQueue.logicalId });
  });
});

function only<T>(items: readonly T[]): T {
  expect(items).toHaveLength(1);
  return items[0] as T;
}
