/**
 * `npm run console`: the events, projects, labels and exports of the local stack in a
 * browser, read-only, on 127.0.0.1 only (port from CONSOLE_PORT). Ctrl-C stops it.
 */
import './local/sdk-notice.ts';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { serve } from '@hono/node-server';
import { ConfigurationError, integerEnv } from '../shared/runtime/environment.ts';
import { createConsoleApp } from './console/app.ts';
import { localSource } from './console/source.ts';
import { loadDotEnv, readLocalTarget } from './local/config.ts';
import { DEFAULT_CONSOLE_PORT } from './local/defaults.ts';

const USAGE = `Usage: npm run console [-- --help]

Serves a read-only console of the local stack (the one npm start runs, found through the same
variables and .env) on http://127.0.0.1:<CONSOLE_PORT>/ (default ${DEFAULT_CONSOLE_PORT}; 0 picks a free port).
Pages: overview, feed, project, document, event. See docs/console.md.
`;

/** The console listens on loopback only, whatever HOST the webhook server uses. */
const CONSOLE_HOST = '127.0.0.1';

function fail(message: string, code: number): never {
  console.error(`npm run console: ${message}`);
  process.exit(code);
}

let parsed: ReturnType<typeof parseArgs<{ options: { help: { type: 'boolean'; short: 'h' } } }>>;
try {
  parsed = parseArgs({ options: { help: { type: 'boolean', short: 'h' } }, strict: true });
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
  process.exit(2);
}
if (parsed.values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

let port: number;
let source: ReturnType<typeof localSource>;
try {
  loadDotEnv();
  port = integerEnv('CONSOLE_PORT', DEFAULT_CONSOLE_PORT, { min: 0, max: 65_535 });
  source = localSource(readLocalTarget());
} catch (error) {
  if (error instanceof ConfigurationError) fail(error.message, 2);
  throw error;
}

let listeningPort = port;
const app = createConsoleApp({ source, port: () => listeningPort });
const server = serve({ fetch: app.fetch, hostname: CONSOLE_HOST, port }, (info: AddressInfo) => {
  listeningPort = info.port;
  console.log(`Datasaur webhooks console (read-only), reading the ${source.description}
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
