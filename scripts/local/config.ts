/**
 * The local stack's configuration, read from environment variables once and validated, so a
 * wrong value stops `npm start` (or `npm run send`) with one line saying what to fix.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_WORKER_CONCURRENCY } from '../../functions/worker/handler.ts';
import { DEFAULT_EVENT_SOURCE, EVENT_SOURCE_PATTERN } from '../../shared/bus/bus-events.ts';
import { datasaurApiUrlProblem } from '../../shared/datasaur/client.ts';
import {
  type DownloadPolicy,
  downloadPolicyFromEnvironment,
} from '../../shared/export/download.ts';
import {
  DEFAULT_EXPORT_FORMAT,
  DEFAULT_EXPORT_ON,
  EXPORT_ON_VALUES,
  type ExportOn,
} from '../../shared/export/export-trigger.ts';
import {
  booleanEnv,
  ConfigurationError,
  integerEnv,
  optionalEnv,
} from '../../shared/runtime/environment.ts';
import { checkedSecret, parseSecretList } from '../../shared/runtime/secrets.ts';
import { TABLE_NAME_PATTERN } from '../../shared/store/table.ts';
import { DEFAULT_MAX_BODY_BYTES, LARGEST_BODY_BYTES } from '../../shared/webhook/ingest.ts';
import { PATH_TOKEN_PATTERN, webhookUrl as webhookUrlAt } from '../../shared/webhook/route.ts';
import {
  DEFAULT_ARCHIVE_BUCKET,
  DEFAULT_DYNAMODB_PORT,
  DEFAULT_EVENTS_PORT,
  DEFAULT_LOCAL_DATASAUR_API_URL,
  DEFAULT_QUEUE_NAME,
  DEFAULT_S3_PORT,
  DEFAULT_SQS_PORT,
  DEFAULT_TABLE_NAME,
  DEFAULT_WORKER_BATCHES,
  DEFAULT_WORKER_PROCESSES,
  deadLetterQueueName,
  LOCAL_SERVERS_HOST,
  LOCAL_WEBHOOK_PATH_TOKEN,
} from './defaults.ts';

export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT'] as const;
export type LocalLogLevel = (typeof LOG_LEVELS)[number];

/**
 * The local DynamoDB-API server: dynalite (embedded, the default: a machine may lack Java) or
 * AWS's DynamoDB Local (needs `java`), for `npm start` and for the tests alike.
 */
export const DYNAMODB_BACKENDS = ['dynalite', 'dynamodb-local'] as const;
export type DynamoDbBackend = (typeof DYNAMODB_BACKENDS)[number];

export interface LocalStackConfig {
  /** Interface the webhook server listens on. */
  readonly host: string;
  /** Port of the webhook server; 0 picks a free one. */
  readonly port: number;
  /** Absolute path of the folder holding the table and the generated dev secret. */
  readonly dataDir: string;
  /** The secret path segment: only `/webhooks/datasaur/<token>` reaches the ingest. */
  readonly webhookPathToken: string;
  /** Secrets from `DATASAUR_WEBHOOK_SECRET`; undefined means "use the dev secret". */
  readonly webhookSecrets: readonly string[] | undefined;
  readonly dynamoDbBackend: DynamoDbBackend;
  readonly dynamoDbPort: number;
  readonly sqsPort: number;
  /** Port of the S3 API server, which keeps its objects under `DATA_DIR/s3`. */
  readonly s3Port: number;
  readonly tableName: string;
  /** The archive bucket: large bodies under `bodies/`. */
  readonly archiveBucket: string;
  readonly queueName: string;
  readonly workerBatchSize: number;
  /** Longest wait for a batch to fill before the worker takes what has arrived. */
  readonly workerBatchWindowSeconds: number;
  readonly workerConcurrency: number;
  /** Batches the worker processes at the same time, as Lambda runs several workers. */
  readonly workerBatches: number;
  /** Worker processes, each polling with `workerBatches` batches; the first also exports. */
  readonly workerProcesses: number;
  readonly visibilityTimeoutSeconds: number;
  readonly maxReceiveCount: number;
  readonly maxBodyBytes: number;
  readonly logLevel: LocalLogLevel;
  /** Port of the local EventBridge endpoint; 0 picks a free one. */
  readonly eventsPort: number;
  /** Print every event put on the local bus. */
  readonly eventsLog: boolean;
  /** The `source` of published events. */
  readonly eventSource: string;
  readonly publishLabelEvents: boolean;
  /**
   * Export archiving: on when `DATASAUR_CLIENT_ID` or `DATASAUR_API_URL` is set and `EXPORT_ON`
   * is not `off`; without credentials, exports are recorded WAITING.
   */
  readonly exporter: LocalExporterConfig | undefined;
  /** Label events by project: on when `DATASAUR_CLIENT_ID` is set (see docs/labels-by-project.md). */
  readonly enrichment: LocalEnrichmentConfig | undefined;
}

