/**
 * `npm start`: the whole pipeline on this machine, no AWS account and no Docker. Prints where
 * everything is, then `ready`; Ctrl-C or SIGTERM stops it cleanly (exit 0).
 */
import './local/sdk-notice.ts';
import { ConfigurationError } from '../shared/runtime/environment.ts';
import { startupBanner } from './local/banner.ts';
import { acceptOnlyHelp } from './local/cli.ts';
import { type LocalStackConfig, loadDotEnv, readLocalConfig } from './local/config.ts';
import { whenParentExits } from './local/processes.ts';
import { type LocalStack, startLocalStack } from './local/stack.ts';
import { StartupError } from './local/startup-error.ts';

const log = (line: string) => console.log(`[npm start] ${line}`);
/** Signals this close together are one signal delivered twice, not a second Ctrl-C. */
const SAME_SIGNAL_MS = 1_000;
/** Whoever stops us expects the ports back soon: a stop that hangs ends here. */
const STOP_DEADLINE_MS = 8_000;

function fail(message: string): never {
  console.error(`npm start: ${message}`);
  process.exit(1);
}

const USAGE = `Usage: npm start

  Runs the whole pipeline on this machine until Ctrl-C. Its settings are environment
  variables, or a .env file (.env.example lists them; docs/local-stack.md).

  -h, --help  this text
`;
acceptOnlyHelp(process.argv.slice(2), USAGE, 'npm start: ');

let config: LocalStackConfig;
try {
  loadDotEnv();
  config = readLocalConfig();
} catch (error) {
  if (error instanceof ConfigurationError || error instanceof SyntaxError) fail(error.message);
  throw error;
}

let stack: LocalStack | undefined;
let stopping = false;
const stop = async (exitCode: number) => {
  if (stopping) return;
  stopping = true;
  setTimeout(() => {
    log(`not stopped within ${STOP_DEADLINE_MS / 1000} s; exiting anyway`);
    process.exit(1);
  }, STOP_DEADLINE_MS).unref();
  await stack?.stop();
  log('stopped');
  process.exit(exitCode);
};

// Signalled alone, npm stops itself and its shell without passing the signal on.
whenParentExits(() => {
  log('the process that started npm start has exited; stopping');
  void stop(0);
});

try {
  stack = await startLocalStack(config, {
    log,
    onFatal: (reason) => {
      log(`giving up: ${reason}`);
      void stop(1);
    },
  });
} catch (error) {
  if (error instanceof StartupError) fail(error.message);
  throw error;
}

let firstSignalAt: number | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    const now = Date.now();
    firstSignalAt ??= now;
    // Ctrl-C reaches us twice: from the terminal and again from npm, which forwards it.
    if (now - firstSignalAt < SAME_SIGNAL_MS) {
      void stop(0);
      return;
    }
    // A second Ctrl-C, later, means "now": skip the orderly shutdown.
    process.exit(130);
  });
}

console.log(startupBanner(stack, config));
log(`ready on ${stack.webhookUrl} (Ctrl-C to stop)`);
