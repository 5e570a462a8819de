/** Datasaur-like API Gateway events for the ingest tests. */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { toApiGatewayEvent } from '../../scripts/local/api-gateway-event.ts';
import { webhookPath } from '../../shared/webhook/route.ts';
import { signBody } from '../../shared/webhook/signature.ts';
import { TEST_SECRETS } from './test-secrets.ts';

export const TEST_SECRET = TEST_SECRETS.current;

/** Headers as Datasaur's Node HTTP client sends them. */
export function datasaurHeaders(
  body: Buffer,
  signature: string | undefined,
): Record<string, string> {
  return {
    accept: 'application/json, text/plain, */*',
    'content-type': 'application/json',
    'content-length': String(body.length),
    'user-agent': 'Datasaur',
    ...(signature === undefined ? {} : { 'x-datasaur-signature': signature }),
  };
}

export interface SignedEventOptions {
  readonly method?: string;
  readonly path?: string;
  readonly secret?: string;
  /** Overrides the computed signature (`undefined` sends no header at all). */
  readonly signature?: string | undefined;
}

/** An API Gateway HTTP API event carrying `body`, signed with the test secret by default. */
export function signedEvent(
  body: Buffer | string,
  options: SignedEventOptions = {},
): APIGatewayProxyEventV2 {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const signature =
    'signature' in options ? options.signature : signBody(options.secret ?? TEST_SECRET, bytes);
  return toApiGatewayEvent({
    method: options.method ?? 'POST',
    url: options.path ?? webhookPath(TEST_SECRETS.pathToken),
    headers: datasaurHeaders(bytes, signature),
    body: bytes,
    sourceIp: '203.0.113.7',
  });
}
