/** What the CLIs share: the error that prints usage, number flags checked the same way, exit codes. */
import { ConfigurationError } from '../../shared/runtime/environment.ts';
import { StackResolutionError } from '../deployed/stack.ts';

/** A bad command line: the CLI prints the message and its usage, and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** `raw` as a number within [min, max] (whole unless `integer` is false), or a UsageError. */
export function numberFlag(
  name: string,
  raw: string,
  { min, max, integer = true }: { min: number; max: number; integer?: boolean },
): number {
  const value = Number(raw);
  if (
    raw.trim() === '' ||
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
 * Runs a CLI's `run` on the command line and sets the exit code: a configuration or stack
 * problem prints one line, a bad command line its message and `usage`; both exit 2.
 */
export async function runCommandLine(
  run: (args: string[]) => Promise<number>,
  usage: string,
): Promise<void> {
  try {
    process.exitCode = await run(process.argv.slice(2));
  } catch (error) {
    if (error instanceof ConfigurationError || error instanceof StackResolutionError) {
      process.stderr.write(`error: ${error.message}\n`);
      process.exitCode = 2;
    } else {
      if (!(error instanceof UsageError)) throw error;
      process.stderr.write(`error: ${error.message}\n\n${usage}`);
      process.exitCode = 2;
    }
  }
}
