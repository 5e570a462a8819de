/**
 * `npm run bench`: speed, size and write units measured side by side in one run, each figure
 * next to the aim it answers. `--json` prints the results for machines (and for
 * `npm run cost -- --bench`); `--quick` runs tiny sizes, a smoke test of the harness only.
 */
import './local/sdk-notice.ts';
import { accessSync, constants, existsSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { COLD_START_BUDGETS, coldStartBudget } from './bench/budgets.ts';
import type { BundleResult } from './bench/bundles.ts';
import { benchEndToEnd, type EndToEndResult } from './bench/end-to-end.ts';
import { benchIngestHandler, type IngestHandlerResult } from './bench/ingest-handler.ts';
import { benchLocalHttp, type HttpLatencyResult } from './bench/local-http.ts';
import { benchWorker, type WorkerResult } from './bench/worker.ts';
import {
  type SeedEventFootprint,
  seedEventFootprints,
  startMeteredEventStore,
} from './cost/footprints.ts';
import type { BenchCostInputs } from './cost/measured.ts';
import { parseFlags, runMeasurement, UsageError } from './local/cli.ts';

const SECTIONS = ['ingest', 'http', 'worker', 'bundles', 'e2e'] as const;
type Section = (typeof SECTIONS)[number];

const USAGE = `Usage: npm run bench -- [flags]

  --json              print the results as JSON (the input of npm run cost -- --bench)
  --save <file>       also write that JSON to <file> (the table still prints)
  --quick             tiny sizes: checks the harness runs, its figures mean nothing
  --only <sections>   comma-separated, from: ${SECTIONS.join(', ')} (default: all)
  --node <path>       also time the bundles' cold starts with this node binary (repeatable),
                      e.g. Node 24 as Lambda runs them
  -h, --help          this text
`;

/** The issue's aims, checked against what was measured. */
const AIMS = {
  handlerToFloor: 5,
  // A self-describing label item of a seed-sized body is 1-2 KB (2 units), plus its feed and
  // event-id (GSI3) entries; it was 2 while label items left out what their keys held.
  labelWriteUnits: 4,
} as const;

const SIZES = {
  full: {
    ingest: { rounds: 15, operations: 200 },
    http: { requests: 1000, concurrencies: [1, 50] },
    workerEvents: 1000,
    // A cold start's wall time varies by a few ms run to run: 15 keep the median steady.
    bundleRuns: 15,
    endToEnd: { events: 2000, concurrency: 50 },
  },
  quick: {
    ingest: { rounds: 3, operations: 10 },
    http: { requests: 8, concurrencies: [1, 50] },
    workerEvents: 20,
    bundleRuns: 1,
    endToEnd: { events: 40, concurrency: 10 },
  },
} as const;

interface Aim {
  readonly aim: string;
  readonly measured: string;
  readonly met: boolean;
}

interface BenchResults {
  readonly measuredOn: string;
  readonly machine: string;
  readonly command: string;
  readonly quick: boolean;
  ingestHandler?: IngestHandlerResult[];
  localHttp?: HttpLatencyResult[];
  worker?: WorkerResult & { readonly writeUnits: SeedEventFootprint[] };
  bundles?: BundleResult[];
  endToEnd?: EndToEndResult;
  aims: Aim[];
  costInputs?: BenchCostInputs;
}

function parse() {
  const { values } = parseFlags({
    options: {
      json: { type: 'boolean' },
      save: { type: 'string' },
      quick: { type: 'boolean' },
      only: { type: 'string' },
      node: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
    strict: true,
  });
  const missing = (values.node ?? []).filter((path) => !existsSync(path));
  if (missing.length > 0) {
    throw new UsageError(
      `--node takes the path of a node binary; no file at ${missing.join(', ')}`,
    );
  }
  const only = values.only?.split(',').map((name) => name.trim()) ?? [...SECTIONS];
  const unknown = only.filter((name) => !SECTIONS.includes(name as Section));
  if (unknown.length > 0 || only.length === 0) {
    throw new UsageError(`--only takes sections from ${SECTIONS.join(', ')}, got "${values.only}"`);
  }
  if (values.save !== undefined) {
    // Before minutes of measuring: a run that cannot be saved is not lost at the end.
    const directory = dirname(resolve(values.save));
    try {
      accessSync(directory, constants.W_OK);
    } catch {
      throw new UsageError(`--save: cannot write into ${directory}`);
    }
  }
  return {
    json: values.json === true,
    save: values.save,
    quick: values.quick === true,
    help: values.help === true,
    nodes: values.node ?? [],
    sections: new Set(only as Section[]),
  };
}

/** Columns padded to their widest cell; numbers right-aligned. */
function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join(
    '\n',
  );
}

const mark = (met: boolean) => (met ? '✓' : '✗');
const fixed = (value: number, digits = 1) => value.toFixed(digits);
const kilobytes = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

function printResults(results: BenchResults): void {
  const out: string[] = [
    `npm run bench${results.quick ? ' --quick (sizes too small to mean anything)' : ''}: ${results.measuredOn}, ${results.machine}`,
  ];
  if (results.ingestHandler !== undefined) {
    out.push(
      '',
      `Ingest handler in process (SQS transport answers at once) vs the floor (bare HMAC-SHA256 + compare); aim: ≤ ${AIMS.handlerToFloor}× the floor`,
      table(
        [
          'event',
          'bytes',
          'handler µs',
          'events/s',
          'logic µs',
          'floor µs',
          'handler/floor',
          'logic/floor',
        ],
        results.ingestHandler.map((row) => [
          row.eventType,
          String(row.bodyBytes),
          fixed(row.handlerMicroseconds),
          fixed(row.eventsPerSecond, 0),
          fixed(row.logicMicroseconds),
          fixed(row.floorMicroseconds),
          `${fixed(row.handlerToFloor)}× ${mark(row.handlerToFloor <= AIMS.handlerToFloor)}`,
          `${fixed(row.logicToFloor)}× ${mark(row.logicToFloor <= AIMS.handlerToFloor)}`,
        ]),
      ),
      '(logic = receiveWebhook with an enqueue that returns at once; handler = the Lambda handler with the AWS SDK client)',
    );
  }
  if (results.localHttp !== undefined) {
    out.push(
      '',
      'Local HTTP server + ingest + real local queue (local-aws-sqs) vs the same server answering at once',
      table(
        ['in flight', 'requests', 'p50 ms', 'p99 ms', 'requests/s', 'floor p50 ms', 'floor p99 ms'],
        results.localHttp.map((row) => [
          String(row.concurrency),
          String(row.requests),
          fixed(row.p50Ms, 2),
          fixed(row.p99Ms, 2),
          fixed(row.requestsPerSecond, 0),
          fixed(row.floorP50Ms, 2),
          fixed(row.floorP99Ms, 2),
        ]),
      ),
    );
  }
  if (results.worker !== undefined) {
    const worker = results.worker;
    out.push(
      '',
      `Worker handler against dynalite, one invocation at a time, batches of ${worker.batchSize}`,
      table(
        ['events', 'events/s', 'batch p50 ms', '1-record p50 ms', 'fixed ms/batch', 'ms/record'],
        [
          [
            String(worker.events),
            fixed(worker.eventsPerSecond, 0),
            fixed(worker.batchMedianMs, 2),
            fixed(worker.singleRecordMedianMs, 2),
            fixed(worker.fixedMillisecondsPerBatch, 2),
            fixed(worker.millisecondsPerRecord, 2),
          ],
        ],
      ),
      '',
      `Write units per event type (AWS's rules, as the worker tests count them); aim: label event ≤ ${AIMS.labelWriteUnits}`,
      table(
        ['event', 'body bytes', 'write units', 'read units', 'stored bytes'],
        worker.writeUnits.map((row) => [
          row.eventType,
          String(row.bodyBytes),
          row.eventType === 'BEFORE_UPDATE_LABELS'
            ? `${row.writeUnits} ${mark(row.writeUnits <= AIMS.labelWriteUnits)}`
            : String(row.writeUnits),
          String(row.readUnits),
          String(row.storedBytes),
        ]),
      ),
    );
  }
  if (results.bundles !== undefined) {
    out.push(
      '',
      'Cold starts of the bundles as deployed: a fresh node imports the bundle and answers its first call, median of the runs; budgets over an empty module, without source maps (as deployed)',
      table(
        [
          'function',
          'size',
          'source map',
          'on first use',
          'runtime',
          'import p50 ms',
          'cold p50 ms',
          'min–max ms',
          'floor p50 ms',
          'over floor ms',
          'CPU over floor ms',
        ],
        results.bundles.flatMap((row) => {
          const budget = coldStartBudget(row.name);
          return row.coldStarts.map((cold, index) => [
            index === 0 ? row.name : '',
            index === 0
              ? `${kilobytes(row.bundleBytes)} ${mark(row.bundleBytes <= budget.bundleBytes)}`
              : '',
            index === 0 ? kilobytes(row.sourceMapBytes) : '',
            index === 0 ? kilobytes(row.loadedOnFirstUseBytes) : '',
            cold.runtime,
            fixed(cold.importMedianMs),
            fixed(cold.coldMedianMs),
            `${fixed(cold.coldMinMs)}–${fixed(cold.coldMaxMs)}`,
            fixed(cold.floorMedianMs),
            cold.sourceMaps
              ? `${fixed(cold.overFloorMs)} (no budget)`
              : `${fixed(cold.overFloorMs)} ${mark(cold.overFloorMs <= budget.overFloorMs)}`,
            fixed(cold.cpuOverFloorMs),
          ]);
        }),
      ),
      `(budgets: ${Object.entries(COLD_START_BUDGETS)
        .map(
          ([name, budget]) =>
            `${name} ≤ ${budget.overFloorMs} ms, ≤ ${budget.bundleBytes / 1024} KB`,
        )
        .join('; ')})`,
      '("+ source maps": node --enable-source-maps, as NODE_OPTIONS=--enable-source-maps would start a function; the stack does not set it, so these rows show what turning it on to debug a function costs, with no budget)',
    );
  }
  if (results.endToEnd !== undefined) {
    const run = results.endToEnd;
    out.push(
      '',
      'Local stack end to end (npm start: HTTP server, local queue, worker child, dynalite on disk)',
      table(
        [
          'events',
          'in flight',
          'all queryable after s',
          'persisted/s',
          'to queryable p50 ms',
          'p99 ms',
          'ingest p99 ms',
          'lost',
        ],
        [
          [
            String(run.sent),
            String(run.concurrency),
            fixed(run.allQueryableSeconds),
            fixed(run.eventsPerSecond, 0),
            fixed(run.timeToQueryableMs.p50, 0),
            fixed(run.timeToQueryableMs.p99, 0),
            fixed(run.ingestLatencyMs.p99, 1),
            String(run.lost),
          ],
        ],
      ),
    );
  }
  out.push(
    '',
    'Aims',
    table(
      ['aim', 'measured', ''],
      results.aims.map((aim) => [aim.aim, aim.measured, mark(aim.met)]),
    ),
  );
  console.log(out.join('\n'));
}

function checkAims(results: BenchResults): Aim[] {
  const aims: Aim[] = [];
  for (const row of results.ingestHandler ?? []) {
    aims.push({
      aim: `ingest handler ≤ ${AIMS.handlerToFloor}× floor (${row.eventType})`,
      measured: `${fixed(row.handlerToFloor)}× (logic alone ${fixed(row.logicToFloor)}×)`,
      met: row.handlerToFloor <= AIMS.handlerToFloor,
    });
  }
  for (const bundle of results.bundles ?? []) {
    const budget = coldStartBudget(bundle.name);
    aims.push({
      aim: `${bundle.name} bundle ≤ ${budget.bundleBytes / 1024} KB`,
      measured: kilobytes(bundle.bundleBytes),
      met: bundle.bundleBytes <= budget.bundleBytes,
    });
    // As deployed: source maps are not enabled.
    for (const cold of bundle.coldStarts.filter((row) => !row.sourceMaps)) {
      aims.push({
        aim: `${bundle.name} cold start ≤ ${budget.overFloorMs} ms over the floor (${[cold.runtime, cold.firstCallNote].filter(Boolean).join('; ')})`,
        measured: `${fixed(cold.overFloorMs)} ms`,
        met: cold.overFloorMs <= budget.overFloorMs,
      });
    }
  }
  const label = results.worker?.writeUnits.find((row) => row.eventType === 'BEFORE_UPDATE_LABELS');
  if (label !== undefined) {
    aims.push({
      aim: `label event (${label.bodyBytes} B) ≤ ${AIMS.labelWriteUnits} write units`,
      measured: String(label.writeUnits),
      met: label.writeUnits <= AIMS.labelWriteUnits,
    });
  }
  return aims;
}

/** The durations `npm run cost` bills, when the sections that measure them ran. */
function costInputs(results: BenchResults): BenchCostInputs | undefined {
  const oneInFlight = results.localHttp?.find((row) => row.concurrency === 1);
  if (oneInFlight === undefined || results.worker === undefined) return undefined;
  return {
    measuredOn: results.measuredOn,
    machine: results.machine,
    command: results.command,
    // What the server adds over answering at once: the handler and its SendMessage round trip.
    ingestMillisecondsPerEvent: Math.max(0, oneInFlight.p50Ms - oneInFlight.floorP50Ms),
    workerMillisecondsPerBatch: results.worker.fixedMillisecondsPerBatch,
    workerMillisecondsPerEvent: results.worker.millisecondsPerRecord,
  };
}

async function main(): Promise<number> {
  const options = parse();
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  const sizes = options.quick ? SIZES.quick : SIZES.full;
  const progress = (line: string) => {
    if (!options.json) console.error(`[bench] ${line}`);
  };
  const cpu = cpus();
  const arguments_ = process.argv.slice(2);
  const results: BenchResults = {
    measuredOn: new Date().toISOString().slice(0, 10),
    machine: `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}`,
    command: ['npm run bench', ...(arguments_.length > 0 ? ['--', ...arguments_] : [])].join(' '),
    quick: options.quick,
    aims: [],
  };
  const { sections } = options;
  if (sections.has('ingest')) {
    progress('ingest handler vs floor');
    results.ingestHandler = await benchIngestHandler(sizes.ingest);
  }
  if (sections.has('http')) {
    progress('local HTTP server with the local queue');
    results.localHttp = await benchLocalHttp(sizes.http);
  }
  if (sections.has('worker')) {
    progress('worker against dynalite');
    const store = await startMeteredEventStore();
    try {
      results.worker = {
        ...(await benchWorker({ events: sizes.workerEvents })),
        writeUnits: await seedEventFootprints(store),
      };
    } finally {
      await store.close();
    }
  }
  if (sections.has('bundles')) {
    progress('bundles (synthesizing the stack)');
    // Loaded only here: the CDK library takes seconds to import.
    const { benchBundles, bundleRuntimes } = await import('./bench/bundles.ts');
    results.bundles = await benchBundles({
      runs: sizes.bundleRuns,
      runtimes: bundleRuntimes(options.nodes),
      ...(options.quick ? { warmUpRounds: 1 } : {}),
    });
  }
  if (sections.has('e2e')) {
    progress(
      `local stack end to end: ${sizes.endToEnd.events} events, ${sizes.endToEnd.concurrency} in flight`,
    );
    results.endToEnd = await benchEndToEnd(sizes.endToEnd);
  }
  results.aims = checkAims(results);
  results.costInputs = costInputs(results);
  const json = JSON.stringify(results, null, 2);
  if (options.json) console.log(json);
  else printResults(results);
  if (options.save !== undefined) writeFileSync(options.save, `${json}\n`);
  return 0;
}

await runMeasurement(main, USAGE, { prefix: 'npm run bench: ' });
