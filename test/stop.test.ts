/**
 * `npm start` stops when told, however it is told: a process supervisor, an IDE or a CI job
 * signals `npm` alone, a user signals the node process or presses Ctrl-C (the whole group).
 * Each case starts `npm start` as a user would and checks that npm, the stack's node process
 * and the worker child are gone and every port the banner printed is free again.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, it, vi } from 'vitest';
import { isRunning } from '../scripts/local/processes.ts';
import { TEST_STACK_ENVIRONMENT } from './support/local-stack-process.ts';
import { recordOutput } from './support/secret-guard.ts';

const ROOT = resolve(import.meta.dirname, '..');
const STOPPED_WITHIN_MS = 10_000;
const directories: string[] = [];
const started: ChildProcess[] = [];

interface RunningStart {
  readonly npm: ChildProcess;
  readonly pids: {
    npm: number;
    stack: number;
    worker: number;
    secondWorker: number;
    servers: number;
  };
  readonly ports: number[];
  output(): string;
}

async function npmStart(): Promise<RunningStart> {
  const dataDir = mkdtempSync(join(tmpdir(), 'npm-start-stop-'));
  directories.push(dataDir);
  // Its own process group, as a terminal gives it, so "the whole group" is only this run.
  const npm = spawn('npm', ['start'], {
    cwd: ROOT,
    // WORKER_PROCESSES as by default (2): the second worker must stop with the rest.
    env: { ...process.env, ...TEST_STACK_ENVIRONMENT, WORKER_PROCESSES: '2', DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  started.push(npm);
  let output = '';
  const ready = new Promise<void>((resolveReady, reject) => {
    const append = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      recordOutput(chunk.toString('utf8'));
      if (/\] ready on /.test(output)) resolveReady();
    };
    npm.stdout?.on('data', append);
    npm.stderr?.on('data', append);
    npm.once('exit', () => reject(new Error(`npm start exited before it was ready:\n${output}`)));
  });
  await ready;
  const pidIn = (file: string) => Number(readFileSync(join(dataDir, file), 'utf8').trim());
  // Every server the banner names, whoever added it to the stack.
  const ports = new Set(
    [...output.matchAll(/http:\/\/127\.0\.0\.1:(\d+)/g)].map(([, port]) => Number(port)),
  );
  return {
    npm,
    pids: {
      npm: npm.pid as number,
      stack: pidIn('npm-start.pid'),
      worker: pidIn('worker.pid'),
      secondWorker: pidIn('worker-2.pid'),
      // dynalite, SQS, S3 and EventBridge run in a process of their own.
      servers: pidIn('servers.pid'),
    },
    ports: [...ports],
    output: () => output,
  };
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const probe = createServer();
    probe.once('error', () => resolveFree(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolveFree(true)));
  });
}

/** Whether a pid runs, counting an exited child npm has not been reaped by us as gone. */
function stillRunning(pid: number, npm: ChildProcess): boolean {
  if (pid === npm.pid) return npm.exitCode === null && npm.signalCode === null;
  return isRunning(pid) && !isZombie(pid);
}

function isZombie(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? false;
  } catch {
    return false;
  }
}

afterAll(() => {
  for (const npm of started) {
    if (npm.exitCode === null && npm.signalCode === null && npm.pid !== undefined) {
      process.kill(-npm.pid, 'SIGKILL');
    }
  }
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

type Target = 'npm' | 'stack' | 'group' | 'servers';

// Concurrent: each case is its own npm start in its own folder, process group and free ports.
// Five start at once (vitest's maxConcurrency) beside another test file: a case took 15 s
// on two cores, so each has 120 s rather than the default 30 to start and stop.
describe.concurrent('npm start stops everything and frees its ports within 10 s', {
  timeout: 120_000,
}, () => {
  it.for<[string, Target, NodeJS.Signals]>([
    ['SIGTERM to npm alone (a supervisor, an IDE, a CI job)', 'npm', 'SIGTERM'],
    ['SIGINT to npm alone', 'npm', 'SIGINT'],
    ['SIGTERM to the node process running the stack (tsx loader)', 'stack', 'SIGTERM'],
    ['SIGINT to the whole group (Ctrl-C in a terminal)', 'group', 'SIGINT'],
    ['SIGTERM to the whole group (kill -- -pgid)', 'group', 'SIGTERM'],
    ['SIGKILL to npm: the stack notices its parent is gone', 'npm', 'SIGKILL'],
    ['SIGKILL to the stack: the worker notices its parent is gone', 'stack', 'SIGKILL'],
    [
      "SIGKILL to the servers' process: the stack gives up and stops the rest",
      'servers',
      'SIGKILL',
    ],
  ])('%s', async ([, target, signal], { expect }) => {
    const run = await npmStart();
    const pids = Object.values(run.pids);
    for (const pid of pids) expect(isRunning(pid)).toBe(true);
    // The webhook server, DynamoDB, SQS and every server added since (the servers' own
    // process holds all but the first: a port still taken means it outlived the stack).
    expect(run.ports.length).toBeGreaterThanOrEqual(3);
    for (const port of run.ports) expect(await portIsFree(port)).toBe(false);

    process.kill(target === 'group' ? -run.pids.npm : run.pids[target], signal);

    await vi.waitFor(
      async () => {
        const running = pids.filter((pid) => stillRunning(pid, run.npm));
        const taken = [];
        for (const port of run.ports) if (!(await portIsFree(port))) taken.push(port);
        expect({ running, taken }).toEqual({ running: [], taken: [] });
      },
      { timeout: STOPPED_WITHIN_MS, interval: 100 },
    );
    // Only a killed stack cannot say so; every other case is an orderly stop.
    if (!(target === 'stack' && signal === 'SIGKILL')) {
      expect(run.output()).toContain('[npm start] stopped');
    }
    if (target === 'servers') {
      expect(run.output()).toContain(
        "[npm start] giving up: the local servers' process exited with SIGKILL",
      );
      expect(run.npm.exitCode).toBe(1);
    }
  });
});
