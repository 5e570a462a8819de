/**
 * `npm run tail`: follows the events the local bus of `npm start` receives, printing those
 * that match an EventBridge pattern (as a rule with that pattern would receive them).
 */

import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidPatternError, matchesPattern, parsePattern } from '../shared/bus/event-pattern.ts';
import { ConfigurationError } from '../shared/runtime/environment.ts';
import { describeError } from '../shared/runtime/errors.ts';
import { endQuietlyWhenReaderCloses, numberFlag, parseFlags, UsageError } from './local/cli.ts';
import { loadDotEnv, readLocalConfig } from './local/config.ts';
import { EVENTS_FILE_NAME } from './local/defaults.ts';

const USAGE = `Usage: npm run tail -- [--pattern '<EventBridge pattern JSON>'] [flags]

Follows the events put on the local EventBridge endpoint of \`npm start\`
($DATA_DIR/${EVENTS_FILE_NAME}) and prints each one the pattern matches.

Flags:
  --pattern <json>   an EventBridge event pattern, e.g. '{"detail-type":["Project Reviewed"]}'
                     (default: every event)
  --all              print the events already in the file first (default: only new ones)
  --max <n>          stop after printing n events
  --file <path>      the events file (default $DATA_DIR/${EVENTS_FILE_NAME}, DATA_DIR default .data)
  --json             one compact JSON object a line (also whenever stdout is not a terminal)
`;

const POLL_MS = 200;

interface TailOptions {
  readonly file: string;
  readonly pattern: ReturnType<typeof parsePattern> | undefined;
  readonly fromStart: boolean;
  readonly max: number | undefined;
  readonly json: boolean;
}

function parseCommandLine(args: string[]): TailOptions | 'help' {
  const values: Record<string, string | boolean | undefined> = parseFlags({
    args,
    strict: true,
    options: {
      pattern: { type: 'string' },
      all: { type: 'boolean' },
      max: { type: 'string' },
      file: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  }).values;
  if (values.help === true) return 'help';
  let pattern: TailOptions['pattern'];
  if (typeof values.pattern === 'string') {
    try {
      pattern = parsePattern(values.pattern);
    } catch (error) {
      if (error instanceof InvalidPatternError) {
        throw new UsageError(`--pattern: ${error.message}`);
      }
      throw error;
    }
  }
  return {
    file:
      typeof values.file === 'string'
        ? values.file
        : join(readLocalConfig().dataDir, EVENTS_FILE_NAME),
    pattern,
    fromStart: values.all === true,
    max:
      typeof values.max === 'string'
        ? numberFlag('max', values.max, { min: 1, max: 1_000_000 })
        : undefined,
    json: values.json === true || !process.stdout.isTTY,
  };
}

/** Reads lines appended to `file` since `offset`; a line still being written waits. */
function readNewLines(file: string, state: { offset: number; rest: string }): string[] {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return []; // Not created yet: the stack creates it on the first event.
  }
  if (size < state.offset) state.offset = 0; // The data folder was reset.
  if (size === state.offset) return [];
  const buffer = Buffer.alloc(size - state.offset);
  const descriptor = openSync(file, 'r');
  try {
    readSync(descriptor, buffer, 0, buffer.length, state.offset);
  } finally {
    closeSync(descriptor);
  }
  state.offset = size;
  const text = state.rest + buffer.toString('utf8');
  const lines = text.split('\n');
  state.rest = lines.pop() ?? '';
  return lines.filter((line) => line.trim() !== '');
}

function follow(options: TailOptions): Promise<void> {
  const state = { offset: 0, rest: '' };
  if (!options.fromStart) {
    try {
      state.offset = statSync(options.file).size;
    } catch {
      state.offset = 0;
    }
  }
  let printed = 0;
  return new Promise((resolve, reject) => {
    const stop = () => {
      clearInterval(timer);
      resolve();
    };
    // The file unreadable (a directory, its permissions changed) ends the tail with the error.
    const poll = () => {
      try {
        readAndPrint();
      } catch (error) {
        clearInterval(timer);
        reject(error);
      }
    };
    const readAndPrint = () => {
      for (const line of readNewLines(options.file, state)) {
        let event: unknown;
        try {
          event = JSON.parse(line);
        } catch {
          continue; // Not written by the local bus.
        }
        if (options.pattern !== undefined && !matchesPattern(options.pattern, event)) continue;
        console.log(options.json ? JSON.stringify(event) : JSON.stringify(event, null, 2));
        printed += 1;
        if (options.max !== undefined && printed >= options.max) return stop();
      }
    };
    const timer = setInterval(poll, POLL_MS);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    poll();
  });
}

endQuietlyWhenReaderCloses();
try {
  loadDotEnv();
  const options = parseCommandLine(process.argv.slice(2));
  if (options === 'help') {
    process.stdout.write(USAGE);
  } else {
    if (process.stderr.isTTY) {
      console.error(`following ${options.file} (Ctrl-C to stop)`);
    }
    await follow(options);
  }
} catch (error) {
  if (error instanceof UsageError || error instanceof ConfigurationError) {
    console.error(`npm run tail: ${error.message}\n`);
    process.stderr.write(USAGE);
    process.exitCode = 2;
  } else {
    // The events file unreadable (a directory, no permission): one line, not a stack trace.
    console.error(`npm run tail: ${describeError(error)}`);
    process.exitCode = 1;
  }
}
