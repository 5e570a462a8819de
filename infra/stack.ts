/** The whole product in one stack, composed like the diagram: API → pipeline → store, watched. */
import { readFileSync } from 'node:fs';
import {
  type App,
  CfnOutput,
  RemovalPolicy,
  SecretValue,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Construct } from 'constructs';
import { DATASAUR_CREDENTIALS_TEMPLATE } from '../shared/datasaur/credentials-secret.ts';
import { ConfigurationError } from '../shared/runtime/environment.ts';
import { STACK_OUTPUTS, type StackOutputKey } from '../shared/runtime/stack-outputs.ts';
import { indexesNamed, TABLE } from '../shared/store/table.ts';
import { BODIES_PREFIX } from '../shared/webhook/claim-check.ts';
import { QUEUE_MAX_MESSAGE_BYTES } from '../shared/webhook/ingest.ts';
import { recordAcknowledgements } from './acknowledgements.ts';
import { readConfig, type WebhookStackConfig } from './config.ts';
import { Alarms } from './constructs/alarms.ts';
import { ArchiveBucket } from './constructs/archive-bucket.ts';
import { Enricher } from './constructs/enricher.ts';
import { EventPipeline } from './constructs/event-pipeline.ts';
import { EventPublishing } from './constructs/event-publishing.ts';
import { EventStore } from './constructs/event-store.ts';
import { EXPORTS_PREFIX, ExportArchiver } from './constructs/export-archiver.ts';
import { IngestApi } from './constructs/ingest-api.ts';
import { OperatorPolicy } from './constructs/operator-policy.ts';
import { Reconciler } from './constructs/reconciler.ts';

export interface WebhookStackProps extends StackProps {
  readonly config: WebhookStackConfig;
}

export class WebhookStack extends Stack {
  public readonly store: EventStore;
  public readonly archive: ArchiveBucket;
  public readonly pipeline: EventPipeline;
  public readonly ingestApi: IngestApi;
  public readonly alarms: Alarms;
  public readonly publishing: EventPublishing;
  /** Export archiving; undefined with `exportOn=off`. */
  public readonly exportArchiver: ExportArchiver | undefined;
  /** Present unless `reconcileEvery` is `off` (every team the credentials can see, or `datasaurTeamIds`). */
  public readonly reconciler: Reconciler | undefined;
  public readonly datasaurCredentials: ISecret;
  /** Export archiving or the reconciler is on: the functions call Datasaur's API. */
  public readonly callsDatasaur: boolean;
  /**
   * Present with the Datasaur credentials and GSI4 (`tableIndexes`): gives label events their
   * project every 10 minutes.
   */
  public readonly enricher: Enricher | undefined;
  /** What the people who run the CLIs with `--stack` need, and nothing more. */
  public readonly operatorPolicy: OperatorPolicy;

