/**
 * Builds the API Gateway HTTP API (payload format 2.0) event Lambda would receive, so the
 * local server and the tests call the ingest handler exactly as AWS does.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

export interface HttpRequestParts {
  readonly method: string;
  /** Path with an optional query string, as on the request line. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly body: Buffer;
  readonly sourceIp?: string;
  readonly receivedAt?: Date;
}

/** Content types API Gateway passes as text; any other body arrives base64-encoded. */
const TEXT_CONTENT =
  /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded)|[^;]*\+json)/i;

export function toApiGatewayEvent(request: HttpRequestParts): APIGatewayProxyEventV2 {
  const [rawPath = '/', rawQueryString = ''] = request.url.split('?', 2);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    // HTTP API lower-cases header names and joins repeated headers with commas.
    headers[name.toLowerCase()] = typeof value === 'string' ? value : value.join(',');
  }
  const receivedAt = request.receivedAt ?? new Date();
  // Bytes that are not valid UTF-8 travel as base64 so none are lost on the way.
  const isText =
    TEXT_CONTENT.test(headers['content-type'] ?? '') &&
    Buffer.from(request.body.toString('utf8'), 'utf8').equals(request.body);
  const method = request.method.toUpperCase();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    headers,
    requestContext: {
      accountId: '123456789012',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method,
        path: rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: request.sourceIp ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: receivedAt.toUTCString(),
      timeEpoch: receivedAt.getTime(),
    },
    ...(request.body.length > 0
      ? {
          body: isText ? request.body.toString('utf8') : request.body.toString('base64'),
          isBase64Encoded: !isText,
        }
      : { isBase64Encoded: false }),
  };
}
