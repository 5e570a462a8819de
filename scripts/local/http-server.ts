/**
 * The local stand-in for API Gateway: each HTTP request becomes an HTTP API v2 event for the
 * same ingest handler Lambda runs, and its result becomes the HTTP response. Its routing and
 * limits are AWS's: 404 "Not Found" for anything but POST and PUT on a live token's path
 * (`matchesWebhookRoute`, the rule the CDK routes are built from), 413 for a body above
 * 10 MiB, and 413 "Request Too Long" when the event would exceed what a synchronous Lambda
 * invocation carries; none of them invokes the handler.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { IngestHandler } from '../../functions/ingest/handler.ts';
import { PayloadTooLargeError } from '../../shared/runtime/errors.ts';
import { API_GATEWAY_MAX_BODY_BYTES, LAMBDA_MAX_EVENT_BYTES } from '../../shared/webhook/ingest.ts';
import { matchesWebhookRoute } from '../../shared/webhook/route.ts';
import { toApiGatewayEvent } from './api-gateway-event.ts';

export interface LocalHttpServerOptions {
  readonly handler: IngestHandler;
  /** Path tokens routed to the handler (current, and previous during a rotation). */
  readonly webhookPathTokens: readonly string[];
  /** Called when the handler itself throws, which it is written never to do. */
  readonly onError: (error: unknown) => void;
}

export function createLocalHttpServer(options: LocalHttpServerOptions): Server {
  return createServer((request, response) => {
    serve(request, response, options).catch((error: unknown) => {
      options.onError(error);
      if (!response.headersSent) writeJson(response, 500, { message: 'Internal Server Error' });
      else response.destroy();
    });
  });
}

async function serve(
  request: IncomingMessage,
  response: ServerResponse,
  options: LocalHttpServerOptions,
): Promise<void> {
  const receivedAt = new Date();
  const [path = '/'] = (request.url ?? '/').split('?', 1);
  if (!matchesWebhookRoute(request.method ?? 'GET', path, options.webhookPathTokens)) {
    // API Gateway's own answer to a request no route matches.
    request.resume();
    writeJson(response, 404, { message: 'Not Found' });
    return;
  }
  const body = await readBody(request, API_GATEWAY_MAX_BODY_BYTES);
  if (body === undefined) {
    writeJson(response, 413, { message: new PayloadTooLargeError('').publicMessage });
    return;
  }
  const event = toApiGatewayEvent({
    method: request.method ?? 'GET',
    url: request.url ?? '/',
    headers: request.headers,
    body,
    sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
    receivedAt,
  });
  if (Buffer.byteLength(JSON.stringify(event)) > LAMBDA_MAX_EVENT_BYTES) {
    // What API Gateway answers when Lambda refuses the invocation for its size.
    writeJson(response, 413, { message: 'Request Too Long' });
    return;
  }
  writeResult(response, await options.handler(event));
}

/**
 * The whole body, or undefined as soon as it exceeds `limit` bytes; the rest is then read and
 * dropped, so the sender gets the answer rather than a connection cut mid-upload.
 */
function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    request.resume();
    return Promise.resolve(undefined);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        request.off('data', onData);
        request.resume();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    request.on('data', onData);
    request.once('end', () => resolve(Buffer.concat(chunks)));
    request.once('error', reject);
  });
}

function writeResult(response: ServerResponse, result: APIGatewayProxyStructuredResultV2): void {
  for (const [name, value] of Object.entries(result.headers ?? {})) {
    response.setHeader(name, String(value));
  }
  if (result.cookies?.length) response.setHeader('set-cookie', result.cookies);
  const body = Buffer.from(result.body ?? '', result.isBase64Encoded ? 'base64' : 'utf8');
  response.statusCode = result.statusCode ?? 200;
  response.setHeader('content-length', body.length);
  response.end(body);
}

function writeJson(response: ServerResponse, statusCode: number, body: unknown): void {
  writeResult(response, {
    statusCode,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}
