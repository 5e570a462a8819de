/** API Gateway HTTP API (payload v2) adapter around `receiveWebhook`. */

import type { Logger } from '@aws-lambda-powertools/logger';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { describeError, PayloadTooLargeError, WebhookError } from '../../shared/runtime/errors.ts';
import type { SecretSource } from '../../shared/runtime/secrets.ts';
import type { BodyWriter } from '../../shared/webhook/claim-check.ts';
import { receiveWebhook, type WebhookRequest } from '../../shared/webhook/ingest.ts';
import type { QueueSender } from '../../shared/webhook/queue-sender.ts';
import { redactWebhookPath } from '../../shared/webhook/route.ts';

export interface IngestHandlerDependencies {
  /** SQS's SendMessage: the light client in Lambda, the SDK's in tests and tools. */
  readonly sqs: QueueSender;
  readonly queueUrl: string;
  /** The archive bucket's `bodies/`, for bodies too large to queue inline. */
  readonly bodies: BodyWriter;
  readonly secrets: SecretSource;
  readonly maxBodyBytes: number;
  /** Take 0.1.0's tokenless path too, while the stack routes it. @default false */
  readonly acceptReleasedPath?: boolean;
  /** Powertools Logger in Lambda; anything with the same three methods in tests. */
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>;
}

/** The context is Lambda's; the handler reads none of it (its logger's wrapper does). */
export type IngestHandler = (
  event: APIGatewayProxyEventV2,
  context?: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

export function createIngestHandler(dependencies: IngestHandlerDependencies): IngestHandler {
  const { sqs, queueUrl, logger } = dependencies;
  const enqueue = async (messageBody: string): Promise<void> => {
    await sqs.sendMessage({ QueueUrl: queueUrl, MessageBody: messageBody });
  };

  return async (event) => {
    const request = toWebhookRequest(event);
    // The path carries the secret token: logs show its shape only.
    const log = {
      method: request.method,
      path: redactWebhookPath(request.path),
      bytes: request.body.length,
    };
    try {
      const accepted = await receiveWebhook(request, {
        enqueue,
        bodies: dependencies.bodies,
        secrets: dependencies.secrets,
        maxBodyBytes: dependencies.maxBodyBytes,
        acceptReleasedPath: dependencies.acceptReleasedPath === true,
      });
      logger.info('webhook accepted', {
        ...log,
        status: accepted.statusCode,
        eventId: accepted.eventId,
        ...(accepted.bodyObject === undefined ? {} : { bodyKey: accepted.bodyObject.key }),
      });
      return json(accepted.statusCode, accepted.responseBody);
    } catch (error) {
      if (error instanceof WebhookError) {
        const level = error.statusCode >= 500 ? 'error' : 'warn';
        logger[level]('webhook refused', {
          ...log,
          status: error.statusCode,
          reason: error.message,
          ...(error instanceof PayloadTooLargeError
            ? { maxBodyBytes: dependencies.maxBodyBytes }
            : {}),
        });
        return json(error.statusCode, { message: error.publicMessage });
      }
      logger.error('webhook failed', { ...log, status: 500, error: describeError(error) });
      return json(500, { message: 'Internal Server Error' });
    }
  };
}

/** Reads what the contract needs from the event, tolerating any field API Gateway omits. */
export function toWebhookRequest(event: Partial<APIGatewayProxyEventV2>): WebhookRequest {
  const http = event.requestContext?.http;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (typeof value === 'string') headers[name.toLowerCase()] = value;
  }
  const body =
    typeof event.body === 'string'
      ? Buffer.from(event.body, event.isBase64Encoded === true ? 'base64' : 'utf8')
      : Buffer.alloc(0);
  const requestTime = new Date(event.requestContext?.timeEpoch ?? Number.NaN);
  return {
    method: http?.method ?? '',
    path: event.rawPath ?? http?.path ?? '',
    headers,
    body,
    requestId: event.requestContext?.requestId ?? '',
    sourceIp: http?.sourceIp ?? '',
    receivedAt: Number.isNaN(requestTime.getTime()) ? new Date() : requestTime,
  };
}

function json(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  };
}
