/**
 * The Datasaur API credentials as kept in Secrets Manager: JSON
 * `{"clientId": "…", "clientSecret": "…"}` (created in Datasaur's workspace settings,
 * "Credentials"). The deployed stack creates the secret empty; the operator fills it.
 */
import { checkedSecret } from '../runtime/secrets.ts';
import type { DatasaurCredentials } from './get-access-token.ts';

export const DATASAUR_CREDENTIALS_TEMPLATE = '{"clientId": "", "clientSecret": ""}';

/** The secret holds no credentials yet (as the stack created it). */
export class CredentialsMissingError extends Error {
  override readonly name = 'CredentialsMissingError';
}

/**
 * The secret holds something, but not credentials anyone could use (not JSON, a client secret
 * too short): like refused credentials, only a corrected secret changes the answer.
 */
export class CredentialsMalformedError extends Error {
  override readonly name = 'CredentialsMalformedError';
}

export function parseDatasaurCredentials(value: string): DatasaurCredentials {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new CredentialsMalformedError(
      'the Datasaur credentials secret must be JSON {"clientId": "…", "clientSecret": "…"}',
    );
  }
  const { clientId, clientSecret } = (parsed ?? {}) as {
    clientId?: unknown;
    clientSecret?: unknown;
  };
  if (
    typeof clientId !== 'string' ||
    clientId.trim() === '' ||
    typeof clientSecret !== 'string' ||
    clientSecret.trim() === ''
  ) {
    throw new CredentialsMissingError(
      "the Datasaur credentials secret has no clientId or clientSecret: put the API credentials from Datasaur's workspace settings in it",
    );
  }
  let checked: string;
  try {
    checked = checkedSecret(clientSecret, "the Datasaur credentials secret's clientSecret");
  } catch (error) {
    throw new CredentialsMalformedError(error instanceof Error ? error.message : String(error));
  }
  return { clientId: clientId.trim(), clientSecret: checked };
}
