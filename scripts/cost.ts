/**
 * `npm run cost -- --events-per-month N`: the deployed stack's monthly bill, line by line, and
 * the cost per million events. Footprints in the table and bytes logged are measured now with
 * the real code; durations come from `npm run bench` (the figures in cost/measured.ts, or a
 * fresh run given with --bench); memory sizes and batching from the stack's defaults.
 */
import './local/sdk-notice.ts';
import { readFileSync } from 'node:fs';
import { DEFAULT_CONFIG } from '../infra/config.ts';
import { INLINE_BODY_BYTES } from '../shared/webhook/claim-check.ts';
import { estimateFloodCost, type FloodCostEstimate, type FloodCostInputs } from './cost/flood.ts';
import {
  type EventMixFootprints,
  eventMixFootprints,
  startMeteredEventStore,
} from './cost/footprints.ts';
import { type LogBytes, measureLogBytes } from './cost/log-bytes.ts';
import {
  type BenchCostInputs,
  costInputsFromBench,
  MEASURED_ON_THIS_MACHINE,
} from './cost/measured.ts';
import { type CostEstimate, type CostInputs, estimateMonthlyCost } from './cost/model.ts';
import { PRICES } from './cost/prices.ts';
import { measurePublishedBytes } from './cost/published-bytes.ts';
import { numberFlag, parseFlags, runMeasurement, UsageError } from './local/cli.ts';
import { paddedLabelBody } from './local/datasaur-sender.ts';
import { projectLifecycles, type WorkloadEvent } from './local/workload.ts';

const USAGE = `Usage: npm run cost -- --events-per-month <n> [flags]

  --events-per-month <n>  webhooks Datasaur sends per month (required)
  --avg-bytes <b>         body size of a label event in bytes (default 1024; project
                          events keep their documented size, about 200 bytes)
  --label-share <s>       share of events that are BEFORE_UPDATE_LABELS, 0 to 1 (default 0.95)
  --bench <file>          durations from \`npm run bench -- --json > <file>\` instead of the
                          figures measured on ${MEASURED_ON_THIS_MACHINE.measuredOn}
  --json                  print the inputs and the estimate as JSON
  -h, --help              this text
`;

/** Lambda's SQS event source starts with five pollers, each long-polling for 20 s. */
const QUEUE_POLLERS = 5;
/**
 * Lambda's own lines per invocation in the JSON log format the functions use. Both are INFO:
 * at the default system log level (WARN) Lambda sends neither.
 */
const PLATFORM_INFO_LOG_LINES = [
  '{"time":"2026-11-23T11:40:02.123Z","type":"platform.start","record":{"requestId":"3f2c3c4e-8a9b-4c1d-9e2f-0a1b2c3d4e5f","version":"$LATEST"}}\n',
  '{"time":"2026-11-23T11:40:02.145Z","type":"platform.report","record":{"requestId":"3f2c3c4e-8a9b-4c1d-9e2f-0a1b2c3d4e5f","metrics":{"durationMs":12.34,"billedDurationMs":13,"memorySizeMB":512,"maxMemoryUsedMB":96},"status":"success"}}\n',
];

