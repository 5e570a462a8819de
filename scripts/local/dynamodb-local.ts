/**
 * AWS's own DynamoDB Local, the jar shipped in the `amplify-dynamodb-simulator` dev
 * dependency, run as a Java child process: the second DynamoDB backend, chosen with
 * DYNAMODB_BACKEND=dynamodb-local by `npm start` and by the test setup (conformance runs).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { LOCAL_CLIENT_CONFIG, type RunningServer } from './servers.ts';
import { StartupError } from './startup-error.ts';

/** A cold JVM answers in about 3 s; a busy 2-core machine may need several times that. */
const READY_TIMEOUT_MS = 60_000;
const POLL_INTERVAL_MS = 100;
const STOP_GRACE_MS = 5_000;
/** Tries with another free port when one picked for `port: 0` was taken before Java bound it. */
const PORT_ATTEMPTS = 3;
/** The last of the JVM's output kept for error messages. */
const OUTPUT_KEPT_CHARS = 4_000;
const ORPHAN_GUARD = fileURLToPath(new URL('./orphan-guard.mjs', import.meta.url));
/** Our launcher: DynamoDB Local's own main, with its connector bound to 127.0.0.1. */
const LAUNCHER_CLASS = 'DynamoDbLocalOnLoopback';
/** One message whether `javac` (compiling the launcher) or `java` is the one missing. */
const NO_JDK =
  'DynamoDB Local needs a Java 17 (or later) JDK, and `java` or `javac` is not on the PATH: install a JDK or leave DYNAMODB_BACKEND unset (dynalite)';
/** The launcher's source; its class runs DynamoDB Local (see its comment). */
export const LAUNCHER_SOURCE = fileURLToPath(new URL(`./${LAUNCHER_CLASS}.java`, import.meta.url));

export interface DynamoDbLocalOptions {
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  /** Folder of the database file; in memory when unset. */
  readonly dbPath?: string;
}

/** Starts DynamoDB Local and resolves once it answers ListTables. */
export async function startDynamoDbLocal(
  options: DynamoDbLocalOptions = {},
): Promise<RunningServer> {
  const emulator = emulatorDirectory();
  const launcher = await compiledLauncher(emulator);
  if (options.dbPath !== undefined) mkdirSync(options.dbPath, { recursive: true });
  for (let attempt = 1; ; attempt++) {
    // Checked first, so a server already on the port is never taken for this one.
    const port = await freePort(options.port ?? 0);
    try {
      return await launch(emulator, launcher, port, options.dbPath);
    } catch (error) {
      const retry = !options.port && error instanceof PortTakenError && attempt < PORT_ATTEMPTS;
      if (!retry) throw error;
    }
  }
}

/** The JVM reported that its port is in use; `code` lets callers explain it like Node's. */
class PortTakenError extends Error {
  override readonly name = 'PortTakenError';
  readonly code = 'EADDRINUSE';
}

/** The jar of DynamoDB Local that the dev dependency carries; its manifest names its libraries. */
export function dynamoDbLocalJar(): string {
  return join(emulatorDirectory(), 'DynamoDBLocal.jar');
}

function emulatorDirectory(): string {
  try {
    return join(dirname(simulatorManifest()), 'emulator');
  } catch {
    throw new StartupError(
      'DynamoDB Local comes with the dev dependency amplify-dynamodb-simulator: run npm install (without --omit=dev)',
    );
  }
}

function simulatorManifest(): string {
  return createRequire(import.meta.url).resolve('amplify-dynamodb-simulator/package.json');
}

/**
 * The folder holding the launcher's class, compiled once per version of its source and of the
 * simulator package into node_modules/.cache: `java Launcher.java` would compile it on every
 * start, a second or two more each time. Not a shared temp folder, where another user could
 * plant a class of their own.
 */
