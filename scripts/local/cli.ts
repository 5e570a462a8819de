/**
 * What the CLIs share: flags parsed and number flags checked the same way, the error that
 * prints usage, exit codes.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { ConfigurationError } from '../../shared/runtime/environment.ts';
import { describeError } from '../../shared/runtime/errors.ts';
import { TABLE_NAME_PATTERN } from '../../shared/store/table.ts';
import { StackResolutionError } from '../deployed/stack.ts';

/** A bad command line: the CLI prints the message and its usage, and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Flags every CLI takes as a URL: a local server's, a queue's, the webhook's. */
const URL_FLAGS = ['endpoint', 'events-endpoint', 'url', 'queue-url', 'export-queue-url'];

/** us-east-1, eu-central-2, us-gov-west-1, cn-north-1, us-isob-east-1… */
const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/** A UsageError naming the flag whose value has the wrong shape, before anything is called. */
function checkFlagShapes(values: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(values)) {
    const given = Array.isArray(value) ? value : [value];
    // An empty value is a slip (an unset shell variable): never "use the default" or "all".
    if (given.some((one) => typeof one === 'string' && one.trim() === '')) {
      throw new UsageError(`--${name} needs a value, got an empty one`);
    }
  }
  const { region } = values;
  if (typeof region === 'string' && !AWS_REGION.test(region)) {
    throw new UsageError(`--region must be an AWS region such as us-east-1, got "${region}"`);
  }
  const { table } = values;
  if (typeof table === 'string' && !TABLE_NAME_PATTERN.test(table)) {
    throw new UsageError(
      `--table must be a DynamoDB table name (3 to 255 letters, digits, _ . -), got "${table}"`,
    );
  }
  for (const name of URL_FLAGS) {
    const value = values[name];
    if (typeof value !== 'string') continue;
    let protocol: string | undefined;
    try {
      protocol = new URL(value).protocol;
    } catch {
      protocol = undefined;
    }
    if (protocol !== 'http:' && protocol !== 'https:') {
      throw new UsageError(
        `--${name} must be an http or https URL such as http://127.0.0.1:8000, got "${value}"`,
      );
    }
  }
}

/** Flags naming something in AWS that `--region` and `--profile` can be about. */
const AWS_TARGET_FLAGS = ['stack', 'table', 'secret', 'dlq-arn', 'queue-url', 'export-queue-url'];

/**
 * `--region` and `--profile` say where `--stack` (or a table, a secret, a queue) is: given
 * without one, the command would ignore them and act on the local stack.
 */
function checkAwsFlagsHaveATarget(values: Record<string, unknown>, readsTable: boolean): void {
  const given = ['region', 'profile'].filter((name) => values[name] !== undefined);
  // A command reading the table takes `--region` alone as "the table in AWS, in that region".
  const targets = readsTable ? [...AWS_TARGET_FLAGS, 'region'] : AWS_TARGET_FLAGS;
  if (given.length === 0 || targets.some((name) => values[name] !== undefined)) return;
  throw new UsageError(
    `${given.map((name) => `--${name}`).join(' and ')} only ${given.length > 1 ? 'say' : 'says'} where a deployed stack is: pass --stack <name> as well (without it the command acts on the local stack)`,
  );
}

/**
 * A flag that takes one value given more than once: `parseArgs` keeps the last one silently,
 * so `--stack Prod … --stack Dev` would act on Dev. Flags that take several (`multiple`) and
 * switches, which mean the same given twice, may repeat.
 */
function checkSingleValuesGivenOnce(
  config: ParseArgsConfig,
  tokens: readonly { kind: string; name?: string; value?: string | undefined }[],
): void {
  const given = new Map<string, string[]>();
  for (const token of tokens) {
    if (token.kind !== 'option' || token.name === undefined) continue;
    const option = config.options?.[token.name];
    if (option === undefined || option.type !== 'string' || option.multiple === true) continue;
    given.set(token.name, [...(given.get(token.name) ?? []), token.value ?? '']);
  }
  for (const [name, values] of given) {
    if (values.length > 1) {
      throw new UsageError(
        `--${name} takes one value and was given ${values.length} (${values.map((value) => JSON.stringify(value)).join(', ')}): give it once`,
      );
    }
  }
}

/**
 * `parseArgs` of `config`; a flag it does not know, a value it misses, a flag of one value
 * given twice, or a region or URL flag that is not one is a UsageError.
 */
export function parseFlags<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  let parsed: ReturnType<typeof parseArgs<T>>;
  let tokens: readonly { kind: string; name?: string; value?: string | undefined }[];
  try {
    const withTokens = parseArgs({ ...config, tokens: true });
    tokens = (withTokens.tokens ?? []) as typeof tokens;
    parsed = withTokens as unknown as ReturnType<typeof parseArgs<T>>;
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  checkSingleValuesGivenOnce(config, tokens);
  checkFlagShapes(parsed.values as Record<string, unknown>);
  if (config.options !== undefined && 'stack' in config.options) {
    checkAwsFlagsHaveATarget(parsed.values as Record<string, unknown>, 'table' in config.options);
  }
  return parsed;
}

