/**
 * The edges every CLI shares: a reader that stops early (`npm run query -- … | head -1`) ends
 * the command quietly, with no stack trace and the exit code it had; a command that takes no
 * arguments refuses one (exit 2, what it expected) instead of ignoring it.
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import type { ParseArgsConfig } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseFlags, UsageError } from '../scripts/local/cli.ts';

const CLI = new URL('../scripts/local/cli.ts', import.meta.url).href;

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** `parseFlags` of `args` against `options`, deferred for `expect(…).toThrow`. */
const parseWith =
  (options: ParseArgsOptionsConfig) =>
  (...args: string[]) =>
  () =>
    parseFlags({ args, options, strict: true });

/** A command printing `lines` lines through runCommandLine, read until its first chunk only. */
async function readFirstChunkOf(lines: number, exitCode: number) {
  const program = `
    import { runCommandLine } from ${JSON.stringify(CLI)};
    await runCommandLine(async () => {
      for (let i = 0; i < ${lines}; i++) process.stdout.write('line ' + i + ' ' + 'x'.repeat(200) + '\\n');
      await new Promise((resolve) => setTimeout(resolve, 50));
      for (let i = 0; i < ${lines}; i++) process.stdout.write('more ' + i + '\\n');
      return ${exitCode};
    }, 'usage', { prefix: 'test: ' });
  `;
  const child = spawn(
    process.execPath,
    ['--import', import.meta.resolve('tsx'), '--input-type=module', '-e', program],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const errors: Buffer[] = [];
  child.stderr.on('data', (chunk: Buffer) => errors.push(chunk));
  const [first] = (await once(child.stdout, 'data')) as [Buffer];
  // The reader goes away, as `head -1` does once it has its line.
  child.stdout.destroy();
  const [code] = (await once(child, 'close')) as [number | null];
  return { first: first.toString(), code, stderr: Buffer.concat(errors).toString() };
}

describe('a reader that closes the pipe early', () => {
  it('ends the command quietly: no stack trace, the exit code so far', async () => {
    const result = await readFirstChunkOf(20_000, 0);
    expect(result.first).toMatch(/^line 0 /);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });
});

function runScript(script: string, args: string[]) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [
        '--import',
        import.meta.resolve('tsx'),
        new URL(`../${script}`, import.meta.url).pathname,
        ...args,
      ],
      { timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({
          code: error === null ? 0 : Number((error as { code?: number }).code),
          stdout,
          stderr,
        }),
    );
  });
}

