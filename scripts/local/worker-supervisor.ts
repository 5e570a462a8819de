/**
 * Runs the worker as a child process and keeps it running: a worker that dies is restarted
 * after a short backoff (its unacknowledged messages come back after their visibility
 * timeout, as in AWS), unless it keeps dying, which is reported instead of looping forever.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  type WorkerMessage,
  type WorkerSettings,
  workerSettingsEnvironment,
} from './worker-settings.ts';

const WORKER_ENTRY = fileURLToPath(new URL('./worker-process.ts', import.meta.url));
/** tsx's loader, resolved here so the child finds it whatever its working folder. */
const TSX_LOADER = import.meta.resolve('tsx');

const RESTART_WINDOW_MS = 60_000;
const MAX_RESTARTS_PER_WINDOW = 5;
const FIRST_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 5_000;

export interface WorkerSupervisorOptions {
  readonly settings: WorkerSettings;
  /** File that holds the running worker's pid, for whoever needs to find it. */
  readonly pidFile: string;
  /** How long a stopping worker may take to finish its batch before it is killed. */
  readonly stopGraceMs: number;
  readonly log: (line: string) => void;
  /** The worker keeps dying: the stack cannot process anything without it. */
  readonly onGiveUp: (reason: string) => void;
}

export interface WorkerSupervisor {
  /** Resolves when the first worker is polling the queue. */
  readonly polling: Promise<void>;
  /** Asks the worker to finish its batch and exit; resolves once it has. */
  stop(): Promise<void>;
}

export function superviseWorker(options: WorkerSupervisorOptions): WorkerSupervisor {
  const { log } = options;
  let worker: ChildProcess | undefined;
  let stopping = false;
  let restartTimer: NodeJS.Timeout | undefined;
  const recentRestarts: number[] = [];
  let markPolling: () => void = () => {};
  let failPolling: (error: Error) => void = () => {};
  const polling = new Promise<void>((resolve, reject) => {
    markPolling = resolve;
    failPolling = reject;
  });
  // Nobody may be waiting for it when the worker fails after start-up.
  polling.catch(() => {});

  const start = () => {
    const child = spawn(process.execPath, ['--import', TSX_LOADER, WORKER_ENTRY], {
      env: { ...process.env, ...workerSettingsEnvironment(options.settings) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // Its own process group: Ctrl-C reaches only the supervisor, which stops the worker
      // after the HTTP server, in that order.
      detached: true,
    });
    worker = child;
    writeFileSync(options.pidFile, `${child.pid}\n`);
    log(`worker started (pid ${child.pid})`);
    child.on('message', (message: WorkerMessage) => {
      if (message.type === 'polling') markPolling();
    });
    child.once('error', (error) => log(`worker could not be started: ${error.message}`));
    child.once('exit', (code, signal) => {
      if (stopping) return;
      restartAfterCrash(child.pid, signal ?? `code ${code}`);
    });
  };

  const restartAfterCrash = (pid: number | undefined, how: string) => {
    const now = Date.now();
    recentRestarts.push(now);
    while ((recentRestarts[0] ?? now) <= now - RESTART_WINDOW_MS) recentRestarts.shift();
    if (recentRestarts.length > MAX_RESTARTS_PER_WINDOW) {
      const reason = `the worker died ${recentRestarts.length} times within a minute (last: ${how})`;
      failPolling(new Error(reason));
      options.onGiveUp(reason);
      return;
    }
    const backoff = Math.min(FIRST_BACKOFF_MS * 2 ** (recentRestarts.length - 1), MAX_BACKOFF_MS);
    log(`worker (pid ${pid}) exited with ${how}; restarting in ${backoff} ms`);
    restartTimer = setTimeout(start, backoff);
  };

  start();
  return {
    polling,
    stop: async () => {
      stopping = true;
      clearTimeout(restartTimer);
      const child = worker;
      if (child !== undefined && child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const killer = setTimeout(() => {
          log(
            `worker (pid ${child.pid}) did not finish within ${options.stopGraceMs} ms; killing it`,
          );
          child.kill('SIGKILL');
        }, options.stopGraceMs);
        await exited;
        clearTimeout(killer);
      }
      rmSync(options.pidFile, { force: true });
    },
  };
}
