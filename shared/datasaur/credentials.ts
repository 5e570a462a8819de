/** Datasaur API credentials as stored in the Secrets Manager secret the stack creates. */
import type { DatasaurCredentials } from './get-access-token.ts';

/** Created empty by the stack; the user fills it with the client id and secret. */
export const EMPTY_CREDENTIALS_SECRET = '{"clientId":"","clientSecret":""}';

/** The secret still holds no credentials (as the stack created it). */
export class CredentialsMissingError extends Error {
  override readonly name = 'CredentialsMissingError';
}

/** Reads `{"clientId","clientSecret"}`; an empty or malformed secret says how to fill it. */
export function parseDatasaurCredentials(value: string, secretName: string): DatasaurCredentials {
  const howToFill = `fill the secret ${secretName} with {"clientId":"…","clientSecret":"…"} from Datasaur's workspace settings (Credentials)`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new Error(`the Datasaur credentials are not JSON: ${howToFill}`);
  }
  const { clientId, clientSecret } = (parsed ?? {}) as {
    clientId?: unknown;
    clientSecret?: unknown;
  };
  if (
    typeof clientId !== 'string' ||
    clientId === '' ||
    typeof clientSecret !== 'string' ||
    clientSecret === ''
  ) {
    throw new CredentialsMissingError(`the Datasaur credentials are empty: ${howToFill}`);
  }
  return { clientId, clientSecret };
}