/** `raw` as a number within [min, max] (whole unless `integer` is false), or a UsageError. */
export function numberFlag(
  name: string,
  raw: string,
  { min, max, integer = true }: { min: number; max: number; integer?: boolean },
): number {
  const value = Number(raw);
  if (
    // Decimal as written: Number() also takes "0x10", "0b11", "1e3" and " 5".
    !(integer ? /^-?\d{1,16}$/ : /^-?\d{1,16}(\.\d{1,16})?$/).test(raw) ||
    !Number.isFinite(value) ||
    (integer && !Number.isInteger(value)) ||
    value < min ||
    value > max
  ) {
    throw new UsageError(
      `--${name} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}, got "${raw}"`,
    );
  }
  return value;
}

/**
 * A reader that stops early (`npm run query -- … | head`) closes the pipe, and the next write
 * fails with EPIPE: the reader's choice, not a failure. The command stops there, quietly,
 * with the exit code it had so far.
 */
export function endQuietlyWhenReaderCloses(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    });
  }
}

/**
 * For a command whose settings are environment variables: `--help` prints `usage` (exit 0),
 * and any argument else prints what it expected (exit 2) instead of being ignored.
 */
export function acceptOnlyHelp(args: string[], usage: string, prefix: string): void {
  let help: boolean;
  try {
    const { values } = parseFlags({
      args,
      options: { help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    });
    help = values.help === true;
  } catch (error) {
    process.stderr.write(
      `${prefix}${error instanceof Error ? error.message : String(error)}\n\n${usage}`,
    );
    process.exit(2);
  }
  if (help) {
    process.stdout.write(usage);
    process.exit(0);
  }
}

export interface CommandLineOptions {
  /** What each error line starts with: the command, e.g. `npm run doctor: `. */
  readonly prefix: string;
  /** A configuration problem is told with the usage, as a bad flag is. @default one line */
  readonly usageOnConfigurationError?: boolean;
}

/** What to do about an AWS SDK error a CLI cannot go on from, when it is a known one. */
function awsHint(error: unknown): string {
  if (!(error instanceof Error)) return '';
  if (error.name === 'CredentialsProviderError') {
    return ' (no AWS credentials found: set AWS_PROFILE, or pass --stack <name> with --profile <profile>)';
  }
  if (/Region is missing/.test(error.message)) {
    return ' (no AWS region: pass --region <region> or set AWS_REGION)';
  }
  return '';
}

/**
 * Runs a CLI's `run` on the command line and sets the exit code: a configuration or stack
 * problem prints one line, a bad command line its message and `usage`; both exit 2. Any other
 * error prints one line naming it (its stack trace too with DEBUG set) and exits 1.
 */
export async function runCommandLine(
  run: (args: string[]) => Promise<number>,
  usage: string,
  { prefix, usageOnConfigurationError = false }: CommandLineOptions,
): Promise<void> {
  endQuietlyWhenReaderCloses();
  try {
    process.exitCode = await run(process.argv.slice(2));
  } catch (error) {
    if (
      error instanceof UsageError ||
      (usageOnConfigurationError && error instanceof ConfigurationError)
    ) {
      process.stderr.write(`${prefix}${error.message}\n\n${usage}`);
    } else if (error instanceof ConfigurationError || error instanceof StackResolutionError) {
      process.stderr.write(`${prefix}${error.message}\n`);
    } else {
      process.stderr.write(`${prefix}${describeError(error)}${awsHint(error)}\n`);
      if (process.env.DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
      process.exitCode = 1;
      return;
    }
    process.exitCode = 2;
  }
}

/**
 * Runs a measuring command (bench, cost, load: it reads its own arguments) and sets the exit
 * code: a bad command line (and, with `usageOnConfigurationError`, a configuration problem)
 * prints its message and `usage`, exit 2; a failure of the measurement prints one line, exit 1.
 */
export async function runMeasurement(
  main: () => Promise<number>,
  usage: string,
  { prefix, usageOnConfigurationError = false }: CommandLineOptions,
): Promise<void> {
  endQuietlyWhenReaderCloses();
  try {
    process.exitCode = await main();
  } catch (error) {
    if (
      error instanceof UsageError ||
      (usageOnConfigurationError && error instanceof ConfigurationError)
    ) {
      console.error(`${prefix}${error.message}\n\n${usage}`);
      process.exitCode = 2;
    } else {
      console.error(`${prefix}${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    }
  }
}
