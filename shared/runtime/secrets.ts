/** The webhook secrets in force: the current one and, during a rotation, the previous one. */

/** Returns the live secrets; called per request, so implementations cache. */
export type SecretSource = () => Promise<readonly string[]>;

/**
 * Reads a secret value as stored in Secrets Manager: either JSON
 * `{"current": "…", "previous": "…"}` or the secret itself as a plain string.
 */
export function parseSecretValue(value: string): string[] {
  const trimmed = value.trim();
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new Error('the webhook secret looks like JSON but does not parse');
    }
    if (typeof parsed !== 'object' || parsed === null) {
      throw new Error('the webhook secret JSON must be an object with "current" and "previous"');
    }
    const { current, previous } = parsed as { current?: unknown; previous?: unknown };
    if (typeof current !== 'string' || current.length === 0) {
      throw new Error('the webhook secret JSON has no "current" value');
    }
    return typeof previous === 'string' && previous.length > 0 ? [current, previous] : [current];
  }
  if (trimmed.length === 0) throw new Error('the webhook secret is empty');
  return [trimmed];
}

/** Secrets from a comma-separated list (`DATASAUR_WEBHOOK_SECRET` in the local stack). */
export function parseSecretList(value: string): string[] {
  const secrets = value
    .split(',')
    .map((secret) => secret.trim())
    .filter((secret) => secret.length > 0);
  if (secrets.length === 0) throw new Error('DATASAUR_WEBHOOK_SECRET is empty');
  return secrets;
}

export function staticSecrets(secrets: readonly string[]): SecretSource {
  return async () => secrets;
}
