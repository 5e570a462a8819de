/**
 * The Datasaur API client: a cached OAuth token and GraphQL requests with it. The token is
 * reused until shortly before it expires, and fetched again once when Datasaur says it is
 * no longer valid (HTTP 401 or a GraphQL AuthenticationError), as Datasaur's own CLI does.
 */
import {
  DatasaurGraphqlError,
  type GraphqlErrorEntry,
  isAuthenticationFailure,
  isRefusedUndone,
  isTransient,
} from './errors.ts';
import { type AccessToken, type DatasaurCredentials, getAccessToken } from './get-access-token.ts';
import { DEFAULT_HTTP_SETTINGS, type HttpSettings, postJson } from './http.ts';

export const DEFAULT_DATASAUR_API_URL = 'https://app.datasaur.ai';

/**
 * Why `url` cannot be the Datasaur API's base URL, or undefined when it can: credentials and
 * tokens travel to it, so it must be `https`; plain `http` only to a loopback address (the
 * local stack's fake Datasaur).
 */
export function datasaurApiUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `datasaurApiUrl must be an https URL, got "${url}"`;
  }
  const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(parsed.hostname);
  if (parsed.protocol === 'https:' || (parsed.protocol === 'http:' && loopback)) return undefined;
  return `datasaurApiUrl must be an https URL (http only to 127.0.0.1 for the local stack), got "${url}"`;
}

/** A GraphQL document with the operation name it declares. */
export interface GraphqlOperation {
  readonly operationName: string;
  readonly query: string;
  /**
   * Each call starts work on Datasaur's side (an export job): after a timeout or a 5xx it
   * may have started, so the call is sent again only when Datasaur refused it (429).
   */
  readonly startsWork?: boolean;
}

export interface DatasaurClient {
  readonly baseUrl: string;
  /** Runs one operation and returns its `data`; GraphQL `errors` throw DatasaurGraphqlError. */
  request<TData>(operation: GraphqlOperation, variables: Record<string, unknown>): Promise<TData>;
}

export interface DatasaurClientOptions {
  /** @default https://app.datasaur.ai (self-hosted installs have their own) */
  readonly baseUrl?: string;
  /** Read when a token is needed, so a secret filled after deployment is picked up. */
  readonly credentials: DatasaurCredentials | (() => Promise<DatasaurCredentials>);
  /** Timeout, retries and backoff of each HTTP request. @default DEFAULT_HTTP_SETTINGS */
  readonly http?: Partial<HttpSettings>;
  /** Seconds before `expires_in` runs out when a token stops being reused. @default 60 */
  readonly tokenRefreshMarginSeconds?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

export function createDatasaurClient(options: DatasaurClientOptions): DatasaurClient {
  const baseUrl = (options.baseUrl ?? DEFAULT_DATASAUR_API_URL).replace(/\/+$/, '');
  const http: HttpSettings = { ...DEFAULT_HTTP_SETTINGS, ...options.http };
  const now = options.now ?? Date.now;
  const marginMs = (options.tokenRefreshMarginSeconds ?? 60) * 1000;
  const credentials =
    typeof options.credentials === 'function'
      ? options.credentials
      : () => Promise.resolve(options.credentials as DatasaurCredentials);

  let cached: { token: AccessToken; reuseUntil: number } | undefined;
  // Concurrent requests share one token request.
  let pending: Promise<string> | undefined;

  async function fetchToken(): Promise<string> {
    const issuedAt = now();
    const token = await getAccessToken(http, baseUrl, await credentials());
    // A very short-lived token is still used once rather than refreshed for every request.
    const lifetimeMs = token.expiresIn * 1000;
    cached = { token, reuseUntil: issuedAt + Math.max(lifetimeMs - marginMs, lifetimeMs / 2) };
    return token.accessToken;
  }

  function accessToken(): Promise<string> {
    if (cached !== undefined && now() < cached.reuseUntil) {
      return Promise.resolve(cached.token.accessToken);
    }
    pending ??= fetchToken().finally(() => {
      pending = undefined;
    });
    return pending;
  }

  async function post<TData>(
    token: string,
    operation: GraphqlOperation,
    variables: Record<string, unknown>,
  ): Promise<TData> {
    const retryable = operation.startsWork === true ? isRefusedUndone : isTransient;
    const answer = (await postJson(
      http,
      `${baseUrl}/graphql`,
      {
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          accept: 'application/json',
        },
        body: JSON.stringify({
          operationName: operation.operationName,
          variables,
          query: operation.query,
        }),
      },
      retryable,
    )) as { data?: TData; errors?: GraphqlErrorEntry[] } | null;
    if (answer?.errors !== undefined && answer.errors.length > 0) {
      throw new DatasaurGraphqlError(operation.operationName, answer.errors);
    }
    if (answer?.data === undefined || answer.data === null) {
      throw new DatasaurGraphqlError(operation.operationName, [{ message: 'answer has no data' }]);
    }
    return answer.data;
  }

  return {
    baseUrl,
    async request<TData>(operation: GraphqlOperation, variables: Record<string, unknown>) {
      const token = await accessToken();
      try {
        return await post<TData>(token, operation, variables);
      } catch (error) {
        if (!isAuthenticationFailure(error)) throw error;
        // Once: a second refusal with a brand-new token is a real credentials problem.
        if (cached?.token.accessToken === token) cached = undefined;
        return post<TData>(await accessToken(), operation, variables);
      }
    },
  };
}
