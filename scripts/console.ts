/**
 * `npm run console`: the events, projects, labels and exports of the local stack (or of a
 * deployed one, `--stack`) in a browser, on 127.0.0.1 only (port from CONSOLE_PORT);
 * read-only unless `--allow-actions`. Ctrl-C stops it.
 */
import './local/sdk-notice.ts';
import type { AddressInfo } from 'node:net';
import type { parseArgs } from 'node:util';
import { serve } from '@hono/node-server';
import { ConfigurationError, integerEnv } from '../shared/runtime/environment.ts';
import { createConsoleApp } from './console/app.ts';
import { type ConsoleSource, localSource } from './console/source.ts';
import { stackSource } from './console/stack-source.ts';
import { resolveStack, STACK_OPTIONS, StackResolutionError, stackUsage } from './deployed/stack.ts';
import { parseFlags } from './local/cli.ts';
import { loadDotEnv, readLocalTarget } from './local/config.ts';
import { DEFAULT_CONSOLE_PORT } from './local/defaults.ts';

const USAGE = `Usage: npm run console [-- [--stack <name>] [--allow-actions]]

Serves a console of the local stack (the one npm start runs, found through the same variables
and .env), or of a deployed stack, on http://127.0.0.1:<CONSOLE_PORT>/ (default
${DEFAULT_CONSOLE_PORT}; 0 picks a free port). Pages: overview, feed, project, document, event.
See docs/console.md.

${stackUsage(24)}
  --allow-actions       offer the actions (redrive a dead-letter queue, replay a rejected
                        body, archive an export now, run a reconcile), each after a
                        confirmation; without it the console is read-only and refuses
                        every POST
  -h, --help            show this help
`;

/** The console listens on loopback only, whatever HOST the webhook server uses. */
const CONSOLE_HOST = '127.0.0.1';

function fail(message: string, code: number): never {
  console.error(`npm run console: ${message}`);
  process.exit(code);
}

const OPTIONS = {
  ...STACK_OPTIONS,
  'allow-actions': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

let values: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; strict: true }>>['values'];
try {
  ({ values } = parseFlags({ args: process.argv.slice(2), options: OPTIONS, strict: true }));
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

let port: number;
let source: ConsoleSource;
try {
  loadDotEnv();
  port = integerEnv('CONSOLE_PORT', DEFAULT_CONSOLE_PORT, { min: 0, max: 65_535 });
  source =
    values.stack === undefined
      ? localSource(readLocalTarget())
      : stackSource(await resolveStack({ ...values, stack: values.stack }));
} catch (error) {
  if (error instanceof ConfigurationError || error instanceof StackResolutionError) {
    fail(error.message, 2);
  }
  throw error;
}
const allowActions = values['allow-actions'] === true;

let listeningPort = port;
const app = createConsoleApp({ source, port: () => listeningPort, allowActions });
const server = serve({ fetch: app.fetch, hostname: CONSOLE_HOST, port }, (info: AddressInfo) => {
  listeningPort = info.port;
  console.log(`Datasaur webhooks console (${allowActions ? 'actions allowed' : 'read-only'}), reading the ${source.description}
  open  http://${CONSOLE_HOST}:${info.port}/  (Ctrl-C to stop)`);
});
server.on('error', (error: NodeJS.ErrnoException) => {
  fail(
    error.code === 'EADDRINUSE'
      ? `port ${port} is in use: set CONSOLE_PORT to a free port (0 picks one)`
      : String(error),
    1,
  );
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    server.close();
    source.close();
    process.exit(0);
  });
}
