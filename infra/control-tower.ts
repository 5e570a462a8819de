/**
 * AWS Control Tower's proactive controls (the cfn-guard rules shipped by
 * `@cdklabs/cdk-validator-cfnguard`) that the stack does not meet on purpose, one entry per
 * (rule, resource) with the reason. These rules ignore `Metadata.guard.SuppressedRules`, so
 * the list lives here and `test/control-tower.test.ts` compares it with the binary's findings
 * both ways: a resource failing a rule must be listed, and a listed pair must still fail.
 */

export interface ControlTowerAcknowledgement {
  /** The control, e.g. `CT.LAMBDA.PR.3`. */
  readonly rule: string;
  /**
   * The resource's construct path below the stack, e.g. `IngestApi/Ingest/Function/Resource`.
   * `<token>` stands for the digest of a webhook path token in a route's id (it differs per
   * deploy), and a Lambda permission's generated suffix is left out.
   */
  readonly resource: string;
  readonly reason: string;
}

const WEBHOOK_ROUTES = ['POST', 'PUT'].map((method) => `IngestApi/Api/Webhook${method}<token>`);
const FUNCTIONS = [
  'IngestApi/Ingest',
  'EventPipeline/Worker',
  'ExportArchiver/Exporter',
  'Reconciler/Function',
  'Enricher/Function',
];
const LOG_GROUPS = [
  ...FUNCTIONS.map((fn) => `${fn}/Logs/Resource`),
  'IngestApi/AccessLogs/Resource',
];
const BUCKETS = ['Archive/Bucket/Resource', 'Archive/AccessLogs/Resource'];
const DEAD_LETTER_QUEUES = [
  'EventPipeline/DeadLetterQueue/Resource',
  'ExportArchiver/DeadLetterQueue/Resource',
];

const each = (rule: string, resources: readonly string[], reason: string) =>
  resources.map((resource) => ({ rule, resource, reason }));

export const CONTROL_TOWER_ACKNOWLEDGEMENTS: readonly ControlTowerAcknowledgement[] = [
  ...each(
    'CT.APIGATEWAY.PR.5',
    WEBHOOK_ROUTES.map((route) => `${route}/Resource`),
    'Datasaur cannot send IAM, JWT or custom-authorizer credentials; the ingest function authenticates every request by its HMAC-SHA256 signature before enqueueing anything.',
  ),
  ...each(
    'CT.LAMBDA.PR.2',
    // One permission for the whole API (the flood defence keeps the token out of the policy),
    // created under the first webhook route.
    ['IngestApi/Api/WebhookPOST<token>/ApiPermission.ApiScoped'],
    "The permission's SourceArn names this API's execute-api ARN in this account and region; the rule reads only literal strings, Ref and GetAtt, not the Fn::Join an environment-agnostic stack needs.",
  ),
  ...each(
    'CT.LAMBDA.PR.3',
    FUNCTIONS.map((fn) => `${fn}/Function/Resource`),
    "The functions reach only AWS APIs and Datasaur's public API and hold no network-reachable resource; a VPC would add NAT gateways (cost, a failure point) and no control over those calls.",
  ),
  ...each(
    'CT.CLOUDWATCH.PR.2',
    LOG_GROUPS,
    'Operational logs, not the record (the table and the archive bucket are); retention is the logRetentionDays setting (default 30 days), which may be raised to 365 or more.',
  ),
  ...each(
    'CT.CLOUDWATCH.PR.3',
    LOG_GROUPS,
    'CloudWatch Logs encrypts every log group at rest with its own keys; the logs carry no webhook bodies or secrets (test/support/secret-guard.ts), so a customer key would add a key policy and KMS charges for no data that needs it.',
  ),
  ...each(
    'CT.S3.PR.4',
    BUCKETS,
    'Nothing consumes object events: the worker and exporter learn about objects from queue messages, which is how every write is already announced.',
  ),
  ...each(
    'CT.S3.PR.9',
    BUCKETS,
    'Object Lock would stop bodyRetentionDays and the access-log expiry from deleting objects; the buckets are versioned, retained with the stack deleted, and refuse any request not made over TLS.',
  ),
  ...each(
    'CT.S3.PR.10',
    ['Archive/Bucket/Resource'],
    'SSE-S3, like the queues and the table: encrypted at rest with no key policy to keep in step with each function and no KMS request per object; access stays limited per prefix by IAM.',
  ),
  ...each(
    'CT.S3.PR.10',
    ['Archive/AccessLogs/Resource'],
    'S3 server access logging delivers only to a bucket encrypted with SSE-S3.',
  ),
  ...each(
    'CT.S3.PR.2',
    ['Archive/AccessLogs/Resource'],
    "This bucket is the destination of the archive bucket's server access logs; logging it to itself would log every log delivery.",
  ),
  ...each(
    'CT.SQS.PR.1',
    DEAD_LETTER_QUEUES,
    "A dead-letter queue. A redrive allow policy limited to its source queue (byQueue) must name that queue's ARN, and the source queue's redrive policy names this one: a circular dependency in CloudFormation, unless the source queue gets a fixed name, which would replace it (and its messages) on update.",
  ),
];