  constructor(scope: Construct, id: string, props: WebhookStackProps) {
    super(scope, id, props);
    const { config } = props;
    if (config.webhookPathToken === undefined) throw new ConfigurationError(MISSING_PATH_TOKEN);
    // The stack's name tells its metrics apart from another stage's in the same account.
    const metricsNamespace = config.stackName;

    this.store = new EventStore(this, 'EventStore', {
      indexes: indexesNamed(config.tableIndexes),
      ...(config.tableMaxWriteRequestUnits === undefined
        ? {}
        : { maxWriteRequestUnits: config.tableMaxWriteRequestUnits }),
      ...(config.tableMaxReadRequestUnits === undefined
        ? {}
        : { maxReadRequestUnits: config.tableMaxReadRequestUnits }),
      ...(config.tableWarmWriteUnitsPerSecond === undefined
        ? {}
        : { warmWriteUnitsPerSecond: config.tableWarmWriteUnitsPerSecond }),
      ...(config.tableWarmReadUnitsPerSecond === undefined
        ? {}
        : { warmReadUnitsPerSecond: config.tableWarmReadUnitsPerSecond }),
    });
    this.archive = new ArchiveBucket(this, 'Archive', {
      ...(config.bodyRetentionDays === undefined
        ? {}
        : { retentionDaysByPrefix: { [BODIES_PREFIX]: config.bodyRetentionDays } }),
    });
    this.pipeline = new EventPipeline(this, 'EventPipeline', {
      table: this.store.table,
      archive: this.archive,
      workerMemoryMb: config.workerMemoryMb,
      workerTimeoutSeconds: config.workerTimeoutSeconds,
      batchSize: config.workerBatchSize,
      batchingWindowSeconds: config.workerBatchingWindowSeconds,
      maxConcurrency: config.workerMaxConcurrency,
      maxReceiveCount: config.maxReceiveCount,
      maxMessageSizeBytes: QUEUE_MAX_MESSAGE_BYTES,
      metricsNamespace,
      logRetention: config.logRetentionDays,
      logLevels: { application: config.logLevel, system: config.systemLogLevel },
      ...(config.rawTtlDays === undefined ? {} : { rawTtlDays: config.rawTtlDays }),
    });
    this.publishing = new EventPublishing(this, 'EventPublishing', {
      publisher: this.pipeline.worker.function,
      eventBusName: config.eventBusName,
      archiveDays: config.eventArchiveDays,
      source: config.eventSource,
      publishLabelEvents: config.publishLabelEvents,
    });
    this.ingestApi = new IngestApi(this, 'IngestApi', {
      queue: this.pipeline.queue,
      archive: this.archive,
      webhookPathToken: config.webhookPathToken,
      keepReleasedWebhookRoute: config.keepReleasedWebhookRoute,
      ...(config.previousWebhookPathToken === undefined
        ? {}
        : { previousWebhookPathToken: config.previousWebhookPathToken }),
      throttleRateLimit: config.throttleRateLimit,
      throttleBurstLimit: config.throttleBurstLimit,
      memorySizeMb: config.ingestMemoryMb,
      timeoutSeconds: config.ingestTimeoutSeconds,
      maxBodyBytes: config.maxBodyBytes,
      secretCacheSeconds: config.webhookSecretCacheSeconds,
      ...(config.webhookSecretArn === undefined
        ? {}
        : { webhookSecretArn: config.webhookSecretArn }),
      logRetention: config.logRetentionDays,
      logLevels: { application: config.logLevel, system: config.systemLogLevel },
    });
    this.alarms = new Alarms(this, 'Alarms', {
      api: this.ingestApi.api,
      accessLogs: this.ingestApi.accessLogs,
      ingest: this.ingestApi.ingest.function,
      queue: this.pipeline.queue,
      deadLetterQueue: this.pipeline.deadLetterQueue,
      worker: this.pipeline.worker.function,
      table: this.store.table,
      indexNames: this.store.indexes.map((index) => index.indexName),
      batchFigure: (figure) => this.pipeline.metricBatchFigure(figure),
      oldestMessageAgeAlarmSeconds: config.oldestMessageAgeAlarmSeconds,
      metricsNamespace,
      ...(config.alarmEmail === undefined ? {} : { alarmEmail: config.alarmEmail }),
    });

    const { exportOn } = config;
    // On by default: it reconciles every team the credentials can see once they are filled.
    const reconcilerOn = config.reconcileEveryMinutes !== undefined;
    // Export archiving or the reconciler call Datasaur's API (and the enrichment with them).
    this.callsDatasaur = exportOn !== 'off' || reconcilerOn;
    const datasaurUsed = this.callsDatasaur;
    // One secret for the Datasaur API, read by the exporter, the reconciler and the enricher
    // alone. Kept while neither is on: removed from the template, it would be orphaned (it is
    // retained), and switching one on again would create an empty one in its place, dropping
    // the credentials entered. Its output names it only while something reads it.
    this.datasaurCredentials =
      config.datasaurCredentialsSecretArn === undefined
        ? this.createDatasaurCredentials()
        : Secret.fromSecretCompleteArn(
            this,
            'DatasaurCredentials',
            config.datasaurCredentialsSecretArn,
          );
    this.exportArchiver =
      exportOn === 'off'
        ? undefined
        : new ExportArchiver(this, 'ExportArchiver', {
            table: this.store.table,
            archive: this.archive,
            worker: this.pipeline.worker,
            credentials: this.datasaurCredentials,
            exportOn,
            exportFormat: config.exportFormat,
            datasaurApiUrl: config.datasaurApiUrl,
            logRetention: config.logRetentionDays,
            logLevels: { application: config.logLevel, system: config.systemLogLevel },
            download: {
              maxBytes: config.exportMaxBytes,
              allowedHosts: config.exportAllowedHosts,
              allowPrivateHosts: config.exportAllowPrivateHosts,
            },
            alarmTopic: this.alarms.topic,
            metricsNamespace,
          });
    if (this.exportArchiver !== undefined) {
      this.publishing.grantPublish(this.exportArchiver.exporter.function);
    }
    if (reconcilerOn) {
      this.reconciler = new Reconciler(this, 'Reconciler', {
        table: this.store.table,
        credentials: this.datasaurCredentials,
        datasaurApiUrl: config.datasaurApiUrl,
        teamIds: config.datasaurTeamIds,
        everyMinutes: config.reconcileEveryMinutes,
        lookbackDays: config.reconcileLookbackDays,
        ...(this.exportArchiver === undefined || exportOn === 'off'
          ? {}
          : { exports: { queue: this.exportArchiver.queue, exportOn } }),
        alarmTopic: this.alarms.topic,
        logRetention: config.logRetentionDays,
        logLevels: { application: config.logLevel, system: config.systemLogLevel },
        metricsNamespace,
      });
    }
    // The enrichment counts a project's label events on GSI4: it comes with the index.
    if (datasaurUsed && config.tableIndexes.includes(TABLE.indexes.projectLabels.indexName)) {
      this.enricher = new Enricher(this, 'Enricher', {
        table: this.store.table,
        credentials: this.datasaurCredentials,
        datasaurApiUrl: config.datasaurApiUrl,
        alarmTopic: this.alarms.topic,
        logRetention: config.logRetentionDays,
        logLevels: { application: config.logLevel, system: config.systemLogLevel },
        metricsNamespace,
      });
    }

    const outputs: Record<string, { value: string; description: string }> = {
      // The webhook URL is ApiEndpoint + /webhooks/datasaur/<token>; the token is in no output
      // (outputs are printed by every deploy): deployedWebhookUrls() reads it from the routes.
      ApiEndpoint: {
        value: this.ingestApi.api.apiEndpoint,
        description: 'The API; the webhook URL is this + /webhooks/datasaur/<webhookPathToken>',
      },
      ApiId: {
        value: this.ingestApi.api.apiId,
        description:
          'The HTTP API: `aws apigatewayv2 get-routes --api-id` lists the webhook routes',
      },
      WebhookSecretArn: {
        value: this.ingestApi.webhookSecret.secretArn,
        description: 'Secret to register with Datasaur: read its "current" value',
      },
      TableName: { value: this.store.table.tableName, description: 'The event table' },
      ArchiveBucketName: {
        value: this.archive.bucket.bucketName,
        description: 'Large bodies (bodies/) and archives kept outside the table',
      },
      QueueUrl: { value: this.pipeline.queue.queueUrl, description: 'Queue of accepted webhooks' },
      QueueArn: { value: this.pipeline.queue.queueArn, description: 'Redrive destination' },
      DeadLetterQueueUrl: {
        value: this.pipeline.deadLetterQueue.queueUrl,
        description: 'Messages the worker gave up on',
      },
      EventBusName: {
        value: this.publishing.bus.eventBusName,
        description: 'Bus the stored events are published on',
      },
      SchemaRegistryName: {
        value: this.publishing.registry.attrRegistryName,
        description: 'Schemas of the published events (code bindings)',
      },
      DeadLetterQueueArn: {
        value: this.pipeline.deadLetterQueue.queueArn,
        description: 'Pass to `npm run redrive -- --dlq-arn`',
      },
    };
    if (datasaurUsed) {
      outputs.DatasaurCredentialsSecretArn = {
        value: this.datasaurCredentials.secretArn,
        description:
          'Fill with {"clientId":"…","clientSecret":"…"} from Datasaur (workspace settings, Credentials): until then exports wait (npm run query -- exports --status WAITING) and start by themselves within 10 minutes of it',
      };
    }
    if (this.exportArchiver !== undefined) {
      Object.assign(outputs, {
        ExportQueueUrl: {
          value: this.exportArchiver.queue.queueUrl,
          description: 'Export requests: pass to `npm run export -- --queue-url`',
        },
        ExportDeadLetterQueueArn: {
          value: this.exportArchiver.deadLetterQueue.queueArn,
          description: 'Export requests the exporter gave up on',
        },
      });
    }
    for (const [name, output] of Object.entries(outputs)) new CfnOutput(this, name, output);

    this.operatorPolicy = new OperatorPolicy(this, 'Operator', {
      api: this.ingestApi.api,
      table: this.store.table,
      bucket: this.archive.bucket,
      // Large bodies (query, replay); archived exports (the console's pre-signed downloads).
      readablePrefixes: [BODIES_PREFIX, ...(this.exportArchiver ? [EXPORTS_PREFIX] : [])],
      queue: this.pipeline.queue,
      deadLetterQueue: this.pipeline.deadLetterQueue,
      bus: this.publishing.bus,
      webhookSecret: this.ingestApi.webhookSecret,
      logGroups: [
        this.ingestApi.ingest.logGroup,
        this.pipeline.worker.logGroup,
        ...(this.exportArchiver ? [this.exportArchiver.exporter.logGroup] : []),
        ...(this.reconciler ? [this.reconciler.function.logGroup] : []),
        ...(this.enricher ? [this.enricher.function.logGroup] : []),
      ],
      ...(this.callsDatasaur ? { datasaurCredentials: this.datasaurCredentials } : {}),
      ...(this.exportArchiver
        ? {
            exports: {
              queue: this.exportArchiver.queue,
              deadLetterQueue: this.exportArchiver.deadLetterQueue,
            },
          }
        : {}),
    });
    this.addOperatorOutputs(config);
  }

