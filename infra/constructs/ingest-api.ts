/**
 * The front door: HTTP API → ingest function, which verifies the signature against the
 * webhook secret and puts the request on the queue.
 */
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  HttpApi,
  HttpMethod,
  HttpStage,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { BODIES_PREFIX } from '../../shared/webhook/claim-check.ts';
import { DEFAULT_MAX_BODY_BYTES, WEBHOOK_PATH } from '../../shared/webhook/ingest.ts';
import type { ArchiveBucket } from './archive-bucket.ts';
import { BundledFunction, type FunctionLogLevels } from './bundled-function.ts';

/** One JSON object per request, from the variables HTTP APIs support. */
const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  sourceIp: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  method: '$context.httpMethod',
  path: '$context.path',
  routeKey: '$context.routeKey',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationStatus: '$context.integrationStatus',
  integrationLatency: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
};

export interface IngestApiProps {
  /** Where accepted webhooks go. */
  readonly queue: IQueue;
  /** Where bodies too large for a queue message go first (under `bodies/`). */
  readonly archive: ArchiveBucket;
  /** Steady-state requests per second. @default 50 */
  readonly throttleRateLimit?: number;
  /** Burst above the steady rate. @default 100 */
  readonly throttleBurstLimit?: number;
  /** @default 512 */
  readonly memorySizeMb?: number;
  /** @default 10 */
  readonly timeoutSeconds?: number;
  /** Largest body accepted; larger ones get 413. @default 5,500,000 */
  readonly maxBodyBytes?: number;
  /** How long a container keeps the secret before reading it again. @default 300 */
  readonly secretCacheSeconds?: number;
  readonly logRetention: RetentionDays;
  /** @default application INFO, system WARN */
  readonly logLevels?: FunctionLogLevels;
}

export class IngestApi extends Construct {
  public readonly api: HttpApi;
  public readonly stage: HttpStage;
  public readonly ingest: BundledFunction;
  /** `{"current": "…"}`, generated at deploy; add `"previous"` while rotating. */
  public readonly webhookSecret: Secret;
  /** The URL to register with Datasaur. */
  public readonly webhookUrl: string;
  /** One JSON line per request, with the status API Gateway answered. */
  public readonly accessLogs: LogGroup;

  constructor(scope: Construct, id: string, props: IngestApiProps) {
    super(scope, id);

    this.webhookSecret = new Secret(this, 'WebhookSecret', {
      description: 'Datasaur webhook signing secret: {"current": "…", "previous": "…"}',
      generateSecretString: {
        secretStringTemplate: '{}',
        generateStringKey: 'current',
        excludePunctuation: true,
        passwordLength: 48,
      },
    });

    this.ingest = new BundledFunction(this, 'Ingest', {
      entry: 'functions/ingest/index.ts',
      // Only bodies too large to queue inline reach S3 (shared/webhook/body-archive.ts).
      loadedOnFirstUse: ['@aws-sdk/client-s3'],
      description: 'Datasaur webhooks: verifies signatures and enqueues requests',
      serviceName: 'datasaur-webhooks-ingest',
      memorySizeMb: props.memorySizeMb ?? 512,
      timeoutSeconds: props.timeoutSeconds ?? 10,
      logRetention: props.logRetention,
      ...(props.logLevels === undefined ? {} : { logLevels: props.logLevels }),
      environment: {
        QUEUE_URL: props.queue.queueUrl,
        ARCHIVE_BUCKET: props.archive.bucket.bucketName,
        WEBHOOK_SECRET_ARN: this.webhookSecret.secretArn,
        WEBHOOK_SECRET_CACHE_SECONDS: String(props.secretCacheSeconds ?? 300),
        MAX_BODY_BYTES: String(props.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES),
      },
    });
    Validations.of(this.webhookSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Datasaur keeps its own copy of this secret and takes a new one only by e-mail to its support, so automatic rotation would break every signature; rotation is manual with current and previous both valid (README, Deploy).',
    });
    this.webhookSecret.grantRead(this.ingest.role);
    props.queue.grantSendMessages(this.ingest.role);
    props.archive.grantPut(this.ingest.role, BODIES_PREFIX);

    this.api = new HttpApi(this, 'Api', {
      description: 'Receives Datasaur webhooks',
      // The stage is declared below, to give it throttling and access logs.
      createDefaultStage: false,
    });
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'Datasaur cannot send IAM, JWT or custom-authorizer credentials; the webhook routes authenticate every request by its HMAC-SHA256 signature, which the ingest function verifies before enqueueing anything.',
    });
    // POST (events) and PUT (export deliveries) are the contract; ANY sends every other method
    // to the ingest too, so it answers 405 as documented instead of API Gateway's 404.
    this.api.addRoutes({
      path: WEBHOOK_PATH,
      methods: [HttpMethod.POST, HttpMethod.PUT, HttpMethod.ANY],
      integration: new HttpLambdaIntegration('Ingest', this.ingest.function),
    });

    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: {
        rateLimit: props.throttleRateLimit ?? 50,
        burstLimit: props.throttleBurstLimit ?? 100,
      },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });
    this.accessLogs = accessLogs;
    this.webhookUrl = `${this.api.apiEndpoint}${WEBHOOK_PATH}`;
  }
}
