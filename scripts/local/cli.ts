/** What the CLIs share: the error that prints usage, and number flags checked the same way. */

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