  /** The outputs the CLIs' `--stack` resolver reads beyond those above (shared/runtime/stack-outputs.ts). */
  private addOperatorOutputs(config: WebhookStackConfig): void {
    const operatorOutputs: Partial<Record<StackOutputKey, { value: string; description: string }>> =
      {
        version: {
          value: PACKAGE_VERSION,
          description: 'Version of datasaur-webhooks-aws deployed',
        },
        eventSource: { value: config.eventSource, description: 'The source of published events' },
        operatorPolicyArn: {
          value: this.operatorPolicy.policy.managedPolicyArn,
          description: 'Attach to whoever runs the CLIs with --stack (docs/operations.md)',
        },
        ingestLogGroupName: {
          value: this.ingestApi.ingest.logGroup.logGroupName,
          description: 'Logs of the ingest function: aws logs tail <name>',
        },
        workerLogGroupName: {
          value: this.pipeline.worker.logGroup.logGroupName,
          description: 'Logs of the worker function: aws logs tail <name>',
        },
      };
    if (this.callsDatasaur) {
      operatorOutputs.datasaurApiUrl = {
        value: config.datasaurApiUrl,
        description: 'The Datasaur API the exporter and the reconciler call',
      };
    }
    if (this.exportArchiver !== undefined) {
      operatorOutputs.exportDeadLetterQueueUrl = {
        value: this.exportArchiver.deadLetterQueue.queueUrl,
        description: 'Export requests the exporter gave up on',
      };
      operatorOutputs.exporterLogGroupName = {
        value: this.exportArchiver.exporter.logGroup.logGroupName,
        description: 'Logs of the exporter function: aws logs tail <name>',
      };
    }
    if (this.reconciler !== undefined) {
      operatorOutputs.reconcilerLogGroupName = {
        value: this.reconciler.function.logGroup.logGroupName,
        description: 'Logs of the reconciler function: aws logs tail <name>',
      };
    }
    if (this.enricher !== undefined) {
      operatorOutputs.enricherLogGroupName = {
        value: this.enricher.function.logGroup.logGroupName,
        description: 'Logs of the label enrichment function: aws logs tail <name>',
      };
    }
    for (const [key, output] of Object.entries(operatorOutputs) as [
      StackOutputKey,
      { value: string; description: string },
    ][]) {
      new CfnOutput(this, STACK_OUTPUTS[key], output);
    }
  }

