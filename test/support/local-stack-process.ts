/** Runs `npm start`'s entry point as a child process and reads what it prints. */
import { type ChildProcess, spawn } from 'node:child_process';
import type { FakeDatasaur } from '../../scripts/local/fake-datasaur/server.ts';
import { recordOutput } from './secret-guard.ts';

export interface StackProcess {
  readonly child: ChildProcess;
  readonly webhookUrl: string;
  readonly dynamoDbEndpoint: string;
  readonly s3Endpoint: string;
  readonly sqsEndpoint: string;
  readonly eventsEndpoint: string;
  /** Everything printed so far (stdout and stderr interleaved). */
  output(): string;
  /** Pids of every worker started so far, in order. */
  workerPids(): number[];
  /** Resolves when `condition` holds on the output, or rejects after `timeoutMs`. */
  waitForOutput(condition: (output: string) => boolean, timeoutMs?: number): Promise<void>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

export interface ExitedProcess {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Variables every test run gets: free ports, quiet logs, no SDK notice about Node 20. */
export const TEST_STACK_ENVIRONMENT = {
  PORT: '0',
  DYNAMODB_PORT: '0',
  SQS_PORT: '0',
  S3_PORT: '0',
  EVENTS_PORT: '0',
  LOG_LEVEL: 'WARN',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  // One worker process: a second one is CPU the suite's 2 cores share with every other file.
  // test/stop.test.ts starts the default two.
  WORKER_PROCESSES: '1',
} as const;

/** The fake Datasaur API and its credentials, as `npm start` and the CLIs read them. */
export function fakeDatasaurEnvironment(fake: FakeDatasaur) {
  return {
    DATASAUR_API_URL: fake.url,
    DATASAUR_CLIENT_ID: fake.clientId,
    DATASAUR_CLIENT_SECRET: fake.clientSecret,
  };
}

/** What a CLI run beside a started stack reads to reach its servers and data directory. */
export function stackCliEnvironment(stack: StackProcess, dataDir: string): NodeJS.ProcessEnv {
  return {
    ...TEST_STACK_ENVIRONMENT,
    DATA_DIR: dataDir,
    DYNAMODB_ENDPOINT: stack.dynamoDbEndpoint,
    SQS_ENDPOINT: stack.sqsEndpoint,
    S3_ENDPOINT: stack.s3Endpoint,
  };
}

export function spawnTypeScript(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  stdin: 'ignore' | 'pipe' = 'ignore',
) {
  return spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    env: { ...process.env, ...env },
    stdio: [stdin, 'pipe', 'pipe'],
  });
}

/** Runs a script to its end; `input`, when given, is its standard input (not a terminal). */
export function runTypeScript(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  input?: string,
): Promise<ExitedProcess> {
  const child = spawnTypeScript(script, args, env, input === undefined ? 'ignore' : 'pipe');
  if (input !== undefined) child.stdin?.end(input);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => {
    stdout += chunk;
    recordOutput(String(chunk));
  });
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
    recordOutput(String(chunk));
  });
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

const started = new Set<ChildProcess>();

/** Stops every stack a test left running (one that failed before its own stop). */
export async function stopLeftoverStacks(): Promise<void> {
  const running = [...started].filter(
    (child) => child.exitCode === null && child.signalCode === null,
  );
  await Promise.all(
    running.map((child) => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      return exited;
    }),
  );
  started.clear();
}

export async function startStackProcess(env: NodeJS.ProcessEnv): Promise<StackProcess> {
  const child = spawnTypeScript('scripts/start.ts', [], { ...TEST_STACK_ENVIRONMENT, ...env });
  started.add(child);
  let output = '';
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    // The secret guard reads the child's logs too.
    recordOutput(chunk.toString('utf8'));
    for (const listener of listeners) listener();
  };
  // Always drained, so a chatty stack never blocks on a full pipe.
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));

  const waitForOutput = (condition: (text: string) => boolean, timeoutMs = 20_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (condition(output)) finish(resolve);
        else if (child.exitCode !== null)
          finish(() => reject(new Error(`stack exited:\n${output}`)));
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`timed out waiting; output:\n${output}`))),
        timeoutMs,
      );
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        listeners.delete(check);
        settle();
      };
      listeners.add(check);
      child.once('exit', check);
      check();
    });

  // Long enough for DynamoDB Local's JVM to start on a busy machine (DYNAMODB_BACKEND).
  await waitForOutput((text) => /\] ready on /.test(text), 60_000);
  return {
    child,
    webhookUrl: match(output, /webhook URL\s+(\S+)/),
    dynamoDbEndpoint: match(output, /DynamoDB\s+(http:\/\/\S+)/),
    s3Endpoint: match(output, /S3\s+(http:\/\/\S+)/),
    sqsEndpoint: match(output, /SQS\s+(http:\/\/\S+)/),
    eventsEndpoint: match(output, /EventBridge\s+(http:\/\/\S+)/),
    output: () => output,
    workerPids: () =>
      [...output.matchAll(/worker started \(pid (\d+)\)/g)].map((m) => Number(m[1])),
    waitForOutput,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

function match(text: string, pattern: RegExp): string {
  const found = pattern.exec(text)?.[1];
  if (found === undefined) throw new Error(`no ${pattern} in the output:\n${text}`);
  return found;
}
