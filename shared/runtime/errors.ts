/** Errors callers branch on, each carrying the HTTP status it maps to. */

export abstract class WebhookError extends Error {
  abstract readonly statusCode: number;
  /** What the sender is told; the log gets `message`, which may say more. */
  abstract readonly publicMessage: string;
}

export class RouteNotFoundError extends WebhookError {
  override readonly name = 'RouteNotFoundError';
  readonly statusCode = 404;
  readonly publicMessage = 'Not Found';
}

export class MethodNotAllowedError extends WebhookError {
  override readonly name = 'MethodNotAllowedError';
  readonly statusCode = 405;
  readonly publicMessage = 'Method Not Allowed';
}

export class InvalidSignatureError extends WebhookError {
  override readonly name = 'InvalidSignatureError';
  readonly statusCode = 401;
  // Nothing about which check failed: that would help someone forging signatures.
  readonly publicMessage = 'Unauthorized';
}

export class PayloadTooLargeError extends WebhookError {
  override readonly name = 'PayloadTooLargeError';
  readonly statusCode = 413;
  readonly publicMessage = 'Payload Too Large';
}

/** The event could not be made durable (queue or secret store unavailable): retry later. */
export class ServiceUnavailableError extends WebhookError {
  override readonly name = 'ServiceUnavailableError';
  readonly statusCode = 503;
  readonly publicMessage = 'Service Unavailable';
}

/** One line naming an error, for logs and messages: `TimeoutError: socket hang up`. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