async function compiledLauncher(emulator: string): Promise<string> {
  const version = createHash('sha256')
    .update(readFileSync(LAUNCHER_SOURCE))
    .update(readFileSync(simulatorManifest()))
    .digest('hex')
    .slice(0, 16);
  const cache = join(emulator, '..', '..', '.cache', 'dynamodb-local-launcher');
  const directory = join(cache, version);
  if (existsSync(join(directory, `${LAUNCHER_CLASS}.class`))) return directory;
  mkdirSync(cache, { recursive: true });
  // Compiled aside and renamed into place, so a start running alongside never sees half of it.
  const staging = mkdtempSync(join(cache, 'staging-'));
  try {
    await promisify(execFile)('javac', [
      '--release',
      '17',
      '-cp',
      join(emulator, 'DynamoDBLocal.jar'),
      '-d',
      staging,
      LAUNCHER_SOURCE,
    ]);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new StartupError(NO_JDK);
    }
    throw new Error(`could not compile ${LAUNCHER_SOURCE}: ${String(error)}`);
  }
  try {
    renameSync(staging, directory);
  } catch (error) {
    // Another start compiled the same source first: its copy is as good as this one.
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(join(directory, `${LAUNCHER_CLASS}.class`))) throw error;
  }
  return directory;
}

async function launch(
  emulator: string,
  launcher: string,
  port: number,
  dbPath: string | undefined,
): Promise<RunningServer> {
  // Through the guard, so the JVM ends with this process however it ends.
  const java = spawn(
    process.execPath,
    [
      ORPHAN_GUARD,
      'java',
      `-Djava.library.path=${join(emulator, 'DynamoDBLocal_lib')}`,
      // Short-lived test servers: a small heap and one GC thread leave the CPU to the tests.
      '-Xmx512m',
      '-XX:+UseSerialGC',
      // The jar's manifest names its libraries, so they join the class path with it.
      '-cp',
      [launcher, join(emulator, 'DynamoDBLocal.jar')].join(delimiter),
      LAUNCHER_CLASS,
      '-port',
      String(port),
      // One database whatever the credentials and region of the client.
      '-sharedDb',
      // Nothing leaves this machine.
      '-disableTelemetry',
      // It answers any web page's cross-origin requests by default: only its own origin may.
      '-cors',
      `http://127.0.0.1:${port}`,
      ...(dbPath === undefined ? ['-inMemory'] : ['-dbPath', dbPath]),
    ],
    { cwd: emulator, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let output = '';
  const failed = new Promise<Error>((resolve) => {
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-OUTPUT_KEPT_CHARS);
      // Jetty's bind failure leaves the JVM running: the output is the only sign.
      if (/Failed to bind|Address already in use/.test(output)) {
        resolve(new PortTakenError(`port ${port} is already in use`));
      }
    };
    java.stdout.on('data', keep);
    java.stderr.on('data', keep);
    java.once('error', resolve);
    java.once('close', (code, signal) =>
      resolve(
        /orphan-guard: ENOENT/.test(output)
          ? new StartupError(NO_JDK)
          : new Error(
              `DynamoDB Local exited (${signal ?? `code ${code}`}) before it answered:\n${output}`,
            ),
      ),
    );
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = () => stopProcess(java);
  const polling = new AbortController();
  const outcome = await Promise.race([answered(endpoint, polling.signal), failed]);
  polling.abort();
  if (outcome !== 'answered') {
    await stop();
    throw outcome;
  }
  return { endpoint, close: stop };
}

/** Polls ListTables until the server answers; an answer, not a delay, means it is ready. */
async function answered(endpoint: string, signal: AbortSignal): Promise<'answered' | Error> {
  const client = new DynamoDBClient({
    ...LOCAL_CLIENT_CONFIG,
    endpoint,
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 5_000 },
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  try {
    while (!signal.aborted) {
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return 'answered';
      } catch (error) {
        if (Date.now() > deadline) {
          return new Error(
            `DynamoDB Local did not answer ListTables within ${READY_TIMEOUT_MS / 1000} s: ${String(error)}`,
          );
        }
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    }
    return new Error('stopped waiting for DynamoDB Local');
  } finally {
    client.destroy();
  }
}

/** SIGTERM (the guard passes it on), then, after a grace, closing the guard's stdin: SIGKILL. */
async function stopProcess(guard: ChildProcess): Promise<void> {
  if (guard.exitCode !== null || guard.signalCode !== null) return;
  const exited = new Promise((resolve) => guard.once('exit', resolve));
  guard.kill('SIGTERM');
  const timer = setTimeout(() => guard.stdin?.destroy(), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

/**
 * `port` when it is free on 127.0.0.1, or any free port for 0; otherwise an error with Node's
 * EADDRINUSE code.
 */
function freePort(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE' ? new PortTakenError(`port ${port} is already in use`) : error,
      ),
    );
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
