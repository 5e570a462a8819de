/**
 * Each function's bundle as deployed: synthesizes the real stack in a process of its own
 * (function-assets.ts), then measures each bundle's size and its
 * cold start: how long a fresh `node` process takes to import it and answer its first call
 * (first-call.ts), next to an empty module as the floor, in each runtime asked for.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type FirstCall, startFirstCallServers } from './first-call.ts';
import type { FunctionAsset } from './function-assets.ts';
import { median } from './measure.ts';

/** One way of starting a bundle: a Node binary, with or without source maps enabled. */
export interface BundleRuntime {
  /** e.g. `Node 20.20.2`, `Node 24.21.0 + source maps`. */
  readonly label: string;
  readonly nodePath: string;
  readonly sourceMaps: boolean;
}

export interface ColdStart {
  readonly runtime: string;
  /**
   * Started with `--enable-source-maps`, which the stack does not set (a function gets it
   * only while someone debugs it): what that costs, with no budget of its own.
   */
  readonly sourceMaps: boolean;
  /** Import alone, median of the fresh processes. */
  readonly importMedianMs: number;
  /** Import plus the first handler call (or the import alone where no first call is set up). */
  readonly coldMedianMs: number;
  readonly coldMinMs: number;
  readonly coldMaxMs: number;
  /** An empty module in the same runtime, median. */
  readonly floorMedianMs: number;
  /** `coldMedianMs - floorMedianMs`: what the budget is about. */
  readonly overFloorMs: number;
  /**
   * CPU time of the same (all of the process's threads), median, minus the floor's: what
   * the cold start costs whatever else the machine runs; wall time on a busy machine also
   * holds the time other processes had the CPU.
   */
  readonly cpuOverFloorMs: number;
  /** What the first call is, where the aim says it (e.g. the enrichment's: a pass with nothing to do). */
  readonly firstCallNote?: string;
}

export interface BundleResult {
  readonly name: string;
  readonly bundleBytes: number;
  readonly sourceMapBytes: number;
  /** Packages bundled apart into the asset's node_modules, loaded on first use. */
  readonly loadedOnFirstUseBytes: number;
  readonly coldStarts: ColdStart[];
}

/**
 * The environment a function runs with as deployed: the template's literal values, with
 * `standIns` for what the template names by reference (a queue URL, the table) and for the
 * local servers. A deployed variable with no stand-in fails the bench rather than leaving
 * the function to start with less configuration (and less work) than it has in Lambda.
 */
export function deployedEnvironment(
  name: string,
  deployed: Readonly<Record<string, unknown>>,
  standIns: Readonly<Record<string, string>>,
): Record<string, string> {
  const environment: Record<string, string> = { ...standIns };
  for (const [key, value] of Object.entries(deployed)) {
    if (key in standIns) continue;
    if (typeof value !== 'string') {
      throw new Error(`the bench has no local value for the ${name}'s ${key} (a reference)`);
    }
    environment[key] = value;
  }
  return environment;
}

/** function-assets.ts, run as a script; tsx's loader, resolved here whatever the working folder. */
const FUNCTION_ASSETS_ENTRY = fileURLToPath(new URL('./function-assets.ts', import.meta.url));
const TSX_LOADER = import.meta.resolve('tsx');

/**
 * Synthesizes the stack into `outdir` in a process of its own (function-assets.ts) and returns
 * each function's asset: the stack's heap goes with that process, not into this one's while
 * it times cold starts.
 */
async function synthesizeApart(outdir: string): Promise<FunctionAsset[]> {
  const listFile = join(outdir, 'function-assets.json');
  const child = spawn(
    process.execPath,
    ['--import', TSX_LOADER, FUNCTION_ASSETS_ENTRY, outdir, listFile],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const errors: Buffer[] = [];
  child.stderr.on('data', (chunk: Buffer) => errors.push(chunk));
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) {
    throw new Error(
      `synthesizing the stack failed (${code}): ${Buffer.concat(errors).toString('utf8')}`,
    );
  }
  return JSON.parse(readFileSync(listFile, 'utf8')) as FunctionAsset[];
}

