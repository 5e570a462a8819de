/**
 * The front door: HTTP API → ingest function, which verifies the signature against the
 * webhook secret and puts the request on the queue. Only POST and PUT on the secret path
 * (`/webhooks/datasaur/<token>`) reach the function, each route with its own throttle; API
 * Gateway answers every other request 404 itself (docs/flood.md).
 */
import { createHash } from 'node:crypto';
import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  CfnRoute,
  type CfnStage,
  HttpApi,
  HttpIntegration,
  HttpIntegrationType,
  HttpMethod,
  HttpRouteKey,
  HttpStage,
  LogGroupLogDestination,
  PayloadFormatVersion,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { BODIES_PREFIX } from '../../shared/webhook/claim-check.ts';
import { DEFAULT_MAX_BODY_BYTES } from '../../shared/webhook/ingest.ts';
import {
  CURRENT_ROUTE_OPERATION,
  PREVIOUS_ROUTE_OPERATION,
  RELEASED_ROUTE_OPERATION,
  RELEASED_WEBHOOK_PATH,
  WEBHOOK_METHODS,
  webhookPath,
} from '../../shared/webhook/route.ts';
import type { ArchiveBucket } from './archive-bucket.ts';
import { BundledFunction, type FunctionLogLevels } from './bundled-function.ts';

/** The logical ids 0.1.0's `addRoutes` gave its webhook routes (`IngestApi` / `POST--webhooks--datasaur`). */
const RELEASED_ROUTE_LOGICAL_IDS = {
  POST: 'IngestApiPOSTwebhooksdatasaur7DD979DB',
  PUT: 'IngestApiPUTwebhooksdatasaurC2EDBAAC',
} as const;

/**
 * One JSON object per request, from the variables HTTP APIs support. Neither `$context.path`
 * nor `$context.routeKey` is logged: both hold the secret path token. `integrationStatus` is
 * `-` when no route matched (API Gateway's own 404) and `error` says why API Gateway answered
 * itself ("Not Found", "Too Many Requests").
 */
