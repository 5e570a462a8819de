/**
 * The webhook secret of the local stack when `DATASAUR_WEBHOOK_SECRET` is not set: generated
 * once, kept under DATA_DIR (readable by its owner only), and shared by `npm start` and
 * `npm run send` so both sign and verify with the same value.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const DEV_SECRET_FILE = 'webhook-secret';

export interface WebhookSecrets {
  /** Secrets accepted; the first is the one senders sign with. */
  readonly secrets: readonly string[];
  /** Where they came from, for the start-up banner. */
  readonly origin: string;
}

export function devSecretPath(dataDir: string): string {
  return join(dataDir, DEV_SECRET_FILE);
}

/** The saved dev secret, or undefined when `npm start` has not created one yet. */
export function readDevSecret(dataDir: string): string | undefined {
  try {
    const secret = readFileSync(devSecretPath(dataDir), 'utf8').trim();
    return secret === '' ? undefined : secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** The secrets `npm start` verifies with: the configured ones, else the dev secret (created on first use). */
export function resolveWebhookSecrets(
  configured: readonly string[] | undefined,
  dataDir: string,
): WebhookSecrets {
  if (configured !== undefined) {
    return { secrets: configured, origin: 'from DATASAUR_WEBHOOK_SECRET' };
  }
  const path = devSecretPath(dataDir);
  const existing = readDevSecret(dataDir);
  if (existing !== undefined) return { secrets: [existing], origin: `dev secret saved in ${path}` };
  const secret = `dev-${randomBytes(24).toString('hex')}`;
  // `wx` fails if the file appeared meanwhile, so two starts never disagree on the secret.
  writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  return { secrets: [secret], origin: `dev secret generated and saved in ${path}` };
}

/** The secret a sender signs with by default: the configured current one, else the dev secret. */
export function signingSecret(
  configured: readonly string[] | undefined,
  dataDir: string,
): string | undefined {
  return configured?.[0] ?? readDevSecret(dataDir);
}