/** Imports `file` in a fresh process, calls its handler with `event` if given, and times both. */
async function coldStart(
  file: string,
  runtime: BundleRuntime,
  environment: NodeJS.ProcessEnv,
  event: unknown,
): Promise<{ importMs: number; totalMs: number; cpuMs: number; result: unknown }> {
  // The last line is ours: the handler's own log lines may come before it.
  const script = [
    // Where Lambda's Node runtime stands when it imports a handler: its Runtime API client
    // has `require`d `http`, nothing else of the network (https, tls, crypto: the bundle's
    // own imports count, as in Lambda). Nothing is hidden from the bundle: on Node 22+ an ES
    // module import of `node:http` reads its `WebSocket` getter, which loads Node's fetch
    // (undici, 25-40 ms), and a bundle that did so would pay it here as in Lambda (the bundles
    // read `http` through `require`: infra/bundling/node-http.ts).
    "const { createRequire } = await import('node:module');",
    "createRequire(import.meta.url)('node:http');",
    'const eventFile = process.argv[1];',
    "const { readFileSync } = await import('node:fs');",
    "const event = eventFile === undefined ? undefined : JSON.parse(readFileSync(eventFile, 'utf8'));",
    'const t = performance.now();',
    'const c = process.cpuUsage();',
    `const m = await import(${JSON.stringify(file)});`,
    'const importMs = performance.now() - t;',
    // The context Lambda passes with each invocation (the functions log its request id).
    "const context = { awsRequestId: '8f5e0b1c-2d3a-4e5f-9a6b-7c8d9e0f1a2b', functionName: 'bench', functionVersion: '$LATEST', invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:bench', memoryLimitInMB: '512', logGroupName: '/aws/lambda/bench', logStreamName: 'bench', callbackWaitsForEmptyEventLoop: true, getRemainingTimeInMillis: () => 30000 };",
    'const result = event === undefined ? null : await m.handler(event, context);',
    'const totalMs = performance.now() - t;',
    'const cpu = process.cpuUsage(c);',
    'const cpuMs = (cpu.user + cpu.system) / 1000;',
    'console.log("\\n" + JSON.stringify({ importMs, totalMs, cpuMs, result }));',
    'process.exit(0);',
  ].join('\n');
  let eventArguments: string[] = [];
  if (event !== undefined) {
    const eventFile = join(dirname(file), 'first-event.json');
    writeFileSync(eventFile, JSON.stringify(event));
    eventArguments = [eventFile];
  }
  const child = spawn(
    runtime.nodePath,
    [
      ...(runtime.sourceMaps ? ['--enable-source-maps'] : []),
      '--input-type=module',
      '-e',
      script,
      ...eventArguments,
    ],
    { env: environment, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output: Buffer[] = [];
  const errors: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => errors.push(chunk));
  const [code] = (await once(child, 'close')) as [number | null];
  const lastLine = Buffer.concat(output).toString('utf8').trim().split('\n').pop() ?? '';
  if (code !== 0) {
    throw new Error(`${file} exited with ${code}: ${Buffer.concat(errors).toString('utf8')}`);
  }
  return JSON.parse(lastLine) as {
    importMs: number;
    totalMs: number;
    cpuMs: number;
    result: unknown;
  };
}

function withoutNodeOptions(environment: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _shell, ...rest } = environment;
  return rest;
}

