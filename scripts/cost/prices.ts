/**
 * AWS list prices the cost model uses: one table, one region, one date. Check them against
 * the AWS pricing pages for your region before relying on the totals.
 */
/** The units the prices are quoted in: a 30-day month, a million requests, a gigabyte. */
export const SECONDS_PER_MONTH = 30 * 24 * 3600;
export const MILLION = 1_000_000;
export const GIGABYTE = 1024 ** 3;

export const PRICES = {
  region: 'us-east-1',
  checkedOn: '2026-11-23',
  currency: 'USD',
  /** API Gateway HTTP API, first 300 M requests/month; each 512 KB of a request meters as one. */
  httpApiPerMillionRequests: 1.0,
  httpApiMeteringBytes: 512 * 1024,
  /** Lambda on arm64. */
  lambdaPerMillionRequests: 0.2,
  lambdaArm64PerGbSecond: 0.0000133334,
  /** SQS standard queue; each 64 KB chunk of a request's payload bills as one request. */
  sqsPerMillionRequests: 0.4,
  sqsBillingChunkBytes: 64 * 1024,
  /** DynamoDB on-demand (standard table class). */
  dynamoDbPerMillionWriteUnits: 0.625,
  dynamoDbPerMillionReadUnits: 0.125,
  dynamoDbPerGbMonth: 0.25,
  /** Continuous backups, billed on the table's size. */
  dynamoDbPointInTimeRecoveryPerGbMonth: 0.2,
  /** S3 Standard: the archive bucket's claim-checked bodies. */
  s3PutPerMillionRequests: 5.0,
  s3GetPerMillionRequests: 0.4,
  s3StandardPerGbMonth: 0.023,
  /** CloudWatch: Logs ingestion (standard class), alarms, dashboards beyond the free three. */
  logsPerGbIngested: 0.5,
  alarmPerMonth: 0.1,
  /** Each custom metric (name and dimensions), first 10,000; metric filters make them too. */
  customMetricPerMonth: 0.3,
  dashboardPerMonth: 3.0,
  /** KMS customer-managed key. */
  kmsKeyPerMonth: 1.0,
  /** EventBridge custom events (PutEvents); each 64 KB chunk of an entry bills as one event. */
  eventBridgePerMillionEvents: 1.0,
  eventBridgeBillingChunkBytes: 64 * 1024,
  /** Secrets Manager. */
  secretPerMonth: 0.4,
  secretsPer10kApiCalls: 0.05,
} as const;
