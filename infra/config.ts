/**
 * The deployment's settings, read once from CDK context (`-c name=value` or cdk.json) and
 * validated before any construct is built, so a bad value fails with a message saying how
 * to fix it instead of a CloudFormation error half-way through a deploy.
 */
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DEFAULT_EVENT_SOURCE, EVENT_SOURCE_PATTERN } from '../shared/bus/bus-events.ts';
import { DEFAULT_DATASAUR_API_URL, datasaurApiUrlProblem } from '../shared/datasaur/client.ts';
import { DEFAULT_MAX_EXPORT_BYTES } from '../shared/export/download.ts';
import {
  DEFAULT_EXPORT_FORMAT,
  DEFAULT_EXPORT_ON,
  EXPORT_ON_VALUES,
  type ExportOn,
} from '../shared/export/export-trigger.ts';
import { ConfigurationError } from '../shared/runtime/environment.ts';
import {
  INDEX_NAMES,
  type IndexName,
  indexChanges,
  RELEASED_INDEX_NAMES,
} from '../shared/store/table.ts';
import { DEFAULT_MAX_BODY_BYTES, LARGEST_BODY_BYTES } from '../shared/webhook/ingest.ts';
import { PATH_TOKEN_PATTERN } from '../shared/webhook/route.ts';

export interface WebhookStackConfig {
  readonly stackName: string;
  /**
   * The secret path segment of the webhook URL (`/webhooks/datasaur/<token>`); the stack
   * refuses to build without one (docs/flood.md).
   */
  readonly webhookPathToken: string | undefined;
  /** The token before the last rotation, still routed until Datasaur uses the new URL. */
  readonly previousWebhookPathToken: string | undefined;
  /** Steady-state requests per second each webhook route (and the stage default) admits. */
  readonly throttleRateLimit: number;
  /** Requests each webhook route admits in a burst above the steady rate, likewise. */
  readonly throttleBurstLimit: number;
  readonly ingestMemoryMb: number;
  readonly ingestTimeoutSeconds: number;
  readonly workerMemoryMb: number;
  readonly workerTimeoutSeconds: number;
  readonly workerBatchSize: number;
  readonly workerBatchingWindowSeconds: number;
  /** Upper bound on concurrent worker invocations fed by the queue. */
  readonly workerMaxConcurrency: number;
  /** Receives after which a message moves to the dead-letter queue. */
  readonly maxReceiveCount: number;
  /** On-demand cap of write request units a second, per table and per index; none when undefined. */
  readonly tableMaxWriteRequestUnits: number | undefined;
  /** On-demand cap of read request units a second, per table and per index; none when undefined. */
  readonly tableMaxReadRequestUnits: number | undefined;
  /** Warm write throughput (units a second) of the table and each index; none when undefined. */
  readonly tableWarmWriteUnitsPerSecond: number | undefined;
  /** Warm read throughput (units a second) of the table and each index; none when undefined. */
  readonly tableWarmReadUnitsPerSecond: number | undefined;
  /**
   * The global secondary indexes the table declares: all of them, unless a table deployed by
   * an earlier version is being upgraded in stages (one index created per deploy).
   */
  readonly tableIndexes: readonly IndexName[];
  /**
   * The indexes the deployed table has now, when the deploy names them: synthesis then refuses
   * a `tableIndexes` that creates or deletes more than one index from it.
   */
  readonly previousTableIndexes: readonly IndexName[] | undefined;
  /** Largest webhook body the ingest accepts (413 above it). */
  readonly maxBodyBytes: number;
  /** How long the ingest function keeps the webhook secret before reading it again. */
  readonly webhookSecretCacheSeconds: number;
  /** Age of the oldest queued message that raises the backlog alarm. */
  readonly oldestMessageAgeAlarmSeconds: number;
  /** Where alarm notifications are e-mailed; none when undefined. */
  readonly alarmEmail: string | undefined;
  readonly logRetentionDays: RetentionDays;
  /** Application log level of both functions (Powertools, and Lambda's filter on it). */
  readonly logLevel: LogLevel;
  /** Level of Lambda's own lines: WARN drops START/END/REPORT, the bulk of a quiet log. */
  readonly systemLogLevel: SystemLogLevel;
  /** Days after which raw items expire through the table's TTL; kept forever when undefined. */
  readonly rawTtlDays: number | undefined;
  /**
   * Where stored events are published: `default` (the account's default bus), the name of
   * an existing bus, or `create` (a new bus with an archive of `eventArchiveDays`).
   */
  readonly eventBusName: string;
  /** Days the archive of a created bus keeps events, for replays; 0 keeps them forever. */
  readonly eventArchiveDays: number;
  /**
   * The `source` of every published event: `datasaur.webhooks` for the default stack name,
   * `datasaur.webhooks.<stackName>` for any other, so two stages on one bus are told apart.
   */
  readonly eventSource: string;
  /** Publish `Labels Updated` events too (they are the volume). */
  readonly publishLabelEvents: boolean;
  /**
   * Keep 0.1.0's webhook URL (`/webhooks/datasaur`, no token) routed beside the token's, while
   * Datasaur still sends there during an upgrade from 0.1.0. @default false
   */
  readonly keepReleasedWebhookRoute: boolean;
  /** Days after which large bodies in the archive bucket (`bodies/`) expire; kept when undefined. */
  readonly bodyRetentionDays: number | undefined;
  /** Which status transitions archive the project's export; `off` builds no exporter. */
  readonly exportOn: ExportOn;
  /** `format` of Datasaur's export (`json_advanced`, `json`, `conll`, `tsv`…). */
  readonly exportFormat: string;
  /** Minutes between reconcile runs; undefined (`off`) deploys no reconciler. */
  readonly reconcileEveryMinutes: number | undefined;
  /** Datasaur teams the reconciler checks; none deploys no reconciler. */
  readonly datasaurTeamIds: readonly string[];
  /** Projects not created or updated within this many days are not reconciled. */
  readonly reconcileLookbackDays: number;
  /** Datasaur's API (self-hosted installs have their own). */
  readonly datasaurApiUrl: string;
  /**
   * Complete ARN of an existing webhook secret to use instead of creating one (a secret kept
   * from a destroyed stack, so the URL and secret registered with Datasaur survive).
   */
  readonly webhookSecretArn: string | undefined;
  /** Complete ARN of an existing Datasaur API credentials secret to use instead of creating one. */
  readonly datasaurCredentialsSecretArn: string | undefined;
  /** Largest export file the exporter downloads; a larger one is recorded FAILED (TOO_LARGE). */
  readonly exportMaxBytes: number;
  /** Hosts export files may be downloaded from (`*.example.com` for subdomains); any public host when empty. */
  readonly exportAllowedHosts: readonly string[];
  /** Admit export files on private addresses (a self-hosted Datasaur inside the VPC's network). */
  readonly exportAllowPrivateHosts: boolean;
}

