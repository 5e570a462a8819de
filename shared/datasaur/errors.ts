/** Errors the Datasaur API client throws; callers branch on them (retry, refresh, give up). */

/** Datasaur answered with an HTTP status other than 2xx. */
export class DatasaurHttpError extends Error {
  override readonly name: string = 'DatasaurHttpError';
  constructor(
    readonly statusCode: number,
    readonly url: string,
    /** The start of the answer's body, for the log. */
    readonly body: string,
    /** How long the answer's `Retry-After` asks to wait (a 429 or 503), in ms. */
    readonly retryAfterMs?: number,
  ) {
    super(`${url} answered HTTP ${statusCode}${body === '' ? '' : `: ${body}`}`);
  }
}

export interface GraphqlErrorEntry {
  readonly message: string;
  readonly extensions?: { readonly type?: string; readonly code?: string };
}

/**
 * The token endpoint refused the client credentials (HTTP 401, or 400 with an OAuth
 * `invalid_client`, `unauthorized_client` or `invalid_grant`): no retry helps until someone
 * corrects them. Distinct from an outage (5xx, network), which is retried.
 */
export class CredentialsRefusedError extends DatasaurHttpError {
  override readonly name = 'CredentialsRefusedError';
}

/** OAuth error codes that mean the client credentials themselves are wrong. */
const REFUSED_CREDENTIALS = /"error"\s*:\s*"(invalid_client|unauthorized_client|invalid_grant)"/;

/** True when a token endpoint's answer refuses the credentials rather than failing. */
export function refusesCredentials(error: DatasaurHttpError): boolean {
  return (
    error.statusCode === 401 || (error.statusCode === 400 && REFUSED_CREDENTIALS.test(error.body))
  );
}

/** A GraphQL answer carrying `errors` (Datasaur sends them with HTTP 200). */
export class DatasaurGraphqlError extends Error {
  override readonly name = 'DatasaurGraphqlError';
  constructor(
    readonly operationName: string,
    readonly errors: readonly GraphqlErrorEntry[],
  ) {
    super(`${operationName}: ${errors.map((error) => error.message).join('; ')}`);
  }

  /** Datasaur marks an expired or revoked token with `extensions.type` AuthenticationError. */
  get isAuthentication(): boolean {
    return this.errors.some((error) => error.extensions?.type === 'AuthenticationError');
  }
}

/** No answer within the per-request timeout. */
export class DatasaurTimeoutError extends Error {
  override readonly name = 'DatasaurTimeoutError';
  constructor(
    readonly url: string,
    readonly timeoutMs: number,
  ) {
    super(`${url} gave no answer within ${timeoutMs} ms`);
  }
}

/** The connection failed (refused, reset, DNS): the request may be retried. */
export class DatasaurNetworkError extends Error {
  override readonly name = 'DatasaurNetworkError';
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    super(
      `${url} could not be reached: ${cause instanceof Error ? cause.message : String(cause)}`,
      {
        cause,
      },
    );
  }
}

/** True for failures worth another attempt: 429, 5xx, timeouts and network errors. */
export function isTransient(error: unknown): boolean {
  if (error instanceof DatasaurHttpError) {
    return error.statusCode === 429 || error.statusCode >= 500;
  }
  return error instanceof DatasaurTimeoutError || error instanceof DatasaurNetworkError;
}

/**
 * True when Datasaur refused a request before doing anything (HTTP 429): the only failure
 * after which a request that starts work (an export) can be sent again without maybe
 * starting that work twice. A timeout or a 5xx may come after the work began.
 */
export function isRefusedUndone(error: unknown): boolean {
  return error instanceof DatasaurHttpError && error.statusCode === 429;
}

/** True when a fresh token may help: HTTP 401 or a GraphQL AuthenticationError. */
export function isAuthenticationFailure(error: unknown): boolean {
  return (
    (error instanceof DatasaurHttpError && error.statusCode === 401) ||
    (error instanceof DatasaurGraphqlError && error.isAuthentication)
  );
}
