/**
 * `npm start`: the whole pipeline on this machine, no AWS account and no Docker. Prints where
 * everything is, then `ready`; Ctrl-C or SIGTERM stops it cleanly (exit 0).
 */
import './local/sdk-notice.ts';
import { ConfigurationError } from '../shared/environment.ts';
import { startupBanner } from './local/banner.ts';
import { type LocalStackConfig, loadDotEnv, readLocalConfig } from './local/config.ts';
import { type LocalStack, startLocalStack } from './local/stack.ts';
import { StartupError } from './local/startup-error.ts';

const log = (line: string) => console.log(`[npm start] ${line}`);

function fail(message: string): never {
  console.error(`npm start: ${message}`);
  process.exit(1);
}

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
  await stack?.stop();
  log('stopped');
  process.exit(exitCode);
};

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

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    // A second Ctrl-C means "now": skip the orderly shutdown.
    if (stopping) process.exit(130);
    void stop(0);
  });
}

console.log(startupBanner(stack, config));
log(`ready on ${stack.webhookUrl} (Ctrl-C to stop)`);
