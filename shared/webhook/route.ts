/**
 * Where the webhook lives: `/webhooks/datasaur/<path token>`, POST and PUT only. The token is a
 * secret path segment, so a caller who does not know the URL is answered 404 by the router
 * (API Gateway, or the local server) without invoking the ingest and without spending the
 * webhook route's throttle. One definition for the CDK routes, the local server and the URL
 * a deployed stack registers with Datasaur (docs/flood.md).
 */

/** The fixed part of the path, before the token. */
export const WEBHOOK_PATH = '/webhooks/datasaur';
/** The methods of Datasaur's contract: events are POSTed, export deliveries PUT. */
export const WEBHOOK_METHODS = ['POST', 'PUT'] as const;
/**
 * A path token: 20 to 128 URL-safe characters (`openssl rand -hex 16` gives 32, 128 bits), so
 * it needs no escaping in a route key or a URL.
 */
export const PATH_TOKEN_PATTERN = /^[A-Za-z0-9_-]{20,128}$/;
/** What logs show instead of a token. */
const REDACTED_TOKEN = '{token}';

/** `/webhooks/datasaur/<token>`; throws on a token that is not `PATH_TOKEN_PATTERN`. */
export function webhookPath(token: string): string {
  if (!PATH_TOKEN_PATTERN.test(token)) {
    throw new Error(`a webhook path token must match ${PATH_TOKEN_PATTERN.source}`);
  }
  return `${WEBHOOK_PATH}/${token}`;
}

/** The API Gateway route keys of one token: `POST /webhooks/datasaur/<token>` and `PUT …`. */
export function webhookRouteKeys(token: string): string[] {
  return WEBHOOK_METHODS.map((method) => `${method} ${webhookPath(token)}`);
}

/**
 * The URL to register with Datasaur: the API's endpoint (the `ApiEndpoint` stack output, or
 * `http://host:port` locally) followed by the token's path.
 */
export function webhookUrl(apiEndpoint: string, token: string): string {
  return `${apiEndpoint.replace(/\/+$/, '')}${webhookPath(token)}`;
}

/**
 * True when `path` has the shape of a webhook path (`/webhooks/datasaur/` and one segment
 * shaped like a token). The ingest checks only the shape: which tokens are live is the
 * router's knowledge, and a request reaches the ingest only through a live one.
 */
export function isWebhookPath(path: string): boolean {
  const prefix = `${WEBHOOK_PATH}/`;
  return path.startsWith(prefix) && PATH_TOKEN_PATTERN.test(path.slice(prefix.length));
}

/**
 * 0.1.0's webhook path, with no token: routed only while a stack upgraded from 0.1.0 keeps it
 * (`keepReleasedWebhookRoute`) until Datasaur sends to the token's URL.
 */
export const RELEASED_WEBHOOK_PATH = WEBHOOK_PATH;

/**
 * What API Gateway does with a request, for the local server: `true` when the method and the
 * exact path match a route of one of the live tokens (the request goes to the ingest), `false`
 * when it answers 404 itself. Routes match exactly: no trailing slash, no other method.
 */
export function matchesWebhookRoute(
  method: string,
  path: string,
  liveTokens: readonly string[],
): boolean {
  const key = `${method.toUpperCase()} ${path}`;
  return liveTokens.some((token) => webhookRouteKeys(token).includes(key));
}

/** `path` with anything after `/webhooks/datasaur/` replaced, for log lines. */
export function redactWebhookPath(path: string): string {
  const prefix = `${WEBHOOK_PATH}/`;
  return path.startsWith(prefix) ? `${prefix}${REDACTED_TOKEN}` : path;
}

/** `url` with its path redacted as `redactWebhookPath` does, for lines a user may paste elsewhere. */
export function redactWebhookUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${redactWebhookPath(parsed.pathname)}`;
}

/** The `OperationName` of the current token's routes in the deployed API. */
export const CURRENT_ROUTE_OPERATION = 'DatasaurWebhook';
/** The `OperationName` of a previous token's routes, routed until Datasaur has the new URL. */
export const PREVIOUS_ROUTE_OPERATION = 'DatasaurWebhookPrevious';
/** The `OperationName` of 0.1.0's tokenless routes, kept during an upgrade from it. */
export const RELEASED_ROUTE_OPERATION = 'DatasaurWebhookReleased';

/** A route as API Gateway's `GetRoutes` lists it. */
export interface DeployedRoute {
  readonly RouteKey?: string | undefined;
  readonly OperationName?: string | undefined;
}

export interface DeployedWebhookUrls {
  /** The URL to register with Datasaur. */
  readonly current: string;
  /** The URL Datasaur may still use during a rotation. */
  readonly previous?: string;
  /** 0.1.0's URL, still routed during an upgrade from it (`keepReleasedWebhookRoute`). */
  readonly released?: string;
}

/**
 * The webhook URLs of a deployed stack, from what it exposes: its `ApiEndpoint` output and the
 * routes API Gateway lists for its `ApiId` output (`aws apigatewayv2 get-routes --api-id`,
 * or `GetRoutesCommand` of `@aws-sdk/client-apigatewayv2`). The token is in no stack output:
 * reading it takes `apigateway:GET` on the API. Throws when no current webhook route exists.
 */
export function deployedWebhookUrls(
  apiEndpoint: string,
  routes: readonly DeployedRoute[],
): DeployedWebhookUrls {
  const urlOf = (operation: string): string | undefined => {
    const prefix = `POST ${WEBHOOK_PATH}/`;
    const key = routes.find(
      (route) => route.OperationName === operation && route.RouteKey?.startsWith(prefix),
    )?.RouteKey;
    const token = key?.slice(prefix.length);
    return token === undefined || !PATH_TOKEN_PATTERN.test(token)
      ? undefined
      : webhookUrl(apiEndpoint, token);
  };
  const current = urlOf(CURRENT_ROUTE_OPERATION);
  if (current === undefined) {
    throw new Error(
      `the API has no POST ${WEBHOOK_PATH}/<token> route named ${CURRENT_ROUTE_OPERATION}: is this the webhook stack's API?`,
    );
  }
  const previous = urlOf(PREVIOUS_ROUTE_OPERATION);
  const released = routes.some(
    (route) =>
      route.OperationName === RELEASED_ROUTE_OPERATION &&
      route.RouteKey === `POST ${RELEASED_WEBHOOK_PATH}`,
  )
    ? `${apiEndpoint.replace(/\/+$/, '')}${RELEASED_WEBHOOK_PATH}`
    : undefined;
  return {
    current,
    ...(previous === undefined ? {} : { previous }),
    ...(released === undefined ? {} : { released }),
  };
}