export interface LocalEnrichmentConfig {
  readonly apiUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
}

export interface LocalExporterConfig {
  readonly apiUrl: string;
  /** Undefined until credentials are given: exports then wait (CREDENTIALS_MISSING). */
  readonly credentials: { readonly clientId: string; readonly clientSecret: string } | undefined;
  readonly exportOn: Exclude<ExportOn, 'off'>;
  readonly format: string;
  /** Which file URLs the exporter downloads: public https hosts, and the Datasaur API's own origin. */
  readonly download: DownloadPolicy;
}

const PORT_RANGE = { min: 0, max: 65_535 };
/** S3 bucket names: 3 to 63 lower-case letters, digits, dots and hyphens. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** SQS queue names: up to 80 of these characters; `-dlq` is appended for the DLQ. */
const QUEUE_NAME = /^[A-Za-z0-9_-]{1,76}$/;

/** Reads and validates every variable; throws `ConfigurationError` naming the first bad one. */
export function readLocalConfig(environment: NodeJS.ProcessEnv = process.env): LocalStackConfig {
  const integer = (name: string, fallback: number, bounds: { min: number; max: number }) =>
    integerEnv(name, fallback, bounds, environment);
  return {
    host: optionalEnv('HOST', '127.0.0.1', environment).trim(),
    port: integer('PORT', 3000, PORT_RANGE),
    dataDir: resolve(optionalEnv('DATA_DIR', '.data', environment)),
    webhookPathToken: matching(
      'WEBHOOK_PATH_TOKEN',
      LOCAL_WEBHOOK_PATH_TOKEN,
      PATH_TOKEN_PATTERN,
      environment,
    ),
    webhookSecrets: webhookSecrets(environment),
    dynamoDbBackend: dynamoDbBackend(environment),
    dynamoDbPort: integer('DYNAMODB_PORT', DEFAULT_DYNAMODB_PORT, PORT_RANGE),
    sqsPort: integer('SQS_PORT', DEFAULT_SQS_PORT, PORT_RANGE),
    s3Port: integer('S3_PORT', DEFAULT_S3_PORT, PORT_RANGE),
    tableName: matching('TABLE_NAME', DEFAULT_TABLE_NAME, TABLE_NAME_PATTERN, environment),
    archiveBucket: matching('ARCHIVE_BUCKET', DEFAULT_ARCHIVE_BUCKET, BUCKET_NAME, environment),
    queueName: matching('QUEUE_NAME', DEFAULT_QUEUE_NAME, QUEUE_NAME, environment),
    // SQS hands out at most 10 messages per receive.
    workerBatchSize: integer('WORKER_BATCH_SIZE', 10, { min: 1, max: 10 }),
    workerBatchWindowSeconds: integer('WORKER_BATCH_WINDOW_SECONDS', 1, { min: 1, max: 20 }),
    workerConcurrency: integer('WORKER_CONCURRENCY', DEFAULT_WORKER_CONCURRENCY, {
      min: 1,
      max: 100,
    }),
    workerBatches: integer('WORKER_BATCHES', DEFAULT_WORKER_BATCHES, { min: 1, max: 20 }),
    workerProcesses: integer('WORKER_PROCESSES', DEFAULT_WORKER_PROCESSES, { min: 1, max: 8 }),
    visibilityTimeoutSeconds: integer('VISIBILITY_TIMEOUT_SECONDS', 30, { min: 1, max: 43_200 }),
    maxReceiveCount: integer('MAX_RECEIVE_COUNT', 5, { min: 1, max: 1_000 }),
    // Bodies over 400,000 bytes go through the local archive bucket, as in AWS.
    maxBodyBytes: integer('MAX_BODY_BYTES', DEFAULT_MAX_BODY_BYTES, {
      min: 1,
      max: LARGEST_BODY_BYTES,
    }),
    logLevel: logLevel(environment),
    eventsPort: integer('EVENTS_PORT', DEFAULT_EVENTS_PORT, PORT_RANGE),
    eventsLog: booleanEnv('EVENTS_LOG', false, environment),
    eventSource: matching('EVENT_SOURCE', DEFAULT_EVENT_SOURCE, EVENT_SOURCE_PATTERN, environment),
    publishLabelEvents: booleanEnv('PUBLISH_LABEL_EVENTS', false, environment),
    exporter: exporterConfig(environment),
    enrichment: enrichmentConfig(environment),
  };
}