  /**
   * Created holding an empty template that the operator fills. CloudFormation writes
   * `SecretString` again whenever it changes in the template, which would empty the
   * credentials entered since, so it must never change (`test/deploy-safety.test.ts` pins it).
   * Kept when the stack is deleted; a new stack adopts it with `datasaurCredentialsSecretArn`.
   */
  private createDatasaurCredentials(): Secret {
    const secret = new Secret(this, 'DatasaurCredentials', {
      description: 'Datasaur API credentials: {"clientId": "…", "clientSecret": "…"}',
      secretStringValue: SecretValue.unsafePlainText(DATASAUR_CREDENTIALS_TEMPLATE),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        "Datasaur API credentials are created in Datasaur's workspace settings; no Lambda can issue new ones, so rotation is the operator's (docs/reconcile.md).",
    });
    return secret;
  }
}

const MISSING_PATH_TOKEN = [
  'Invalid CDK context:',
  '  - webhookPathToken is not set: the webhook URL needs a secret path segment (docs/flood.md).',
  '    Make one and keep it for every later deploy, e.g. in cdk.context.json (git-ignored):',
  `    printf '{"webhookPathToken": "%s"}\\n' "$(openssl rand -hex 16)" > cdk.context.json`,
].join('\n');

/** The version in package.json: reported by the stack (output Version) so users know what runs. */
export const PACKAGE_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

/**
 * Builds the stack into `app` from its context and runs the AWS Solutions checks on it.
 * Throws `ConfigurationError` for invalid context, before creating anything.
 */
export function addWebhookStack(app: App): WebhookStack {
  const config = readConfig(app.node);
  const stack = new WebhookStack(app, config.stackName, {
    config,
    description:
      'Receives Datasaur webhooks, verifies them, stores them in DynamoDB and publishes them on EventBridge',
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  recordAcknowledgements(stack);
  return stack;
}