/**
 * Days a message can stay in the stack's queues: the dead-letter queues keep one 14 days from
 * when it was first queued (the source queues 4), so a body must be kept at least as long.
 */
export const QUEUE_RETENTION_DAYS = 14;

const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
type LogLevel = (typeof LOG_LEVELS)[number];
const SYSTEM_LOG_LEVELS = ['DEBUG', 'INFO', 'WARN'] as const;
type SystemLogLevel = (typeof SYSTEM_LOG_LEVELS)[number];

export const DEFAULT_CONFIG: WebhookStackConfig = {
  stackName: 'DatasaurWebhooks',
  webhookPathToken: undefined,
  previousWebhookPathToken: undefined,
  throttleRateLimit: 50,
  throttleBurstLimit: 100,
  ingestMemoryMb: 512,
  ingestTimeoutSeconds: 10,
  workerMemoryMb: 512,
  workerTimeoutSeconds: 30,
  workerBatchSize: 10,
  workerBatchingWindowSeconds: 5,
  workerMaxConcurrency: 10,
  maxReceiveCount: 5,
  tableMaxWriteRequestUnits: undefined,
  tableMaxReadRequestUnits: undefined,
  tableWarmWriteUnitsPerSecond: undefined,
  tableWarmReadUnitsPerSecond: undefined,
  tableIndexes: INDEX_NAMES,
  previousTableIndexes: undefined,
  maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
  webhookSecretCacheSeconds: 300,
  oldestMessageAgeAlarmSeconds: 900,
  alarmEmail: undefined,
  logRetentionDays: RetentionDays.ONE_MONTH,
  logLevel: 'INFO',
  systemLogLevel: 'WARN',
  rawTtlDays: undefined,
  eventBusName: 'default',
  eventArchiveDays: 30,
  eventSource: DEFAULT_EVENT_SOURCE,
  publishLabelEvents: false,
  keepReleasedWebhookRoute: false,
  bodyRetentionDays: undefined,
  exportOn: DEFAULT_EXPORT_ON,
  exportFormat: DEFAULT_EXPORT_FORMAT,
  reconcileEveryMinutes: 60,
  datasaurTeamIds: [],
  reconcileLookbackDays: 30,
  datasaurApiUrl: DEFAULT_DATASAUR_API_URL,
  webhookSecretArn: undefined,
  datasaurCredentialsSecretArn: undefined,
  exportMaxBytes: DEFAULT_MAX_EXPORT_BYTES,
  exportAllowedHosts: [],
  exportAllowPrivateHosts: false,
};