function parse() {
  const values: Record<string, string | boolean | undefined> = parseFlags({
    options: {
      'events-per-month': { type: 'string' },
      'avg-bytes': { type: 'string', default: '1024' },
      'label-share': { type: 'string', default: '0.95' },
      bench: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
    strict: true,
  }).values;
  if (values.help === true) return { help: true } as const;
  const number = (name: string, min: number, max: number, integer: boolean): number => {
    const raw = values[name];
    if (typeof raw !== 'string') throw new UsageError(`--${name} is required`);
    return numberFlag(name, raw, { min, max, integer });
  };

  return {
    help: false,
    eventsPerMonth: number('events-per-month', 0, 1e12, true),
    // Up to the largest body the stack accepts by default.
    averageBodyBytes: number('avg-bytes', 1, DEFAULT_CONFIG.maxBodyBytes, true),
    labelShare: number('label-share', 0, 1, false),
    bench: values.bench as string | undefined,
    json: values.json === true,
  } as const;
}

function readBench(path: string): BenchCostInputs {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read --bench ${path}: ${(error as Error).message}`);
  }
  try {
    return costInputsFromBench(JSON.parse(text));
  } catch (error) {
    throw new UsageError(`--bench ${path}: ${(error as Error).message}`);
  }
}

interface Measured {
  readonly footprints: EventMixFootprints;
  readonly logBytes: { readonly label: LogBytes; readonly project: LogBytes };
  readonly labelBodyBytes: number;
  readonly projectBodyBytes: number;
}

/** Runs a project lifecycle through the real event store and handlers to measure each kind. */
async function measureEvents(labelBodyBytes: number): Promise<Measured> {
  const store = await startMeteredEventStore();
  try {
    const footprints = await eventMixFootprints(store, { labelBodyBytes });
    const events = projectLifecycles({ projects: 1, labelEventsPerProject: 3, idPrefix: 'logs' });
    const labels = events
      .filter((event) => event.kind === 'BEFORE_UPDATE_LABELS')
      .map((event) => ({ ...event, body: paddedLabelBody(event.body, labelBodyBytes) }));
    const projects = events.filter((event) => event.kind !== 'BEFORE_UPDATE_LABELS');
    const meanBytes = (list: readonly WorkloadEvent[]) =>
      list.reduce((sum, event) => sum + Buffer.byteLength(event.body), 0) / list.length;
    return {
      footprints,
      logBytes: {
        label: await measureLogBytes(labels, store),
        project: await measureLogBytes(projects, store),
      },
      labelBodyBytes: meanBytes(labels),
      projectBodyBytes: meanBytes(projects),
    };
  } finally {
    await store.close();
  }
}

async function costInputs(
  options: { eventsPerMonth: number; labelShare: number },
  durations: BenchCostInputs,
  measured: Measured,
): Promise<{ inputs: CostInputs; flood: FloodCostInputs }> {
  const share = options.labelShare;
  const mix = (label: number, project: number) => share * label + (1 - share) * project;
  // Loaded only here: the CDK library takes seconds to import, a usage error should not wait.
  const { readStackFacts } = await import('./cost/stack-facts.ts');
  const stack = readStackFacts();
  const flood: FloodCostInputs = {
    unroutedAccessLogBytes: stack.accessLogBytesPerUnroutedRequest,
    refusedAccessLogBytes: stack.accessLogBytesPerRefusedRequest,
    refusedIngestLogBytes: measured.logBytes.label.ingestBytesPerRefusedRequest,
    ingestMillisecondsPerRequest: durations.ingestMillisecondsPerEvent,
    ingestMemoryMb: DEFAULT_CONFIG.ingestMemoryMb,
    floodMetricFilters: stack.floodMetricFilters,
    floodAlarms: stack.floodAlarms,
    webhookRoutes: stack.webhookRoutes,
    webhookRouteRateLimit: stack.webhookRouteRateLimit,
  };
  const inputs: CostInputs = {
    eventsPerMonth: options.eventsPerMonth,
    averageBodyBytes: mix(measured.labelBodyBytes, measured.projectBodyBytes),
    labelShare: share,
    label: measured.footprints.label,
    project: measured.footprints.project,
    ingestMemoryMb: DEFAULT_CONFIG.ingestMemoryMb,
    workerMemoryMb: DEFAULT_CONFIG.workerMemoryMb,
    ingestMillisecondsPerEvent: durations.ingestMillisecondsPerEvent,
    workerMillisecondsPerBatch: durations.workerMillisecondsPerBatch,
    workerMillisecondsPerEvent: durations.workerMillisecondsPerEvent,
    workerBatchSize: DEFAULT_CONFIG.workerBatchSize,
    workerBatchingWindowSeconds: DEFAULT_CONFIG.workerBatchingWindowSeconds,
    ingestLogBytesPerEvent: mix(
      measured.logBytes.label.ingestBytesPerEvent,
      measured.logBytes.project.ingestBytesPerEvent,
    ),
    workerLogBytesPerEvent: mix(
      measured.logBytes.label.workerBytesPerEvent,
      measured.logBytes.project.workerBytesPerEvent,
    ),
    workerLogBytesPerBatch: mix(
      measured.logBytes.label.workerBytesPerBatch,
      measured.logBytes.project.workerBytesPerBatch,
    ),
    platformLogBytesPerInvocation:
      DEFAULT_CONFIG.systemLogLevel === 'WARN'
        ? 0
        : PLATFORM_INFO_LOG_LINES.reduce((sum, line) => sum + Buffer.byteLength(line), 0),
    accessLogBytesPerRequest: stack.accessLogBytesPerRequest,
    queuePollers: QUEUE_POLLERS,
    webhookSecretCacheSeconds: DEFAULT_CONFIG.webhookSecretCacheSeconds,
    alarms: stack.alarms,
    customMetrics: measured.logBytes.label.workerMetricsPerBatch + stack.metricFilters,
    dashboards: stack.dashboards,
    kmsKeys: stack.kmsKeys,
    secrets: stack.secrets,
    publishedBytes: measurePublishedBytes(),
    publishLabelEvents: DEFAULT_CONFIG.publishLabelEvents,
  };
  return { inputs, flood };
}

const dollars = (value: number) =>
  `$${value < 0.01 && value > 0 ? value.toFixed(4) : value.toFixed(2)}`;
const quantity = (value: number) =>
  value >= 100
    ? Math.round(value).toLocaleString('en-US')
    : Number(value.toPrecision(3)).toString();

function printEstimate(
  inputs: CostInputs,
  durations: BenchCostInputs,
  measured: Measured,
  estimate: CostEstimate,
  flood: FloodCostEstimate,
): void {
  const rows = estimate.lines.map((line) => [
    line.service,
    line.item,
    quantity(line.quantity),
    line.unit,
    dollars(line.monthlyUsd),
  ]);
  const headers = ['service', 'item', 'quantity', 'unit', '$/month'];
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) =>
        column === 2 || column === 4
          ? cell.padStart(widths[column] ?? 0)
          : cell.padEnd(widths[column] ?? 0),
      )
      .join('  ')
      .trimEnd();
  const eventBridgeUsd = estimate.lines
    .filter((one) => one.service === 'EventBridge')
    .reduce((sum, one) => sum + one.monthlyUsd, 0);
  const eventBridgePerMillion = (eventBridgeUsd / inputs.eventsPerMonth) * 1e6;
  const fixedUsd =
    estimate.monthlyUsd - (estimate.perMillionEventsUsd * inputs.eventsPerMonth) / 1e6;
  console.log(
    [
      `Monthly cost of ${inputs.eventsPerMonth.toLocaleString('en-US')} events (${PRICES.region} list prices checked ${PRICES.checkedOn}; free tiers not counted)`,
      '',
      line(headers),
      line(widths.map((width) => '-'.repeat(width))),
      ...rows.map(line),
      '',
      `total per month                 ${dollars(estimate.monthlyUsd)}`,
      `  of which fixed (any volume)   ${dollars(fixedUsd)}`,
      `per million events (variable)   ${dollars(estimate.perMillionEventsUsd)}`,
      `  of which EventBridge          ${dollars(eventBridgePerMillion)} (${dollars(PRICES.eventBridgePerMillionEvents)} per million published events; label events ${inputs.publishLabelEvents ? 'published' : 'not published (publishLabelEvents off)'})`,
      '',
      'Assumed per event (measured now with the real code unless noted):',
      `  label event: ${quantity(measured.labelBodyBytes)} B body, ${quantity(inputs.label.messageBytes)} B queue message, ${quantity(inputs.label.writeUnits)} write units, ${quantity(inputs.label.readUnits)} read units, ${quantity(inputs.label.storedBytes)} stored bytes, ${quantity(inputs.label.s3Puts)} S3 PUT + ${quantity(inputs.label.s3Gets)} S3 GET (bodies above ${INLINE_BODY_BYTES.toLocaleString('en-US')} B go through S3); share ${inputs.labelShare}`,
      `  project event (average of CREATED, COMPLETED, export, REVIEWED): ${quantity(measured.projectBodyBytes)} B body, ${quantity(inputs.project.writeUnits)} write units, ${quantity(inputs.project.readUnits)} read units, ${quantity(inputs.project.storedBytes)} stored bytes`,
      `  published on EventBridge: label event ${quantity(inputs.publishedBytes.label)} B, project event ${quantity(inputs.publishedBytes.project)} B (one 64 KB chunk each)`,
      `  logged: ingest ${quantity(inputs.ingestLogBytesPerEvent)} B, worker ${quantity(inputs.workerLogBytesPerEvent)} B per event; worker metrics ${quantity(inputs.workerLogBytesPerBatch)} B per batch; API access log ${inputs.accessLogBytesPerRequest} B per request; Lambda ${inputs.platformLogBytesPerInvocation} B per invocation (system log level ${DEFAULT_CONFIG.systemLogLevel})`,
      `  worker batches of ${quantity(estimate.recordsPerBatch)} records (batch size ${inputs.workerBatchSize}, window ${inputs.workerBatchingWindowSeconds} s); memory ${inputs.ingestMemoryMb}/${inputs.workerMemoryMb} MB (ingest/worker)`,
      `  durations (${durations.command}, ${durations.measuredOn}, ${durations.machine}): ingest ${durations.ingestMillisecondsPerEvent.toFixed(2)} ms per event, worker ${durations.workerMillisecondsPerBatch.toFixed(2)} ms per batch + ${durations.workerMillisecondsPerEvent.toFixed(2)} ms per record (against local servers: AWS round trips are slower)`,
      '',
      'Flood defence (secret webhook path, docs/flood.md):',
      `  fixed                                    ${dollars(flood.fixedMonthlyUsd)} per month (its metric filters and alarms, included above)`,
      `  per million requests without the URL     ${dollars(flood.perMillionWithoutUrlUsd)} (API Gateway's own 404 and its access log line; no invocation)`,
      `  per million unsigned requests reaching the ingest ${dollars(flood.perMillionReachingIngestUsd)} (what every junk request cost before; now only a holder of the URL)`,
      `  most a holder of the URL can send        ${quantity(flood.urlHolderMaxRequestsPerMonth)} requests a month (each webhook route's throttle, full time): at most ${dollars(flood.urlHolderMaxMonthlyUsd)}`,
    ].join('\n'),
  );
}

async function main(): Promise<number> {
  const options = parse();
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  const durations =
    options.bench === undefined ? MEASURED_ON_THIS_MACHINE : readBench(options.bench);
  const measured = await measureEvents(options.averageBodyBytes);
  const { inputs, flood: floodInputs } = await costInputs(options, durations, measured);
  const estimate = estimateMonthlyCost(inputs);
  const flood = estimateFloodCost(floodInputs);
  if (options.json) {
    console.log(
      JSON.stringify(
        { prices: PRICES, durations, measured, inputs, estimate, floodInputs, flood },
        null,
        2,
      ),
    );
  } else {
    printEstimate(inputs, durations, measured, estimate, flood);
  }
  return 0;
}

await runMeasurement(main, USAGE, { prefix: 'npm run cost: ' });
