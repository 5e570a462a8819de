/**
 * The local server routes as the deployed API does (docs/flood.md): only POST and PUT on a live
 * token's path reach the ingest handler; every other request gets API Gateway's own 404 and
 * the handler is never called. The handler here only counts its calls: the test is about the
 * server's routing, and a real ingest behind it is covered by test/local-stack.test.ts.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLocalHttpServer } from '../scripts/local/http-server.ts';
import { WEBHOOK_PATH, webhookPath } from '../shared/webhook/route.ts';
import { TEST_SECRETS } from './support/test-secrets.ts';

const TOKEN = TEST_SECRETS.pathToken;
const PREVIOUS = TEST_SECRETS.previousPathToken;

let server: Server;
let origin: string;
const reached: APIGatewayProxyEventV2[] = [];

beforeAll(async () => {
  server = createLocalHttpServer({
    handler: async (event) => {
      reached.push(event);
      return { statusCode: 202, body: '{}' };
    },
    webhookPathTokens: [TOKEN, PREVIOUS],
    onError: (error) => {
      throw error;
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  reached.length = 0;
});

describe('the local server routes like the deployed API', () => {
  it.each([
    ['the path without a token', 'POST', WEBHOOK_PATH],
    ['a wrong token', 'POST', webhookPath('someone-guessed-a-token-00')],
    ['the token with a trailing slash', 'POST', `${webhookPath(TOKEN)}/`],
    ['the token one level deeper', 'POST', `${webhookPath(TOKEN)}/x`],
    ['another method on the token path', 'GET', webhookPath(TOKEN)],
    ['DELETE on the token path', 'DELETE', webhookPath(TOKEN)],
    ['the root', 'POST', '/'],
  ])('answers 404 Not Found to %s without calling the handler', async (_, method, path) => {
    const response = await fetch(`${origin}${path}`, {
      method,
      ...(method === 'GET' ? {} : { body: '{"eventType":"PROJECT_CREATED"}' }),
    });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ message: 'Not Found' });
    expect(reached).toHaveLength(0);
  });

  it.each([
    ['POST of the current token', 'POST', TOKEN],
    ['PUT of the current token', 'PUT', TOKEN],
    ['POST of the previous token, during a rotation', 'POST', PREVIOUS],
  ])('passes %s to the handler', async (_, method, token) => {
    const response = await fetch(`${origin}${webhookPath(token)}?a=1`, { method, body: '{}' });
    expect(response.status).toBe(202);
    expect(reached.map((event) => event.rawPath)).toEqual([webhookPath(token)]);
  });

  it('turns away a flood of requests without the token before any reaches the handler', async () => {
    const statuses = await Promise.all(
      Array.from({ length: 200 }, (_, index) =>
        fetch(`${origin}${WEBHOOK_PATH}/guess-${String(index).padStart(20, '0')}`, {
          method: 'POST',
          body: 'x'.repeat(1024),
        }).then((response) => response.status),
      ),
    );
    expect(new Set(statuses)).toEqual(new Set([404]));
    expect(reached).toHaveLength(0);
  });
});
