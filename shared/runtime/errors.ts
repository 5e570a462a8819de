/** Errors callers branch on, each carrying the HTTP status it maps to. */

export abstract class WebhookError extends Error {
  abstract readonly statusCode: number;
  /** What the sender is told; the log gets `message`, which may say more. */
  abstract readonly publicMessage: string;
}

/** The base of a `WebhookError` class: its name, its status and what the sender is told. */
function webhookError(name: string, statusCode: number, publicMessage: string) {
  return class extends WebhookError {
    override readonly name = name;
    readonly statusCode = statusCode;
    readonly publicMessage = publicMessage;
  };
}

export class RouteNotFoundError extends webhookError('RouteNotFoundError', 404, 'Not Found') {}

export class MethodNotAllowedError extends webhookError(
  'MethodNotAllowedError',
  405,
  'Method Not Allowed',
) {}

// Nothing about which check failed: that would help someone forging signatures.
export class InvalidSignatureError extends webhookError(
  'InvalidSignatureError',
  401,
  'Unauthorized',
) {}

export class PayloadTooLargeError extends webhookError(
  'PayloadTooLargeError',
  413,
  'Payload Too Large',
) {}

/** The event could not be made durable (queue or secret store unavailable): retry later. */
export class ServiceUnavailableError extends webhookError(
  'ServiceUnavailableError',
  503,
  'Service Unavailable',
) {}

/** One line naming an error, for logs and messages: `TimeoutError: socket hang up`. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
