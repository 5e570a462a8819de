/**
 * OAuth 2.0 client credentials: `POST {base}/api/oauth/token`, form-encoded. Refused
 * credentials throw CredentialsRefusedError; an outage throws what `postJson` throws.
 */
import { CredentialsRefusedError, DatasaurHttpError, refusesCredentials } from './errors.ts';
import { type HttpSettings, postJson } from './http.ts';

export interface DatasaurCredentials {
  readonly clientId: string;
  readonly clientSecret: string;
}

export interface AccessToken {
  readonly accessToken: string;
  /** Seconds the token is valid from when it was issued. */
  readonly expiresIn: number;
}

export async function getAccessToken(
  http: HttpSettings,
  baseUrl: string,
  credentials: DatasaurCredentials,
): Promise<AccessToken> {
  const url = `${baseUrl}/api/oauth/token`;
  const answer = await postJson(http, url, {
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({
      client_id: credentials.clientId,
      client_secret: credentials.clientSecret,
      grant_type: 'client_credentials',
    }).toString(),
  }).catch((error: unknown) => {
    if (error instanceof DatasaurHttpError && refusesCredentials(error)) {
      throw new CredentialsRefusedError(error.statusCode, error.url, error.body);
    }
    throw error;
  });
  const { access_token: accessToken, expires_in: expiresIn } = (answer ?? {}) as {
    access_token?: unknown;
    expires_in?: unknown;
  };
  if (typeof accessToken !== 'string' || accessToken === '') {
    throw new Error(`${url} answered without an access_token`);
  }
  return { accessToken, expiresIn: typeof expiresIn === 'number' ? expiresIn : 3600 };
}