export const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  sourceIp: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  method: '$context.httpMethod',
  status: '$context.status',
  error: '$context.error.message',
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
  /**
   * The secret path segment: the webhook is `/webhooks/datasaur/<token>`. Anyone without it is
   * answered 404 by API Gateway, with no invocation and no throttle of the webhook spent.
   */
  readonly webhookPathToken: string;
  /** A token still routed while Datasaur moves to the new URL (rotation). @default none */
  readonly previousWebhookPathToken?: string;
  /** Route 0.1.0's tokenless URL too, under 0.1.0's logical ids (upgrades). @default false */
  readonly keepReleasedWebhookRoute?: boolean;
  /** Steady-state requests per second of each webhook route, and the stage default. @default 50 */
  readonly throttleRateLimit?: number;
  /** Burst above the steady rate, likewise. @default 100 */
  readonly throttleBurstLimit?: number;
  /** @default 512 */
  readonly memorySizeMb?: number;
  /** @default 10 */
  readonly timeoutSeconds?: number;
  /** Largest body accepted; larger ones get 413. @default 5,000,000 */
  readonly maxBodyBytes?: number;
  /**
   * Complete ARN of an existing webhook secret to use instead of creating one.
   * @default a secret is created (and kept when the stack is deleted)
   */
  readonly webhookSecretArn?: string;
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
  /** `{"current": "…"}`, generated at the first deploy; add `"previous"` while rotating. */
  public readonly webhookSecret: ISecret;
  /** The webhook routes: POST and PUT of the current token, then of the previous one. */
  public readonly webhookRoutes: CfnRoute[];
  /** One JSON line per request, with the status API Gateway answered. */
  public readonly accessLogs: LogGroup;

  constructor(scope: Construct, id: string, props: IngestApiProps) {
    super(scope, id);

    this.webhookSecret =
      props.webhookSecretArn === undefined
        ? createWebhookSecret(this)
        : Secret.fromSecretCompleteArn(this, 'WebhookSecret', props.webhookSecretArn);

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
        ...(props.keepReleasedWebhookRoute === true && { ACCEPT_RELEASED_WEBHOOK_PATH: 'true' }),
      },
    });
    this.webhookSecret.grantRead(this.ingest.role);
    props.queue.grantSendMessages(this.ingest.role);
    props.archive.grantPut(this.ingest.role, BODIES_PREFIX);

    const stack = Stack.of(this);
    this.api = new HttpApi(this, 'Api', {
      // Tells the stages apart in the console and `aws apigatewayv2 get-apis`.
      apiName: stack.stackName,
      description: 'Receives Datasaur webhooks',
      // The stage is declared below, to give it throttling and access logs.
      createDefaultStage: false,
    });
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'The webhook routes authenticate every request by its HMAC-SHA256 signature over the body, which the ingest function verifies before enqueueing anything. Datasaur can send a static header, but a header authorizer would only check a second shared secret (registered with Datasaur by e-mail like the first) with another Lambda call per request, adding nothing the signature does not prove.',
    });
    // One integration and one permission for the whole API, under ids of their own: created
    // under a route, they would move (and be replaced) whenever the token rotates. The
    // permission names the API, not a route: a per-route one would copy the token into the
    // function policy.
    const integration = new HttpIntegration(this, 'Integration', {
      httpApi: this.api,
      integrationType: HttpIntegrationType.AWS_PROXY,
      integrationUri: this.ingest.function.functionArn,
      payloadFormatVersion: PayloadFormatVersion.VERSION_2_0,
    });
    this.ingest.function.addPermission('ApiInvoke', {
      principal: new ServicePrincipal('apigateway.amazonaws.com'),
      sourceArn: stack.formatArn({
        service: 'execute-api',
        resource: this.api.apiId,
        resourceName: '*/*/*',
      }),
      sourceAccount: stack.account,
    });
    const tokens = [
      { token: props.webhookPathToken, operation: CURRENT_ROUTE_OPERATION },
      ...(props.previousWebhookPathToken === undefined
        ? []
        : [{ token: props.previousWebhookPathToken, operation: PREVIOUS_ROUTE_OPERATION }]),
    ];
    // POST (events) and PUT (export deliveries) are the contract; any other method or path
    // gets API Gateway's 404. Construct ids name a digest of the token, never the token (ids
    // show in every deploy's event log), and stay put when a token moves from current to
    // previous, so a rotation adds routes and never re-keys one. Each route sits where an
    // `HttpRoute` would put it (`Api/Webhook<method><digest>/Resource`), the path its logical
    // id was first made from.
    this.webhookRoutes = tokens.flatMap(({ token, operation }) =>
      WEBHOOK_METHODS.map(
        (method) =>
          new CfnRoute(
            new Construct(this.api, `Webhook${method}${tokenDigest(token)}`),
            'Resource',
            {
              apiId: this.api.apiId,
              routeKey: HttpRouteKey.with(webhookPath(token), HttpMethod[method]).key,
              authorizationType: 'NONE',
              operationName: operation,
              target: `integrations/${integration.integrationId}`,
            },
          ),
      ),
    );

    if (props.keepReleasedWebhookRoute === true) {
      // 0.1.0's routes, kept where 0.1.0 put them: under a new logical id CloudFormation would
      // create the route before deleting the old one, and API Gateway refuses a second route
      // of the same key. Dropping this option deletes them: Datasaur's 0.1.0 URL then gets 404.
      this.webhookRoutes.push(
        ...WEBHOOK_METHODS.map((method) => {
          const route = new CfnRoute(this.api, `Released${method}`, {
            apiId: this.api.apiId,
            routeKey: HttpRouteKey.with(RELEASED_WEBHOOK_PATH, HttpMethod[method]).key,
            authorizationType: 'NONE',
            operationName: RELEASED_ROUTE_OPERATION,
            target: `integrations/${integration.integrationId}`,
          });
          route.overrideLogicalId(RELEASED_ROUTE_LOGICAL_IDS[method]);
          return route;
        }),
      );
    }

    const rateLimit = props.throttleRateLimit ?? 50;
    const burstLimit = props.throttleBurstLimit ?? 100;
    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit, burstLimit },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });
    // Each webhook route's own budget, named rather than inherited from the stage default, so
    // no other request can spend it whatever AWS counts against the default.
    (this.stage.node.defaultChild as CfnStage).routeSettings = Object.fromEntries(
      this.webhookRoutes.map((route) => [
        route.routeKey,
        { ThrottlingRateLimit: rateLimit, ThrottlingBurstLimit: burstLimit },
      ]),
    );
    // Route settings name route keys, which must exist before the stage refers to them.
    for (const route of this.webhookRoutes) this.stage.node.addDependency(route);
    this.accessLogs = accessLogs;
  }
}

/** Eight hex digits of the token's SHA-256: tells routes apart without revealing the token. */
function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 8);
}

/**
 * The signing secret, generated once. CloudFormation generates a new value whenever any field
 * of `GenerateSecretString` changes (and drops a `previous` added by hand), so these fields
 * must never change: `test/deploy-safety.test.ts` pins them. Kept when the stack is deleted,
 * so a new stack can adopt it (`webhookSecretArn`) and Datasaur's copy stays valid.
 */
function createWebhookSecret(scope: Construct): Secret {
  const secret = new Secret(scope, 'WebhookSecret', {
    description: 'Datasaur webhook signing secret: {"current": "…", "previous": "…"}',
    generateSecretString: {
      secretStringTemplate: '{}',
      generateStringKey: 'current',
      excludePunctuation: true,
      passwordLength: 48,
    },
    removalPolicy: RemovalPolicy.RETAIN,
  });
  Validations.of(secret).acknowledge({
    id: 'AwsSolutions-SMG4',
    reason:
      'Datasaur keeps its own copy of this secret and takes a new one only by e-mail to its support, so automatic rotation would break every signature; rotation is manual with current and previous both valid (README, Deploy).',
  });
  return secret;
}
