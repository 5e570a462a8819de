/** Reads configuration from environment variables once, failing with a message that says what is wrong. */

export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

/** The variable's value, or undefined when it is unset or blank (a blank value counts as unset). */
function setValueOf(name: string, environment: NodeJS.ProcessEnv): string | undefined {
  const value = environment[name];
  return value === undefined || value.trim() === '' ? undefined : value;
}

export function requireEnv(name: string, environment: NodeJS.ProcessEnv = process.env): string {
  const value = setValueOf(name, environment);
  if (value === undefined) {
    throw new ConfigurationError(`environment variable ${name} is required`);
  }
  return value;
}

export function optionalEnv(
  name: string,
  fallback: string,
  environment: NodeJS.ProcessEnv = process.env,
): string {
  return setValueOf(name, environment) ?? fallback;
}

/** A whole number within [min, max], or `fallback` when the variable is unset. */
export function integerEnv(
  name: string,
  fallback: number,
  bounds: { min?: number; max?: number } = {},
  environment: NodeJS.ProcessEnv = process.env,
): number {
  const raw = setValueOf(name, environment);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = bounds;
  // Decimal as written: Number() also takes "0x10", "0b11" and "1e3".
  if (!/^-?\d{1,16}$/.test(raw.trim()) || value < min || value > max) {
    throw new ConfigurationError(
      `environment variable ${name} must be a whole number from ${min} to ${max}, got "${raw}"`,
    );
  }
  return value;
}

/** `true`/`1`/`on` or `false`/`0`/`off` (any case), or `fallback` when the variable is unset. */
export function booleanEnv(
  name: string,
  fallback: boolean,
  environment: NodeJS.ProcessEnv = process.env,
): boolean {
  const raw = setValueOf(name, environment);
  if (raw === undefined) return fallback;
  const value = raw.trim().toLowerCase();
  if (['true', '1', 'on'].includes(value)) return true;
  if (['false', '0', 'off'].includes(value)) return false;
  throw new ConfigurationError(
    `environment variable ${name} must be true or false (1/0, on/off), got "${raw}"`,
  );
}
