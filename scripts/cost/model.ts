/**
 * A model of the deployed stack's monthly bill: every request, GB-second, write unit and
 * logged byte an event causes, priced from one table. Measured inputs (durations, write
 * units, log bytes) come from the benchmark and the write-unit accounting.
 */
import { GIGABYTE, MILLION, PRICES, SECONDS_PER_MONTH } from './prices.ts';

/** What one event of a kind costs on the queue, in the table and in the archive, measured. */
export interface EventFootprint {
  /** Bytes of its queue message: the envelope with the body, or with a pointer to it. */
  readonly messageBytes: number;
  readonly writeUnits: number;
  readonly readUnits: number;
  /** Bytes the event adds to the table (items and index entries). */
  readonly storedBytes: number;
  /** S3 PutObject (ingest) and GetObject (worker) of a claim-checked body; 0 when inline. */
  readonly s3Puts: number;
  readonly s3Gets: number;
  /** Bytes the event adds to the archive bucket. */
  readonly archivedBytes: number;
}

export interface CostInputs {
  readonly eventsPerMonth: number;
  /** Average webhook body size. */
  readonly averageBodyBytes: number;
  /** Share of events that are BEFORE_UPDATE_LABELS (the rest are project events). */
  readonly labelShare: number;
  readonly label: EventFootprint;
  readonly project: EventFootprint;
  readonly ingestMemoryMb: number;
  readonly workerMemoryMb: number;
  /** Billed duration of one ingest invocation (Lambda bills per millisecond). */
  readonly ingestMillisecondsPerEvent: number;
  /** Worker duration: a fixed part per batch plus a part per record. */
  readonly workerMillisecondsPerBatch: number;
  readonly workerMillisecondsPerEvent: number;
  readonly workerBatchSize: number;
  readonly workerBatchingWindowSeconds: number;
  /** Bytes the handlers log per event, and Lambda's own START/END/REPORT lines per invocation. */
  readonly ingestLogBytesPerEvent: number;
  readonly workerLogBytesPerEvent: number;
  /** The worker's metrics line per invocation (embedded metric format). */
  readonly workerLogBytesPerBatch: number;
  readonly platformLogBytesPerInvocation: number;
  /** The HTTP API's access log line per request. */
  readonly accessLogBytesPerRequest: number;
  /** Lambda keeps this many pollers long-polling an idle queue (20 s receives). */
  readonly queuePollers: number;
  readonly webhookSecretCacheSeconds: number;
  readonly alarms: number;
  /** Custom metrics: the worker's batch figures and the access log's metric filters. */
  readonly customMetrics: number;
  readonly dashboards: number;
  /** Customer-managed KMS keys (the alarm topic's). */
  readonly kmsKeys: number;
  /** Secrets Manager secrets (the webhook secret; the Datasaur API credentials). */
  readonly secrets: number;
  /** Size of the EventBridge entry (source, detail-type, detail) each kind publishes. */
  readonly publishedBytes: { readonly label: number; readonly project: number };
  /** Label events are published only when `publishLabelEvents` is on. */
  readonly publishLabelEvents: boolean;
}

export interface CostLine {
  readonly service: string;
  readonly item: string;
  readonly quantity: number;
  readonly unit: string;
  readonly monthlyUsd: number;
}

export interface CostEstimate {
  readonly lines: readonly CostLine[];
  readonly monthlyUsd: number;
  /** Cost that scales with volume, per million events (fixed monthly costs excluded). */
  readonly perMillionEventsUsd: number;
  /** Records per worker invocation the model assumed. */
  readonly recordsPerBatch: number;
}

/**
 * Records per worker invocation: the message that opens the batching window plus those that
 * arrive while it is open (events arriving evenly), at most a full batch.
 */
export function recordsPerBatch(inputs: CostInputs): number {
  const eventsPerSecond = inputs.eventsPerMonth / SECONDS_PER_MONTH;
  const duringWindow = eventsPerSecond * inputs.workerBatchingWindowSeconds;
  return Math.min(inputs.workerBatchSize, 1 + duringWindow);
}

