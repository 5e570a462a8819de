/**
 * Runs the local AWS stand-ins (servers-process.ts) as a child process of `npm start`, so the
 * stack's servers and its webhook server use a core each instead of sharing one event loop.
 * The child is in its own process group (Ctrl-C reaches only `npm start`, which stops it
 * last) and exits when `npm start` goes away, even after SIGKILL.
 */
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DeliveredEvent } from './eventbridge-server.ts';

const SERVERS_ENTRY = fileURLToPath(new URL('./servers-process.ts', import.meta.url));
/** tsx's loader, resolved here so the child finds it whatever its working folder. */
const TSX_LOADER = import.meta.resolve('tsx');
/** Closing the servers flushes dynalite's LevelDB; then the process is killed anyway. */
const STOP_GRACE_MS = 5_000;

/** What the child starts: every port may be 0 (any free port). */
export interface ServersRequest {
  readonly host: string;
  /** Absent when the table is served by another backend (DynamoDB Local). */
  readonly dynalite?: { readonly port: number; readonly path: string };
  readonly sqsPort: number;
  readonly events: { readonly port: number; readonly eventsFile: string; readonly log: boolean };
  readonly s3: { readonly port: number; readonly directory: string };
}

export interface ServerEndpoints {
  readonly dynamoDb?: string;
  readonly sqs: string;
  readonly events: string;
  readonly s3: string;
}

/** Messages the child sends over its IPC channel. */
export type ServersMessage =
  | { readonly type: 'listening'; readonly endpoints: ServerEndpoints }
  | { readonly type: 'event'; readonly event: DeliveredEvent }
  | {
      readonly type: 'failed';
      readonly message: string;
      /** The variable whose port could not be listened on, with Node's error code. */
      readonly variable?: string;
      readonly port?: number;
      readonly code?: string;
    };

/** A server of the child could not listen: `code` is Node's (EADDRINUSE, EACCES, …). */
export class ServerListenError extends Error {
  override readonly name = 'ServerListenError';
  constructor(
    message: string,
    readonly variable: string,
    readonly port: number,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

export interface ServersChild {
  readonly endpoints: ServerEndpoints;
  /** Closes every server (dynalite's data is flushed) and waits for the child to exit. */
  stop(): Promise<void>;
}

export interface ServersChildHooks {
  /** File that holds the child's pid while it runs, for whoever needs to find it. */
  readonly pidFile: string;
  /** Called with every event put on the local bus when `events.log` is on. */
  readonly onEvent?: (event: DeliveredEvent) => void;
  /** The child died after start-up: nothing can be queued or stored any more. */
  readonly onExit: (reason: string) => void;
}

export function startServersChild(
  request: ServersRequest,
  hooks: ServersChildHooks,
): Promise<ServersChild> {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, SERVERS_ENTRY], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    detached: true,
  });
  writeFileSync(hooks.pidFile, `${child.pid}\n`);
  let stopping = false;
  let started = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const stop = async () => {
    stopping = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(killer);
    }
    rmSync(hooks.pidFile, { force: true });
  };

  return new Promise((resolve, reject) => {
    const failStart = (error: Error) => {
      reject(error);
      void stop();
    };
    child.once('error', failStart);
    child.once('exit', (code, signal) => {
      const how = signal ?? `code ${code}`;
      const unexpected = started && !stopping;
      // Once started, or after a 'failed' message, the promise is settled and this does nothing.
      reject(new Error(`the local servers' process exited with ${how} while starting`));
      rmSync(hooks.pidFile, { force: true });
      if (unexpected) hooks.onExit(`the local servers' process exited with ${how}`);
    });
    child.on('message', (message: ServersMessage) => {
      switch (message.type) {
        case 'listening':
          started = true;
          resolve({ endpoints: message.endpoints, stop });
          break;
        case 'event':
          hooks.onEvent?.(message.event);
          break;
        case 'failed':
          stopping = true;
          failStart(
            message.variable === undefined || message.port === undefined
              ? new Error(message.message)
              : new ServerListenError(
                  message.message,
                  message.variable,
                  message.port,
                  message.code,
                ),
          );
          break;
      }
    });
    child.send(request);
  });
}
