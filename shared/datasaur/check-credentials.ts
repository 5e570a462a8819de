/**
 * Whether the credentials would work now, without running any operation: read them and ask
 * the token endpoint once. Missing, malformed and refused credentials are answers; an outage
 * throws.
 */
import { CredentialsMalformedError, CredentialsMissingError } from './credentials-secret.ts';
import { CredentialsRefusedError } from './errors.ts';
import { type DatasaurCredentials, getAccessToken } from './get-access-token.ts';
import { DEFAULT_HTTP_SETTINGS, type HttpSettings } from './http.ts';

export type CredentialsState = 'VALID' | 'CREDENTIALS_MISSING' | 'CREDENTIALS_INVALID';

export async function checkCredentials(
  baseUrl: string,
  credentials: () => Promise<DatasaurCredentials>,
  http: Partial<HttpSettings> = {},
): Promise<CredentialsState> {
  try {
    await getAccessToken(
      { ...DEFAULT_HTTP_SETTINGS, ...http },
      baseUrl.replace(/\/+$/, ''),
      await credentials(),
    );
    return 'VALID';
  } catch (error) {
    if (error instanceof CredentialsMissingError) return 'CREDENTIALS_MISSING';
    if (error instanceof CredentialsRefusedError || error instanceof CredentialsMalformedError) {
      return 'CREDENTIALS_INVALID';
    }
    throw error;
  }
}