export function estimateMonthlyCost(inputs: CostInputs): CostEstimate {
  const events = inputs.eventsPerMonth;
  const batch = recordsPerBatch(inputs);
  const workerInvocations = events / batch;
  const labelEvents = events * inputs.labelShare;
  const projectEvents = events - labelEvents;
  // A claim-checked body travels as a pointer: its message is small whatever the body.
  const messageBytes =
    inputs.labelShare * inputs.label.messageBytes +
    (1 - inputs.labelShare) * inputs.project.messageBytes;
  const chunks = (bytes: number) => Math.max(1, Math.ceil(bytes / PRICES.sqsBillingChunkBytes));
  const busEvents = (bytes: number) =>
    Math.max(1, Math.ceil(bytes / PRICES.eventBridgeBillingChunkBytes));

  const lines: CostLine[] = [];
  const add = (service: string, item: string, quantity: number, unit: string, usd: number) =>
    lines.push({ service, item, quantity, unit, monthlyUsd: usd });
  const perMillion = (quantity: number, price: number) => (quantity / MILLION) * price;

  const apiRequests =
    events * Math.max(1, Math.ceil(inputs.averageBodyBytes / PRICES.httpApiMeteringBytes));
  add(
    'API Gateway',
    'HTTP API requests',
    apiRequests,
    'requests',
    perMillion(apiRequests, PRICES.httpApiPerMillionRequests),
  );

  const lambdaRequests = events + workerInvocations;
  add(
    'Lambda',
    'requests (ingest + worker)',
    lambdaRequests,
    'requests',
    perMillion(lambdaRequests, PRICES.lambdaPerMillionRequests),
  );
  // Lambda bills each invocation's duration rounded up to the millisecond.
  const ingestBilledMilliseconds = Math.ceil(inputs.ingestMillisecondsPerEvent);
  const ingestGbSeconds =
    events * (ingestBilledMilliseconds / 1000) * (inputs.ingestMemoryMb / 1024);
  add(
    'Lambda',
    'ingest compute (arm64)',
    ingestGbSeconds,
    'GB-s',
    ingestGbSeconds * PRICES.lambdaArm64PerGbSecond,
  );
  const workerBilledMilliseconds = Math.ceil(
    inputs.workerMillisecondsPerBatch + batch * inputs.workerMillisecondsPerEvent,
  );
  const workerSeconds = (workerInvocations * workerBilledMilliseconds) / 1000;
  const workerGbSeconds = workerSeconds * (inputs.workerMemoryMb / 1024);
  add(
    'Lambda',
    'worker compute (arm64)',
    workerGbSeconds,
    'GB-s',
    workerGbSeconds * PRICES.lambdaArm64PerGbSecond,
  );

  const sends = events * chunks(messageBytes);
  add(
    'SQS',
    'SendMessage (64 KB chunks)',
    sends,
    'requests',
    perMillion(sends, PRICES.sqsPerMillionRequests),
  );
  const receives = workerInvocations * chunks(messageBytes * batch);
  add(
    'SQS',
    'batched receives (64 KB chunks)',
    receives,
    'requests',
    perMillion(receives, PRICES.sqsPerMillionRequests),
  );
  add(
    'SQS',
    'batched deletes',
    workerInvocations,
    'requests',
    perMillion(workerInvocations, PRICES.sqsPerMillionRequests),
  );
  const emptyReceives = inputs.queuePollers * (SECONDS_PER_MONTH / 20);
  add(
    'SQS',
    "Lambda pollers' empty receives",
    emptyReceives,
    'requests',
    perMillion(emptyReceives, PRICES.sqsPerMillionRequests),
  );

  const writeUnits =
    labelEvents * inputs.label.writeUnits + projectEvents * inputs.project.writeUnits;
  add(
    'DynamoDB',
    'write units (on-demand)',
    writeUnits,
    'WRU',
    perMillion(writeUnits, PRICES.dynamoDbPerMillionWriteUnits),
  );
  // The console's hourly counts: one UpdateItem of a small item per batch (and hour touched).
  add(
    'DynamoDB',
    'hourly counts (a write unit per worker batch)',
    workerInvocations,
    'WRU',
    perMillion(workerInvocations, PRICES.dynamoDbPerMillionWriteUnits),
  );
  const readUnits = labelEvents * inputs.label.readUnits + projectEvents * inputs.project.readUnits;
  add(
    'DynamoDB',
    'read units (project refresh)',
    readUnits,
    'RRU',
    perMillion(readUnits, PRICES.dynamoDbPerMillionReadUnits),
  );
  const storedGb =
    (labelEvents * inputs.label.storedBytes + projectEvents * inputs.project.storedBytes) /
    GIGABYTE;
  add(
    'DynamoDB',
    'storage added this month (billed every month after)',
    storedGb,
    'GB-month',
    storedGb * PRICES.dynamoDbPerGbMonth,
  );
  add(
    'DynamoDB',
    'point-in-time recovery of that storage',
    storedGb,
    'GB-month',
    storedGb * PRICES.dynamoDbPointInTimeRecoveryPerGbMonth,
  );

  const perEvent = (pick: (footprint: EventFootprint) => number) =>
    labelEvents * pick(inputs.label) + projectEvents * pick(inputs.project);
  const s3Puts = perEvent((footprint) => footprint.s3Puts);
  add(
    'S3',
    'PutObject of large bodies (ingest)',
    s3Puts,
    'requests',
    perMillion(s3Puts, PRICES.s3PutPerMillionRequests),
  );
  const s3Gets = perEvent((footprint) => footprint.s3Gets);
  add(
    'S3',
    'GetObject of large bodies (worker)',
    s3Gets,
    'requests',
    perMillion(s3Gets, PRICES.s3GetPerMillionRequests),
  );
  const archivedGb = perEvent((footprint) => footprint.archivedBytes) / GIGABYTE;
  add(
    'S3',
    'large bodies added this month (billed every month after)',
    archivedGb,
    'GB-month',
    archivedGb * PRICES.s3StandardPerGbMonth,
  );

  const published =
    projectEvents * busEvents(inputs.publishedBytes.project) +
    (inputs.publishLabelEvents ? labelEvents * busEvents(inputs.publishedBytes.label) : 0);
  add(
    'EventBridge',
    'PutEvents custom events (64 KB chunks)',
    published,
    'events',
    perMillion(published, PRICES.eventBridgePerMillionEvents),
  );

  const logBytes =
    events * (inputs.ingestLogBytesPerEvent + inputs.workerLogBytesPerEvent) +
    workerInvocations * inputs.workerLogBytesPerBatch +
    lambdaRequests * inputs.platformLogBytesPerInvocation +
    apiRequests * inputs.accessLogBytesPerRequest;
  add(
    'CloudWatch',
    'Logs ingestion (handlers, metrics, Lambda, API access log)',
    logBytes / GIGABYTE,
    'GB',
    (logBytes / GIGABYTE) * PRICES.logsPerGbIngested,
  );
  add('CloudWatch', 'alarms', inputs.alarms, 'alarms', inputs.alarms * PRICES.alarmPerMonth);
  add(
    'CloudWatch',
    'custom metrics',
    inputs.customMetrics,
    'metrics',
    inputs.customMetrics * PRICES.customMetricPerMonth,
  );
  // The first three dashboards of an account are free; assume they are already in use.
  add(
    'CloudWatch',
    'dashboard',
    inputs.dashboards,
    'dashboards',
    inputs.dashboards * PRICES.dashboardPerMonth,
  );

  add('KMS', 'alarm topic key', inputs.kmsKeys, 'keys', inputs.kmsKeys * PRICES.kmsKeyPerMonth);
  add(
    'Secrets Manager',
    'secrets (webhook; Datasaur API credentials)',
    inputs.secrets,
    'secrets',
    inputs.secrets * PRICES.secretPerMonth,
  );
  // At most one read per warm ingest container per cache period; bounded by one per event.
  const secretReads = Math.min(
    events,
    SECONDS_PER_MONTH / Math.max(1, inputs.webhookSecretCacheSeconds),
  );
  add(
    'Secrets Manager',
    'GetSecretValue (cached)',
    secretReads,
    'calls',
    (secretReads / 10_000) * PRICES.secretsPer10kApiCalls,
  );

  const monthlyUsd = lines.reduce((sum, line) => sum + line.monthlyUsd, 0);
  const fixed = new Set([
    "Lambda pollers' empty receives",
    'alarms',
    'custom metrics',
    'dashboard',
    'alarm topic key',
    'secrets (webhook; Datasaur API credentials)',
    'GetSecretValue (cached)',
  ]);
  const variableUsd = lines
    .filter((line) => !fixed.has(line.item))
    .reduce((sum, line) => sum + line.monthlyUsd, 0);
  return {
    lines,
    monthlyUsd,
    perMillionEventsUsd: events === 0 ? 0 : (variableUsd / events) * MILLION,
    recordsPerBatch: batch,
  };
}