/** A complete Secrets Manager ARN: it ends with the six random characters AWS appended. */
const COMPLETE_SECRET_ARN =
  /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+-[A-Za-z0-9]{6}$/;

/** `reconcileEvery`: `off`, or a number of minutes, hours or days from 5 minutes to 1 day. */
const RECONCILE_EVERY = /^(\d+)\s*(minute|minutes|hour|hours|day|days)$/i;
const MINUTES_PER: Record<string, number> = { minute: 1, hour: 60, day: 1440 };
const RECONCILE_EVERY_MINUTES: [number, number] = [5, 1440];

/** Bounds of the optional throughput settings: DynamoDB's own (warm: 12,000 / 4,000 minimum). */
const THROUGHPUT_BOUNDS = {
  tableMaxWriteRequestUnits: [1, 40_000_000],
  tableMaxReadRequestUnits: [1, 40_000_000],
  tableWarmWriteUnitsPerSecond: [4_000, 40_000_000],
  tableWarmReadUnitsPerSecond: [12_000, 40_000_000],
} as const satisfies Record<string, [number, number]>;

type IntegerOption = {
  [Name in keyof WebhookStackConfig]: WebhookStackConfig[Name] extends number ? Name : never;
}[keyof WebhookStackConfig];

/** Bounds are the AWS limits of each setting, or the product's own where it is tighter. */
const INTEGER_BOUNDS: Record<Exclude<IntegerOption, 'logRetentionDays'>, [number, number]> = {
  throttleRateLimit: [1, 10_000],
  throttleBurstLimit: [1, 5_000],
  ingestMemoryMb: [128, 10_240],
  // HTTP API integrations time out after 30 s, so a slower ingest would never be answered.
  ingestTimeoutSeconds: [1, 29],
  workerMemoryMb: [128, 10_240],
  workerTimeoutSeconds: [1, 900],
  workerBatchSize: [1, 10_000],
  workerBatchingWindowSeconds: [0, 300],
  // At most half an account's default 1,000 concurrent executions: a redrive of a full
  // dead-letter queue must leave the ingest room to take webhooks (docs/performance.md).
  workerMaxConcurrency: [2, 500],
  maxReceiveCount: [1, 1_000],
  maxBodyBytes: [1, LARGEST_BODY_BYTES],
  webhookSecretCacheSeconds: [0, 3_600],
  oldestMessageAgeAlarmSeconds: [60, 1_209_600],
  reconcileLookbackDays: [1, 3_650],
  eventArchiveDays: [0, 36_500],
  // Up to what S3 takes in one object (5 TiB); the exporter's 15 minutes bound it sooner.
  exportMaxBytes: [1, 5 * 1024 ** 4],
};

/** The default stack keeps the product's source; another stage appends its stack name. */
function defaultEventSource(stackName: string | undefined): string {
  return stackName === undefined || stackName === DEFAULT_CONFIG.stackName
    ? DEFAULT_EVENT_SOURCE
    : `${DEFAULT_EVENT_SOURCE}.${stackName}`;
}

