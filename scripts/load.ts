/**
 * `npm run load -- --events 5000 --concurrency 50`: sends signed events of all four types
 * with duplicates, waits until the table is quiet, and reports what was acknowledged,
 * persisted, lost and stored twice. Exits non-zero if anything was lost or duplicated.
 * Starts its own local stack (temporary data directory, free ports) unless given `--url`.
 */
import { LOAD_EVENTS_PER_PROJECT } from './local/workload.ts';
import './local/sdk-notice.ts';
import { numberFlag, parseFlags, runMeasurement, UsageError } from './local/cli.ts';
import { loadDotEnv, readLocalTarget } from './local/config.ts';
import { signingSecret } from './local/dev-secret.ts';
import { DEFAULT_TARGET_RATE, type LoadReport, runLoad } from './local/load-run.ts';
import { PARTITION_WRITE_UNITS_PER_SECOND, type PartitionLoad } from './local/partition-load.ts';
import { localDynamoDb } from './local/servers.ts';
import { startThrowawayStack, type ThrowawayStack } from './local/throwaway-stack.ts';

const USAGE = `Usage: npm run load -- [flags]

  --events <n>          requests to send, duplicates included (default 5000; at least
                        ${LOAD_EVENTS_PER_PROJECT}, one project's whole lifecycle)
  --concurrency <c>     requests in flight at once (default 50)
  --duplicates <share>  share of requests that repeat an event already sent (default 0.1)
  --seed <n>            order and duplicates are drawn from this seed (default: random)
  --url <url>           a running stack's webhook URL; without it a local stack is started
                        on free ports with a temporary data directory, and stopped after
  --secret <secret>     signing secret for --url (default as npm run send)
  --endpoint <url>      DynamoDB endpoint for --url (default $DYNAMODB_ENDPOINT, else the
                        local stack on $DYNAMODB_PORT, read as npm start reads it)
  --table <name>        table for --url (default $TABLE_NAME, else datasaur-webhooks)
  --timeout <seconds>   give up when the table gains nothing for this long (default 60)
  --target-rate <n>     requests a second to extrapolate the write units per partition key
                        to (default 5000); exits non-zero if a key would pass 1,000 units/s
  --json                print the report as JSON
`;

const OPTIONS = {
  events: { type: 'string', default: '5000' },
  concurrency: { type: 'string', default: '50' },
  duplicates: { type: 'string', default: '0.1' },
  seed: { type: 'string' },
  url: { type: 'string' },
  secret: { type: 'string' },
  endpoint: { type: 'string' },
  table: { type: 'string' },
  timeout: { type: 'string', default: '60' },
  'target-rate': { type: 'string', default: String(DEFAULT_TARGET_RATE) },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h' },
} as const;

function parse() {
  const { values } = parseFlags({ options: OPTIONS, allowPositionals: false, strict: true });
  if (
    values.url === undefined &&
    (values.secret ?? values.endpoint ?? values.table) !== undefined
  ) {
    throw new UsageError('--secret, --endpoint and --table go with --url');
  }
  return {
    help: values.help === true,
    // One whole project lifecycle at least: fewer would be a project that never finishes.
    events: numberFlag('events', values.events, { min: LOAD_EVENTS_PER_PROJECT, max: 1_000_000 }),
    concurrency: numberFlag('concurrency', values.concurrency, { min: 1, max: 1_000 }),
    duplicateShare: numberFlag('duplicates', values.duplicates, {
      min: 0,
      max: 10,
      integer: false,
    }),
    seed:
      values.seed === undefined
        ? undefined
        : numberFlag('seed', values.seed, { min: 0, max: 2 ** 31 }),
    timeoutSeconds: numberFlag('timeout', values.timeout, { min: 1, max: 3600 }),
    targetRate: numberFlag('target-rate', values['target-rate'], { min: 1, max: 1_000_000 }),
    url: values.url,
    secret: values.secret,
    endpoint: values.endpoint,
    table: values.table,
    json: values.json === true,
  };
}