function enrichmentConfig(environment: NodeJS.ProcessEnv): LocalEnrichmentConfig | undefined {
  const clientId = optionalEnv('DATASAUR_CLIENT_ID', '', environment).trim();
  const clientSecret = optionalEnv('DATASAUR_CLIENT_SECRET', '', environment).trim();
  if (clientId === '' || clientSecret === '') return undefined;
  const apiUrl = optionalEnv('DATASAUR_API_URL', DEFAULT_LOCAL_DATASAUR_API_URL, environment);
  return { apiUrl: apiUrl.trim(), clientId, clientSecret };
}

function exporterConfig(environment: NodeJS.ProcessEnv): LocalExporterConfig | undefined {
  const clientId = optionalEnv('DATASAUR_CLIENT_ID', '', environment).trim();
  const clientSecret = optionalEnv('DATASAUR_CLIENT_SECRET', '', environment).trim();
  const apiUrl = optionalEnv(
    'DATASAUR_API_URL',
    DEFAULT_LOCAL_DATASAUR_API_URL,
    environment,
  ).trim();
  const format = optionalEnv('EXPORT_FORMAT', DEFAULT_EXPORT_FORMAT, environment).trim();
  const exportOnValue = optionalEnv('EXPORT_ON', DEFAULT_EXPORT_ON, environment).trim();
  const exportOn = EXPORT_ON_VALUES.find((value) => value === exportOnValue);
  if (exportOn === undefined) {
    throw new ConfigurationError(
      `environment variable EXPORT_ON must be one of ${EXPORT_ON_VALUES.join(', ')}, got "${exportOnValue}"`,
    );
  }
  const apiUrlProblem = datasaurApiUrlProblem(apiUrl);
  if (apiUrlProblem !== undefined) {
    throw new ConfigurationError(`environment variable DATASAUR_API_URL: ${apiUrlProblem}`);
  }
  const download = downloadPolicyFromEnvironment(environment);
  const apiUrlSet = optionalEnv('DATASAUR_API_URL', '', environment).trim() !== '';
  if ((clientId === '' && !apiUrlSet) || exportOn === 'off') return undefined;
  if ((clientId === '') !== (clientSecret === '')) {
    throw new ConfigurationError(
      'environment variables DATASAUR_CLIENT_ID and DATASAUR_CLIENT_SECRET go together: set both, or neither (exports then wait for them)',
    );
  }
  if (clientSecret !== '') {
    try {
      checkedSecret(clientSecret, 'DATASAUR_CLIENT_SECRET');
    } catch (error) {
      throw new ConfigurationError(`environment variable ${(error as Error).message}`);
    }
  }
  // The one origin admitted beyond public https hosts: the configured Datasaur API's own
  // (the fake's `http://127.0.0.1:<port>`), so a loopback URL on any other port is refused.
  const trustedOrigins = [new URL(apiUrl).origin];
  return {
    apiUrl,
    credentials: clientId === '' ? undefined : { clientId, clientSecret },
    exportOn,
    format,
    download: { ...download, trustedOrigins },
  };
}

/** The URL a client on this machine uses to reach the webhook server. */
export function webhookUrl(host: string, port: number, pathToken: string): string {
  // A server listening on every interface is reached through loopback.
  const reachable = host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;
  const hostPart = reachable.includes(':') ? `[${reachable}]` : reachable;
  return webhookUrlAt(`http://${hostPart}:${port}`, pathToken);
}

/** Reads `.env` from the current folder when there is one; variables already set win. */
export function loadDotEnv(path = '.env'): void {
  if (existsSync(path)) process.loadEnvFile(path);
}

/** The local stack as a CLI reaches it. */
export interface LocalTarget {
  readonly config: LocalStackConfig;
  /** The webhook server on `HOST` and `PORT`. */
  webhookUrl(): string;
  /** `DYNAMODB_ENDPOINT`, else the local server on `DYNAMODB_PORT`. */
  dynamoDbEndpoint(): string;
  /** `SQS_ENDPOINT`, else the local server on `SQS_PORT`. */
  sqsEndpoint(): string;
  /** `EVENTS_ENDPOINT`, else the local EventBridge endpoint on `EVENTS_PORT`. */
  eventsEndpoint(): string;
  /** `S3_ENDPOINT`, else the local S3 server (the archive bucket) on `S3_PORT`. */
  s3Endpoint(): string;
  readonly deadLetterQueueName: string;
}