/** Anything that answers `tryGetContext`: an App, a Stack or a construct node. */
export interface ContextSource {
  tryGetContext(name: string): unknown;
  /** Every context value set (a construct node has it): a setting nobody reads is a typo. */
  getAllContext?(): Record<string, unknown>;
}

/** Reads and validates every setting; throws one `ConfigurationError` listing all problems. */
export function readConfig(context: ContextSource): WebhookStackConfig {
  const problems: string[] = [];
  const settingNames = new Set<string>();
  const read = (name: string): string | undefined => {
    settingNames.add(name);
    const value = context.tryGetContext(name);
    if (value === undefined || value === null || String(value).trim() === '') return undefined;
    return String(value).trim();
  };
  const integer = (name: keyof typeof INTEGER_BOUNDS): number => {
    const raw = read(name);
    if (raw === undefined) return DEFAULT_CONFIG[name];
    const [min, max] = INTEGER_BOUNDS[name];
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
      return DEFAULT_CONFIG[name];
    }
    return value;
  };

  const optionalInteger = (name: keyof typeof THROUGHPUT_BOUNDS): number | undefined => {
    const raw = read(name);
    if (raw === undefined) return undefined;
    const [min, max] = THROUGHPUT_BOUNDS[name];
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
      return undefined;
    }
    return value;
  };

  const config: WebhookStackConfig = {
    stackName: read('stackName') ?? DEFAULT_CONFIG.stackName,
    webhookPathToken: read('webhookPathToken'),
    previousWebhookPathToken: read('previousWebhookPathToken'),
    throttleRateLimit: integer('throttleRateLimit'),
    throttleBurstLimit: integer('throttleBurstLimit'),
    ingestMemoryMb: integer('ingestMemoryMb'),
    ingestTimeoutSeconds: integer('ingestTimeoutSeconds'),
    workerMemoryMb: integer('workerMemoryMb'),
    workerTimeoutSeconds: integer('workerTimeoutSeconds'),
    workerBatchSize: integer('workerBatchSize'),
    workerBatchingWindowSeconds: integer('workerBatchingWindowSeconds'),
    workerMaxConcurrency: integer('workerMaxConcurrency'),
    maxReceiveCount: integer('maxReceiveCount'),
    tableMaxWriteRequestUnits: optionalInteger('tableMaxWriteRequestUnits'),
    tableMaxReadRequestUnits: optionalInteger('tableMaxReadRequestUnits'),
    tableWarmWriteUnitsPerSecond: optionalInteger('tableWarmWriteUnitsPerSecond'),
    tableWarmReadUnitsPerSecond: optionalInteger('tableWarmReadUnitsPerSecond'),
    tableIndexes: DEFAULT_CONFIG.tableIndexes,
    previousTableIndexes: undefined,
    maxBodyBytes: integer('maxBodyBytes'),
    webhookSecretCacheSeconds: integer('webhookSecretCacheSeconds'),
    oldestMessageAgeAlarmSeconds: integer('oldestMessageAgeAlarmSeconds'),
    alarmEmail: read('alarmEmail'),
    logRetentionDays: DEFAULT_CONFIG.logRetentionDays,
    logLevel: DEFAULT_CONFIG.logLevel,
    systemLogLevel: DEFAULT_CONFIG.systemLogLevel,
    rawTtlDays: undefined,
    eventBusName: read('eventBusName') ?? DEFAULT_CONFIG.eventBusName,
    eventArchiveDays: integer('eventArchiveDays'),
    eventSource: read('eventSource') ?? defaultEventSource(read('stackName')),
    publishLabelEvents: DEFAULT_CONFIG.publishLabelEvents,
    keepReleasedWebhookRoute: DEFAULT_CONFIG.keepReleasedWebhookRoute,
    bodyRetentionDays: undefined,
    exportOn: DEFAULT_CONFIG.exportOn,
    exportFormat: read('exportFormat') ?? DEFAULT_CONFIG.exportFormat,
    reconcileEveryMinutes: DEFAULT_CONFIG.reconcileEveryMinutes,
    datasaurTeamIds: (read('datasaurTeamIds') ?? '')
      .split(',')
      .map((teamId) => teamId.trim())
      .filter((teamId) => teamId !== ''),
    reconcileLookbackDays: integer('reconcileLookbackDays'),
    datasaurApiUrl: (read('datasaurApiUrl') ?? DEFAULT_CONFIG.datasaurApiUrl).replace(/\/+$/, ''),
    webhookSecretArn: read('webhookSecretArn'),
    datasaurCredentialsSecretArn: read('datasaurCredentialsSecretArn'),
    exportMaxBytes: integer('exportMaxBytes'),
    exportAllowedHosts: (read('exportAllowedHosts') ?? '')
      .split(',')
      .map((host) => host.trim().toLowerCase())
      .filter((host) => host !== ''),
    exportAllowPrivateHosts: DEFAULT_CONFIG.exportAllowPrivateHosts,
  };
  for (const name of ['webhookSecretArn', 'datasaurCredentialsSecretArn'] as const) {
    const arn = config[name];
    if (arn !== undefined && !COMPLETE_SECRET_ARN.test(arn)) {
      problems.push(
        `${name} must be the complete ARN of a secret (arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>, from \`aws secretsmanager describe-secret\`), got "${arn}"`,
      );
    }
  }

  const indexList = (name: 'tableIndexes' | 'previousTableIndexes'): IndexName[] | undefined => {
    const raw = read(name);
    if (raw === undefined) return undefined;
    const names = raw.split(',').map((indexName) => indexName.trim().toUpperCase());
    const known = names.filter((indexName): indexName is IndexName =>
      (INDEX_NAMES as readonly string[]).includes(indexName),
    );
    if (known.length !== names.length) {
      problems.push(
        `${name} must be a comma-separated list of the table's indexes (${INDEX_NAMES.join(', ')}), got "${raw}"`,
      );
    } else if (!RELEASED_INDEX_NAMES.every((indexName) => known.includes(indexName))) {
      problems.push(
        `${name} must include ${RELEASED_INDEX_NAMES.join(' and ')} (every deployed table has them and every version reads them), got "${raw}"`,
      );
    }
    return INDEX_NAMES.filter((indexName) => known.includes(indexName));
  };
  const tableIndexes = indexList('tableIndexes') ?? DEFAULT_CONFIG.tableIndexes;
  const previousTableIndexes = indexList('previousTableIndexes');
  if (previousTableIndexes !== undefined) {
    const { created, deleted } = indexChanges(previousTableIndexes, tableIndexes);
    if (created.length + deleted.length > 1) {
      const [firstCreated] = created;
      const firstStep = INDEX_NAMES.filter((indexName) =>
        firstCreated === undefined
          ? previousTableIndexes.includes(indexName) && indexName !== deleted[0]
          : previousTableIndexes.includes(indexName) || indexName === firstCreated,
      );
      problems.push(
        `tableIndexes ${[
          ...(created.length > 0 ? [`creates ${created.join(' and ')}`] : []),
          ...(deleted.length > 0 ? [`deletes ${deleted.join(' and ')}`] : []),
        ].join(
          ' and ',
        )} on a table with ${previousTableIndexes.join(',')}: CloudFormation creates or deletes one global secondary index per update, so deploy -c tableIndexes=${firstStep.join(',')} first (docs/querying.md#upgrading-an-existing-table)`,
      );
    }
  }

  const exportOnValue = read('exportOn');
  const exportOn =
    exportOnValue === undefined
      ? DEFAULT_CONFIG.exportOn
      : EXPORT_ON_VALUES.find((value) => value.toLowerCase() === exportOnValue.toLowerCase());
  if (exportOn === undefined) {
    problems.push(`exportOn must be one of ${EXPORT_ON_VALUES.join(', ')}, got "${exportOnValue}"`);
  }
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(config.exportFormat)) {
    problems.push(
      `exportFormat must be a Datasaur export format such as json_advanced, got "${config.exportFormat}"`,
    );
  }

  const reconcileEvery = read('reconcileEvery');
  const every = reconcileEvery === undefined ? undefined : RECONCILE_EVERY.exec(reconcileEvery);
  const everyMinutes =
    every === undefined || every === null
      ? undefined
      : Number(every[1]) * (MINUTES_PER[String(every[2]).toLowerCase().replace(/s$/, '')] ?? 0);
  const [minEvery, maxEvery] = RECONCILE_EVERY_MINUTES;
  if (
    reconcileEvery !== undefined &&
    reconcileEvery.toLowerCase() !== 'off' &&
    (everyMinutes === undefined || everyMinutes < minEvery || everyMinutes > maxEvery)
  ) {
    problems.push(
      `reconcileEvery must be "off" or a period from 5 minutes to 1 day such as "30 minutes", "1 hour" or "1 day", got "${reconcileEvery}"`,
    );
  }
  const apiUrlProblem = datasaurApiUrlProblem(config.datasaurApiUrl);
  // The deployed exporter and reconciler run in AWS: a loopback API would be their own host.
  if (apiUrlProblem !== undefined || !config.datasaurApiUrl.startsWith('https://')) {
    problems.push(`datasaurApiUrl must be an https URL, got "${config.datasaurApiUrl}"`);
  }
  for (const host of config.exportAllowedHosts) {
    if (!/^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(host)) {
      problems.push(
        `exportAllowedHosts must be a comma-separated list of host names such as "datasaur-exports.s3.amazonaws.com" or "*.example.com", got "${host}"`,
      );
    }
  }

  const retention = read('logRetentionDays');
  const retentionChoices = Object.values(RetentionDays).filter(
    (days): days is RetentionDays => typeof days === 'number' && days !== RetentionDays.INFINITE,
  );
  const retentionDays = Number(retention);
  if (retention !== undefined && !retentionChoices.includes(retentionDays)) {
    problems.push(
      `logRetentionDays must be one of CloudWatch's retention periods (${retentionChoices.join(', ')}), got "${retention}"`,
    );
  }

  const oneOf = <Level extends string>(name: string, levels: readonly Level[]) => {
    const value = read(name)?.toUpperCase();
    if (value !== undefined && !levels.includes(value as Level)) {
      problems.push(`${name} must be one of ${levels.join(', ')}, got "${value}"`);
    }
    return value as Level | undefined;
  };
  const logLevel = oneOf('logLevel', LOG_LEVELS);
  const systemLogLevel = oneOf('systemLogLevel', SYSTEM_LOG_LEVELS);

  const days = (name: 'rawTtlDays' | 'bodyRetentionDays'): number | undefined => {
    const raw = read(name);
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1 || value > 36_500) {
      problems.push(`${name} must be a whole number of days from 1 to 36500, got "${raw}"`);
    }
    return value;
  };
  const rawTtlDays = days('rawTtlDays');
  const bodyRetentionDays = days('bodyRetentionDays');
  // A queued message may point at a body under bodies/: it must outlive every queue's copy.
  if (
    bodyRetentionDays !== undefined &&
    bodyRetentionDays >= 1 &&
    bodyRetentionDays < QUEUE_RETENTION_DAYS
  ) {
    problems.push(
      `bodyRetentionDays must be at least ${QUEUE_RETENTION_DAYS}, the days the queues and dead-letter queues keep a message (a message outliving its body could no longer be stored), got "${bodyRetentionDays}"`,
    );
  }

  // A loose check: enough to catch a swapped option, SNS confirms the address itself.
  if (config.alarmEmail !== undefined && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(config.alarmEmail)) {
    problems.push(`alarmEmail must be an e-mail address, got "${config.alarmEmail}"`);
  }
  if (!/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(config.stackName)) {
    problems.push(
      `stackName must start with a letter and hold only letters, digits and hyphens, got "${config.stackName}"`,
    );
  }
  if (config.workerBatchingWindowSeconds === 0 && config.workerBatchSize > 10) {
    problems.push(
      `workerBatchSize above 10 needs a batching window: set workerBatchingWindowSeconds to 1 or more, or workerBatchSize to 10 or less (got ${config.workerBatchSize})`,
    );
  }

  for (const name of ['webhookPathToken', 'previousWebhookPathToken'] as const) {
    const token = config[name];
    // The value itself is never echoed: it is a secret.
    if (token !== undefined && !PATH_TOKEN_PATTERN.test(token)) {
      problems.push(
        `${name} must be 20 to 128 letters, digits, "-" or "_" (make one with \`openssl rand -hex 16\`)`,
      );
    }
  }
  if (config.previousWebhookPathToken !== undefined) {
    if (config.webhookPathToken === undefined) {
      problems.push('previousWebhookPathToken needs webhookPathToken, the new token, beside it');
    } else if (config.previousWebhookPathToken === config.webhookPathToken) {
      problems.push('previousWebhookPathToken must differ from webhookPathToken');
    }
  }

  // EventBridge's bus-name characters; `default` and `create` pass too.
  if (!/^[/.\-_A-Za-z0-9]{1,256}$/.test(config.eventBusName)) {
    problems.push(
      `eventBusName must be "default", "create" or the name of an existing event bus, got "${config.eventBusName}"`,
    );
  }
  if (!EVENT_SOURCE_PATTERN.test(config.eventSource)) {
    problems.push(
      `eventSource must be 1 to 256 letters, digits or . _ / - and not start with "aws.", got "${config.eventSource}"`,
    );
  }
  /** A true/false setting (any case); its default when unset, or when wrong (with a problem). */
  const flag = (
    name: 'keepReleasedWebhookRoute' | 'publishLabelEvents' | 'exportAllowPrivateHosts',
  ) => {
    const raw = read(name)?.toLowerCase();
    if (raw !== undefined && raw !== 'true' && raw !== 'false') {
      problems.push(`${name} must be true or false, got "${raw}"`);
    }
    return raw === undefined ? DEFAULT_CONFIG[name] : raw === 'true';
  };
  const keepReleasedWebhookRoute = flag('keepReleasedWebhookRoute');
  const publishLabelEvents = flag('publishLabelEvents');
  const exportAllowPrivateHosts = flag('exportAllowPrivateHosts');

  problems.push(...unknownSettings(context, settingNames));

  if (problems.length > 0) {
    throw new ConfigurationError(
      [
        'Invalid CDK context:',
        ...problems.map((problem) => `  - ${problem}`),
        'Set a value with `npx cdk deploy -c name=value`, or under "context" in cdk.json.',
      ].join('\n'),
    );
  }
  return {
    ...config,
    tableIndexes,
    previousTableIndexes,
    logRetentionDays: retention === undefined ? config.logRetentionDays : retentionDays,
    logLevel: logLevel ?? config.logLevel,
    systemLogLevel: systemLogLevel ?? config.systemLogLevel,
    publishLabelEvents,
    keepReleasedWebhookRoute,
    exportAllowPrivateHosts,
    rawTtlDays,
    bodyRetentionDays,
    exportOn: exportOn ?? DEFAULT_CONFIG.exportOn,
    reconcileEveryMinutes:
      reconcileEvery === undefined
        ? config.reconcileEveryMinutes
        : reconcileEvery.toLowerCase() === 'off'
          ? undefined
          : everyMinutes,
  };
}

/**
 * Context keys that look like a setting of this stack (a plain name: the CDK's own keys hold
 * `:`, `-` or `@`) but are none: `-c reconcileEveryMinutes=off` would otherwise deploy the
 * default without a word.
 */
function unknownSettings(context: ContextSource, known: ReadonlySet<string>): string[] {
  const names = Object.keys(context.getAllContext?.() ?? {});
  return names
    .filter((name) => /^[A-Za-z][A-Za-z0-9]*$/.test(name) && !known.has(name))
    .map((name) => {
      const near = closestSetting(name, known);
      return `${name} is not a setting of this stack${near === undefined ? '' : ` (did you mean ${near}?)`}; docs/configuration.md lists them`;
    });
}

/** The setting a mistyped name likely meant: the same in another case, or one a prefix of the other. */
function closestSetting(name: string, known: ReadonlySet<string>): string | undefined {
  const lower = name.toLowerCase();
  const candidates = [...known].map((candidate) => ({ candidate, other: candidate.toLowerCase() }));
  return (
    candidates.find(({ other }) => other === lower) ??
    candidates.find(({ other }) => lower.startsWith(other) || other.startsWith(lower))
  )?.candidate;
}
