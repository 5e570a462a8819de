/**
 * AWS Control Tower's proactive controls (the cfn-guard rules shipped by
 * `@cdklabs/cdk-validator-cfnguard`) that the stack does not meet on purpose, one entry per
 * (rule, resource) with the reason. These rules ignore `Metadata.guard.SuppressedRules`, so
 * the list lives here and `test/control-tower.test.ts` compares it with the binary's findings
 * both ways: a resource failing a rule must be listed, and a listed pair must still fail.
 * Each entry is also written on its resource in the template (infra/acknowledgements.ts).
 */

export interface ControlTowerAcknowledgement {
  /** The control, e.g. `CT.LAMBDA.PR.3`. */
  readonly rule: string;
  /**
   * The resource's construct path below the stack, e.g. `IngestApi/Ingest/Function/Resource`.
   * `<token>` stands for the digest of a webhook path token in a route's id (it differs per
   * deploy).
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

/** The cfn-guard rule behind each control acknowledged below (its `Rule Identifier`). */
export const CONTROL_TOWER_RULE_NAMES: Readonly<Record<string, string>> = {
  'CT.APIGATEWAY.PR.5': 'api_gw_v2_authorization_type_configured_check',
  'CT.CLOUDWATCH.PR.2': 'cloudwatch_log_group_retention_period_check',
  'CT.CLOUDWATCH.PR.3': 'cloudwatch_log_group_encrypted_check',
  'CT.LAMBDA.PR.2': 'lambda_function_public_access_prohibited_check',
  'CT.LAMBDA.PR.3': 'lambda_inside_vpc_check',
  'CT.S3.PR.2': 's3_bucket_logging_enabled_check',
  'CT.S3.PR.4': 's3_event_notifications_enabled_check',
  'CT.S3.PR.9': 's3_bucket_object_lock_enabled_check',
  'CT.S3.PR.10': 's3_bucket_default_encryption_kms_check',
};

const each = (rule: string, resources: readonly string[], reason: string) =>
  resources.map((resource) => ({ rule, resource, reason }));

export const CONTROL_TOWER_ACKNOWLEDGEMENTS: readonly ControlTowerAcknowledgement[] = [
  ...each(
    'CT.APIGATEWAY.PR.5',
    WEBHOOK_ROUTES.map((route) => `${route}/Resource`),
    'The ingest function authenticates every request by its HMAC-SHA256 signature over the body before enqueueing anything. Datasaur cannot sign with IAM or obtain a JWT; it can send a static header, but a header authorizer would only check a second shared secret (registered with Datasaur by e-mail like the first), with another Lambda call per request, proving nothing the signature does not.',
  ),
  ...each(
    'CT.LAMBDA.PR.2',
    // One permission for the whole API (the flood defence keeps the token out of the policy).
    ['IngestApi/Ingest/Function/ApiInvoke'],
    "API Gateway may invoke the ingest only for this API (SourceArn, the API's execute-api ARN) and this account (SourceAccount); both are resolved at deploy time (Fn::Join, Ref AWS::AccountId) in an environment-agnostic stack, and the rule accepts only literal strings, or a Ref or GetAtt as SourceArn.",
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
    "Object Lock protects only with a retention period, and one would keep every webhook body and export undeletable until it lapses, against bodyRetentionDays and a customer's duty to delete personal data on request; once enabled it cannot be turned off. The buckets are versioned (an overwrite or delete keeps the earlier version), retained when the stack is deleted, and refuse any request not made over TLS.",
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
];