/**
 * How every local CLI finds the stack `npm start` runs: the same variables, from the shell or
 * `.env`, read and validated by the same `readLocalConfig`. `DYNAMODB_ENDPOINT`,
 * `SQS_ENDPOINT`, `EVENTS_ENDPOINT` and `S3_ENDPOINT` name a server elsewhere. Throws `ConfigurationError` for a bad value, and
 * when a port is 0 (a free port `npm start` picked, which only its banner knows).
 */
export function readLocalTarget(environment: NodeJS.ProcessEnv = dotEnvLoaded()): LocalTarget {
  const config = readLocalConfig(environment);
  const knownPort = (variable: string, port: number, instead: string) => {
    if (port === 0) {
      throw new ConfigurationError(
        `${variable} is 0, so npm start picked a free port: set ${variable} to the port its banner shows, or ${instead}`,
      );
    }
    return port;
  };
  const endpoint = (override: string, variable: string, port: number) => () =>
    environment[override]?.trim() ||
    `http://${LOCAL_SERVERS_HOST}:${knownPort(variable, port, override)}`;
  return {
    config,
    webhookUrl: () =>
      webhookUrl(
        config.host,
        knownPort('PORT', config.port, 'pass --url'),
        config.webhookPathToken,
      ),
    dynamoDbEndpoint: endpoint('DYNAMODB_ENDPOINT', 'DYNAMODB_PORT', config.dynamoDbPort),
    sqsEndpoint: endpoint('SQS_ENDPOINT', 'SQS_PORT', config.sqsPort),
    eventsEndpoint: endpoint('EVENTS_ENDPOINT', 'EVENTS_PORT', config.eventsPort),
    s3Endpoint: endpoint('S3_ENDPOINT', 'S3_PORT', config.s3Port),
    deadLetterQueueName: deadLetterQueueName(config.queueName),
  };
}

function dotEnvLoaded(): NodeJS.ProcessEnv {
  loadDotEnv();
  return process.env;
}

function matching(
  name: string,
  fallback: string,
  pattern: RegExp,
  environment: NodeJS.ProcessEnv,
): string {
  const value = optionalEnv(name, fallback, environment).trim();
  if (!pattern.test(value)) {
    throw new ConfigurationError(
      `environment variable ${name} must match ${pattern.source}, got "${value}"`,
    );
  }
  return value;
}

function webhookSecrets(environment: NodeJS.ProcessEnv): string[] | undefined {
  const list = environment.DATASAUR_WEBHOOK_SECRET;
  if (list === undefined || list.trim() === '') return undefined;
  try {
    return parseSecretList(list);
  } catch (error) {
    throw new ConfigurationError(
      `environment variable DATASAUR_WEBHOOK_SECRET must be a secret or a comma-separated list of secrets: ${(error as Error).message}`,
    );
  }
}

/** DYNAMODB_BACKEND, validated; the test setup reads it with this function too. */
export function dynamoDbBackend(environment: NodeJS.ProcessEnv = process.env): DynamoDbBackend {
  const value = optionalEnv('DYNAMODB_BACKEND', 'dynalite', environment).trim();
  const backend = DYNAMODB_BACKENDS.find((candidate) => candidate === value);
  if (backend === undefined) {
    throw new ConfigurationError(
      `environment variable DYNAMODB_BACKEND must be one of ${DYNAMODB_BACKENDS.join(', ')}, got "${value}"`,
    );
  }
  return backend;
}

function logLevel(environment: NodeJS.ProcessEnv): LocalLogLevel {
  const value = optionalEnv('LOG_LEVEL', 'INFO', environment).trim().toUpperCase();
  const level = LOG_LEVELS.find((candidate) => candidate === value);
  if (level === undefined) {
    throw new ConfigurationError(
      `environment variable LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${value}"`,
    );
  }
  return level;
}

/**
 * EXPORT_ON as the worker reads it (default REVIEWED), for a command that sends exports as
 * the worker would; any other value is refused with a `Refusal` saying what it accepts.
 */
export function exportOnFromEnvironment(Refusal: new (message: string) => Error): ExportOn {
  const exportOn = EXPORT_ON_VALUES.find(
    (value) => value === optionalEnv('EXPORT_ON', DEFAULT_EXPORT_ON),
  );
  if (exportOn === undefined) {
    throw new Refusal(`EXPORT_ON must be one of ${EXPORT_ON_VALUES.join(', ')}`);
  }
  return exportOn;
}