describe('a command that takes no arguments', () => {
  it.each([
    ['scripts/schemas.ts', 'npm run schemas'],
    ['scripts/fake-datasaur.ts', 'npm run fake-datasaur'],
    ['scripts/start.ts', 'npm start'],
  ])(
    '%s refuses one, with its usage, and does nothing',
    async (script, command) => {
      for (const args of [['--bogus'], ['extra']]) {
        const result = await runScript(script, args);
        expect(result.code, args[0]).toBe(2);
        expect(result.stderr).toContain(`Usage: ${command}`);
        expect(result.stdout).toBe('');
      }
      const help = await runScript(script, ['--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: ${command}`);
      // Three tsx processes one after another: about 3 s each idle, 10 s or more beside the suite.
    },
    90_000,
  );
});

describe('flags with a shape of their own', () => {
  const options = {
    region: { type: 'string' },
    endpoint: { type: 'string' },
    'queue-url': { type: 'string' },
  } as const;
  const parse = parseWith(options);

  it('refuse a region or URL that is not one, naming the flag, before anything is called', () => {
    expect(parse('--region', 'us east')).toThrow(
      new UsageError('--region must be an AWS region such as us-east-1, got "us east"'),
    );
    expect(parse('--endpoint', 'notaurl')).toThrow(/--endpoint must be an http or https URL/);
    expect(parse('--queue-url', 'ftp://queue')).toThrow(/--queue-url must be an http or https URL/);
  });

  it('take the regions of every partition and local http endpoints', () => {
    for (const region of [
      'us-east-1',
      'eu-central-2',
      'us-gov-west-1',
      'cn-north-1',
      'il-central-1',
    ]) {
      expect(parse('--region', region)).not.toThrow();
    }
    expect(parse('--endpoint', 'http://127.0.0.1:8000')).not.toThrow();
    expect(
      parse('--queue-url', 'https://sqs.eu-west-1.amazonaws.com/123456789012/q'),
    ).not.toThrow();
  });
});

describe('--region and --profile without --stack', () => {
  const stackOptions = {
    stack: { type: 'string' },
    region: { type: 'string' },
    profile: { type: 'string' },
  } as const;
  const parse = (options: ParseArgsOptionsConfig, ...args: string[]) => parseWith(options)(...args);
  const readsTable = { ...stackOptions, table: { type: 'string' } } as const;

  it('are refused where the command would ignore them and act on the local stack', () => {
    expect(parse(stackOptions, '--region', 'eu-west-1')).toThrow(/--region only says where/);
    expect(parse(stackOptions, '--profile', 'prod')).toThrow(/--profile only says where/);
    expect(parse(readsTable, '--profile', 'prod')).toThrow(/--profile only says where/);
  });

  it('are taken with a stack, a table, or where --region alone means the table in AWS', () => {
    expect(parse(stackOptions, '--stack', 'S', '--region', 'eu-west-1')).not.toThrow();
    expect(parse(readsTable, '--table', 'T12', '--profile', 'prod')).not.toThrow();
    expect(parse(readsTable, '--region', 'eu-west-1')).not.toThrow();
    expect(parse(readsTable, '--region', 'eu-west-1', '--profile', 'prod')).not.toThrow();
  });
});

describe('a flag of one value given twice', () => {
  const options = {
    stack: { type: 'string', short: 's' },
    type: { type: 'string', multiple: true },
    json: { type: 'boolean' },
  } as const;
  const parse = parseWith(options);

  it('is refused, naming both values, however it was spelled', () => {
    expect(parse('--stack', 'Prod', '--stack', 'Dev')).toThrow(
      new UsageError('--stack takes one value and was given 2 ("Prod", "Dev"): give it once'),
    );
    expect(parse('--stack=Prod', '-s', 'Dev')).toThrow(/--stack takes one value and was given 2/);
  });

  it('is not a flag of several values, nor a switch', () => {
    expect(parse('--type', 'A', '--type', 'B', '--json', '--json', '--stack', 'S')()).toMatchObject(
      {
        values: { type: ['A', 'B'], json: true, stack: 'S' },
      },
    );
  });
});

describe('arguments refused before anything runs (exit 2, what was expected)', () => {
  const deep = `${'{"a":'.repeat(200)}["x"]${'}'.repeat(200)}`;
  it.each([
    [
      'a number in hex',
      'scripts/send.ts',
      ['PROJECT_CREATED', '--count', '0x10'],
      '--count must be a whole number',
    ],
    [
      'a number with an exponent',
      'scripts/query.ts',
      ['feed', '--limit', '1e2'],
      '--limit must be a whole number',
    ],
    [
      'a time that is no ISO 8601 time',
      'scripts/query.ts',
      ['feed', '--from', 'Mar 5 2026'],
      'must be an ISO-8601 time',
    ],
    [
      'a day the calendar does not have',
      'scripts/replay.ts',
      ['events', '--from', '2026-02-30T00:00:00Z', '--to', '2026-03-05T00:00:00Z', '--dry-run'],
      'must be an ISO-8601 time',
    ],
    [
      'an unknown detail-type to replay',
      'scripts/replay.ts',
      [
        'events',
        '--from',
        '2026-01-01T00:00:00Z',
        '--to',
        '2026-01-02T00:00:00Z',
        '--type',
        'Nope',
      ],
      '--type must be one of',
    ],
    [
      'a team list with no team in it',
      'scripts/reconcile.ts',
      ['--dry-run', '--team', ',,'],
      '--team needs a team id',
    ],
    [
      'an empty value',
      'scripts/send.ts',
      ['PROJECT_CREATED', '--secret', ''],
      '--secret needs a value, got an empty one',
    ],
    [
      'a table name DynamoDB refuses',
      'scripts/query.ts',
      ['feed', '--table', 'x'],
      '--table must be a DynamoDB table name',
    ],
    ['an empty events file', 'scripts/tail.ts', ['--file', ''], '--file needs a value'],
    [
      'a pattern nested past any event',
      'scripts/tail.ts',
      ['--pattern', deep],
      'nests deeper than 64 levels',
    ],
    [
      'a project id no key can hold',
      'scripts/export.ts',
      ['--project', 'p'.repeat(3000)],
      "--project: the project's",
    ],
  ])('%s', async (_what, script, args, message) => {
    const result = await runScript(script, args);
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(result.code).toBe(2);
  });

  it('bench refuses a --save it could not write before measuring anything', async () => {
    const result = await runScript('scripts/bench.ts', [
      '--quick',
      '--save',
      '/nonexistent/dir/x.json',
    ]);
    expect(result.stderr).toContain('--save: cannot write into /nonexistent/dir');
    expect(result.code).toBe(2);
  });
});

describe('a failure no argument check could foresee', () => {
  it('is one line naming it, exit 1, no stack trace', async () => {
    // The events file is a directory: reading it fails with EISDIR.
    const result = await runScript('scripts/tail.ts', ['--all', '--file', process.cwd()]);
    expect(result.stderr.trim()).toMatch(/^npm run tail: Error: EISDIR/);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(result.code).toBe(1);
  });
});