function printReport(report: LoadReport): void {
  const rows: Array<[string, string]> = [
    ['sent', String(report.sent)],
    ['unique events', String(report.uniqueEvents)],
    ['acknowledged (2xx)', String(report.acknowledged)],
    ['refused or failed', String(report.refused)],
    ['persisted (unique)', String(report.persisted)],
    ['duplicates stored', `${report.duplicatesStored} (must be 0)`],
    ['lost', `${report.lost} (must be 0)`],
    ['projects reviewed', `${report.projectsReviewed} of ${report.projects}`],
    [
      'ingest latency p50 / p99',
      `${report.ingestLatencyMs.p50.toFixed(1)} / ${report.ingestLatencyMs.p99.toFixed(1)} ms`,
    ],
    [
      'time to queryable p50 / p99',
      `${report.timeToQueryableMs.p50.toFixed(0)} / ${report.timeToQueryableMs.p99.toFixed(0)} ms`,
    ],
    ['sending took', `${report.sendSeconds.toFixed(1)} s`],
    ['persisted per second', report.eventsPerSecond.toFixed(0)],
    ['whole run', `${report.totalSeconds.toFixed(1)} s`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  for (const [label, value] of rows) console.log(`${label.padEnd(width)}  ${value}`);

  const { partitions } = report;
  console.log(
    `\nwrite units per partition key (${partitions.keys} keys, ${partitions.totalUnits} units written), ` +
      `hottest of the table and of each index; at ${partitions.targetRate} requests/s, ` +
      `limit ${PARTITION_WRITE_UNITS_PER_SECOND}/s:`,
  );
  for (const load of partitions.hottest) {
    const verdict = overLimit(load) ? '✗ over' : '✓';
    console.log(
      `  ${load.where.padEnd(5)}  ${load.key.padEnd(44)}  ${String(load.units).padStart(6)} units  ` +
        `${load.unitsPerSecond.toFixed(0).padStart(5)}/s in this run  ` +
        `${load.unitsPerSecondAtTarget.toFixed(0).padStart(6)}/s at target  ${verdict}`,
    );
  }
}

function overLimit(load: PartitionLoad): boolean {
  return load.unitsPerSecondAtTarget > PARTITION_WRITE_UNITS_PER_SECOND;
}

async function main(): Promise<number> {
  const options = parse();
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  loadDotEnv();
  const progress = (line: string) => {
    if (!options.json) console.error(`[load] ${line}`);
  };

  let stack: ThrowawayStack | undefined;
  let target: { url: string; secret: string; endpoint: string; table: string };
  if (options.url === undefined) {
    progress('starting a local stack on free ports, in a temporary folder');
    stack = await startThrowawayStack({
      log: progress,
      onFatal: (reason) => progress(`stack failed: ${reason}`),
    });
    target = {
      url: stack.webhookUrl,
      secret: stack.secret,
      endpoint: stack.dynamoDbEndpoint,
      table: stack.tableName,
    };
  } else {
    const local = readLocalTarget();
    const { webhookSecrets, dataDir, tableName } = local.config;
    const secret = options.secret ?? signingSecret(webhookSecrets, dataDir);
    if (secret === undefined)
      throw new UsageError('no secret: pass --secret or set DATASAUR_WEBHOOK_SECRET');
    target = {
      url: options.url,
      secret,
      endpoint: options.endpoint ?? local.dynamoDbEndpoint(),
      table: options.table ?? tableName,
    };
  }

  const documents = localDynamoDb(target.endpoint);
  try {
    progress(
      `sending ${options.events} requests, ${options.concurrency} in flight, to ${target.url}`,
    );
    const report = await runLoad({
      url: target.url,
      secret: target.secret,
      documents,
      tableName: target.table,
      events: options.events,
      concurrency: options.concurrency,
      duplicateShare: options.duplicateShare,
      quietTimeoutMs: options.timeoutSeconds * 1000,
      targetRate: options.targetRate,
      ...(options.seed === undefined ? {} : { seed: options.seed }),
      onProgress: progress,
    });
    if (options.json) console.log(JSON.stringify(report, null, 2));
    else printReport(report);
    const clean = report.lost === 0 && report.duplicatesStored === 0 && report.refused === 0;
    return clean && !report.partitions.hottest.some(overLimit) ? 0 : 1;
  } finally {
    documents.destroy();
    await stack?.dispose();
  }
}

await runMeasurement(main, USAGE, { prefix: 'npm run load: ', usageOnConfigurationError: true });
