/** The webhook secrets in force: the current one and, during a rotation, the previous one. */

/**
 * The shortest secret accepted: a short one can be guessed, and then anyone can sign webhooks
 * (or use the API credentials). You choose the secret Datasaur signs with; the stack
 * generates a 48-character one, and one set by hand must be as hard to guess.
 */
export const MIN_SECRET_LENGTH = 16;

/** Trims `value` and refuses it when blank or shorter than MIN_SECRET_LENGTH, naming `what`. */
export function checkedSecret(value: string, what: string): string {
  const trimmed = value.trim();
  if (trimmed.length === 0) throw new Error(`${what} is empty`);
  if (trimmed.length < MIN_SECRET_LENGTH) {
    throw new Error(
      `${what} is ${trimmed.length} characters long; use at least ${MIN_SECRET_LENGTH} (a short secret can be guessed)`,
    );
  }
  return trimmed;
}

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
    if (typeof current !== 'string' || current.trim().length === 0) {
      throw new Error('the webhook secret JSON has no "current" value');
    }
    const secrets = [checkedSecret(current, 'the webhook secret\'s "current" value')];
    if (typeof previous === 'string' && previous.trim().length > 0) {
      secrets.push(checkedSecret(previous, 'the webhook secret\'s "previous" value'));
    }
    return secrets;
  }
  return [checkedSecret(trimmed, 'the webhook secret')];
}

/** Secrets from a comma-separated list (`DATASAUR_WEBHOOK_SECRET` in the local stack). */
export function parseSecretList(value: string): string[] {
  const secrets = value
    .split(',')
    .map((secret) => secret.trim())
    .filter((secret) => secret.length > 0);
  if (secrets.length === 0) throw new Error('DATASAUR_WEBHOOK_SECRET is empty');
  return secrets.map((secret, index) =>
    checkedSecret(secret, `secret ${index + 1} of DATASAUR_WEBHOOK_SECRET`),
  );
}

export function staticSecrets(secrets: readonly string[]): SecretSource {
  return async () => secrets;
}

/**
 * The string `read` returns, kept for `maxAgeSeconds` (0: read on every call), as Powertools
 * Parameters' cache kept it: one read per container and period, concurrent callers sharing
 * it. A secret without a string value (binary only) is kept too, and each call refuses it
 * naming `what`; a failed read is not kept.
 */
export function cachedSecretString(
  read: () => Promise<string | undefined>,
  maxAgeSeconds: number,
  what: string,
  now: () => number = Date.now,
): () => Promise<string> {
  let cached: { readonly value: string | undefined; readonly until: number } | undefined;
  let reading: Promise<string | undefined> | undefined;
  const fresh = async (): Promise<string | undefined> => {
    if (cached !== undefined && now() < cached.until) return cached.value;
    reading ??= Promise.resolve()
      .then(read)
      .then((value) => {
        const kept = typeof value === 'string' ? value : undefined;
        cached = { value: kept, until: now() + maxAgeSeconds * 1000 };
        return kept;
      })
      .finally(() => {
        reading = undefined;
      });
    return reading;
  };
  return async () => {
    const value = await fresh();
    if (value === undefined) throw new Error(`${what} has no string value`);
    return value;
  };
}

/**
 * The secrets `read` returns, parsed, its value kept for `maxAgeSeconds` (cachedSecretString).
 * A value that does not parse is kept too: each call refuses it without asking Secrets
 * Manager again.
 */
export function cachedSecretSource(
  read: () => Promise<string | undefined>,
  maxAgeSeconds: number,
  now: () => number = Date.now,
): SecretSource {
  const fresh = cachedSecretString(read, maxAgeSeconds, 'the webhook secret', now);
  return async () => parseSecretValue(await fresh());
}