/** The bytes of every file under `directory`. */
function bytesUnder(directory: string): number {
  return readdirSync(directory, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .reduce((sum, entry) => sum + statSync(join(entry.parentPath, entry.name)).size, 0);
}

/** The Node binary that runs the bench, plus `otherNodes` (e.g. Node 24, as Lambda runs it). */
export function bundleRuntimes(otherNodes: readonly string[]): BundleRuntime[] {
  return [process.execPath, ...otherNodes].flatMap((nodePath) => {
    const version = execFileSync(nodePath, ['--version'], { encoding: 'utf8' }).trim();
    const label = `Node ${version.replace(/^v/, '')}`;
    return [
      { label, nodePath, sourceMaps: false },
      { label: `${label} + source maps`, nodePath, sourceMaps: true },
    ];
  });
}

export async function benchBundles(options: {
  runs: number;
  runtimes: readonly BundleRuntime[];
  /** Rounds of calls the local servers answer before any cold start is timed. @default WARM_UP_ROUNDS */
  warmUpRounds?: number;
}): Promise<BundleResult[]> {
  const outdir = mkdtempSync(join(tmpdir(), 'bench-cdk-'));
  const servers = await startFirstCallServers({ warmUpRounds: options.warmUpRounds });
  try {
    const assets = await synthesizeApart(outdir);
    const empty = join(outdir, 'empty.mjs');
    writeFileSync(empty, 'export {};\n');
    const results: BundleResult[] = [];
    for (const { name, directory, environment: deployed } of assets) {
      const files = readdirSync(directory);
      const bundle = files.find((file) => /^index\.m?js$/.test(file));
      if (bundle === undefined) throw new Error(`no bundle in ${directory}`);
      const bundlePath = join(directory, bundle);
      const map = files.find((file) => file.endsWith('.map'));
      const firstCall = (servers.calls as Readonly<Record<string, FirstCall>>)[name];
      if (firstCall === undefined) throw new Error(`the bench has no first call for the ${name}`);
      const environment = {
        // Not the shell's NODE_OPTIONS: a flag there (source maps, a heap size) would start
        // every process, floor included, unlike the function as deployed.
        ...withoutNodeOptions(process.env),
        ...deployedEnvironment(name, deployed, firstCall.environment),
      };
      const coldStarts: ColdStart[] = [];
      for (const runtime of options.runtimes) {
        const imports: number[] = [];
        const colds: number[] = [];
        const floors: number[] = [];
        const cpus: number[] = [];
        const floorCpus: number[] = [];
        // One start of each, not counted, so that no counted run reads the bundle (or the
        // runtime's binary) from disk rather than the page cache: the first process of a
        // bench read 100-300 ms slow.
        await coldStart(empty, runtime, environment, undefined);
        const warmUp = await coldStart(bundlePath, runtime, environment, firstCall.nextEvent());
        firstCall.check(warmUp.result);
        // Side by side, so both see the same machine at the same moment.
        for (let run = 0; run < options.runs; run++) {
          const floor = await coldStart(empty, runtime, environment, undefined);
          floors.push(floor.importMs);
          floorCpus.push(floor.cpuMs);
          const event = firstCall.nextEvent();
          const measured = await coldStart(bundlePath, runtime, environment, event);
          firstCall.check(measured.result);
          imports.push(measured.importMs);
          colds.push(measured.totalMs);
          cpus.push(measured.cpuMs);
        }
        coldStarts.push({
          runtime: runtime.label,
          sourceMaps: runtime.sourceMaps,
          importMedianMs: median(imports),
          coldMedianMs: median(colds),
          coldMinMs: Math.min(...colds),
          coldMaxMs: Math.max(...colds),
          floorMedianMs: median(floors),
          overFloorMs: median(colds) - median(floors),
          cpuOverFloorMs: median(cpus) - median(floorCpus),
          ...(firstCall.note === undefined ? {} : { firstCallNote: firstCall.note }),
        });
      }
      results.push({
        name,
        bundleBytes: statSync(bundlePath).size,
        sourceMapBytes: map === undefined ? 0 : statSync(join(directory, map)).size,
        loadedOnFirstUseBytes: files.includes('node_modules')
          ? bytesUnder(join(directory, 'node_modules'))
          : 0,
        coldStarts,
      });
    }
    return results;
  } finally {
    await servers.close();
    rmSync(outdir, { recursive: true, force: true });
  }
}
