/**
 * The Datasaur client's transport (shared/datasaur/node-post.ts) against real local servers:
 * what it sends, what it answers, and an answer that stalls or is cut off. The client's
 * retries, timeouts and errors over it are in test/datasaur-client.test.ts.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DatasaurNetworkError, DatasaurTimeoutError } from '../shared/datasaur/errors.ts';
import { DEFAULT_HTTP_SETTINGS, postJson } from '../shared/datasaur/http.ts';
import { nodePost } from '../shared/datasaur/node-post.ts';

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

async function serve(handle: (request: IncomingMessage, response: ServerResponse) => void) {
  const server = createServer(handle);
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
}

const post = (url: string, signal?: AbortSignal) =>
  nodePost(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer t' },
    body: '{"query":"é"}',
    ...(signal === undefined ? {} : { signal }),
  });

describe('a POST through node:http', () => {
  it('sends the method, headers and body, and answers the status, headers and text', async () => {
    let received: { method?: string; headers?: IncomingMessage['headers']; body?: string } = {};
    const url = await serve((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received = {
          method: request.method,
          headers: request.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        response.writeHead(200, { 'content-type': 'application/json', 'x-multi': ['a', 'b'] });
        response.end('{"data":{"ok":"ü"}}');
      });
    });
    const answer = await post(url);
    expect(answer.ok).toBe(true);
    expect(answer.status).toBe(200);
    expect(await answer.text()).toBe('{"data":{"ok":"ü"}}');
    expect(answer.headers.get('Content-Type')).toBe('application/json');
    expect(answer.headers.get('x-multi')).toBe('a, b');
    expect(answer.headers.get('retry-after')).toBeNull();
    expect(received.method).toBe('POST');
    expect(received.body).toBe('{"query":"é"}');
    expect(received.headers).toMatchObject({
      'content-type': 'application/json',
      authorization: 'Bearer t',
      // In bytes: "é" is two.
      'content-length': '14',
      accept: '*/*',
      'user-agent': 'datasaur-webhooks',
    });
  });

  it('answers an error status as not ok, with its Retry-After, and follows no redirect', async () => {
    const url = await serve((request, response) => {
      request.resume();
      if (request.url === '/graphql') {
        response.writeHead(503, { 'retry-after': '7' });
        response.end('busy');
      } else {
        response.writeHead(307, { location: '/graphql' });
        response.end();
      }
    });
    const busy = await post(url);
    expect(busy).toMatchObject({ ok: false, status: 503 });
    expect(busy.headers.get('retry-after')).toBe('7');
    expect(await busy.text()).toBe('busy');
    const moved = await post(url.replace('/graphql', '/moved'));
    expect(moved).toMatchObject({ ok: false, status: 307 });
    expect(moved.headers.get('location')).toBe('/graphql');
  });

  it('gives up on an answer that stalls when its signal aborts, and on one cut off', async () => {
    const url = await serve((request, response) => {
      request.resume();
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"data":');
      // Then nothing (stalled), or the connection closed before the last chunk: a FIN after
      // the data, so the headers always arrive first.
      if (request.url === '/graphql?cut') response.socket?.end();
    });
    const controller = new AbortController();
    const stalled = await post(url, controller.signal);
    const text = stalled.text();
    controller.abort();
    await expect(text).rejects.toThrow();
    const cut = await post(`${url}?cut`);
    expect(cut.status).toBe(200);
    await expect(cut.text()).rejects.toThrow();
  });

  it("is the client's default, whose errors say a timeout or a network failure", async () => {
    const url = await serve((request, response) => {
      request.resume();
      if (request.url === '/graphql?cut') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.write('{"data":');
        response.socket?.end();
      } else if (request.url === '/graphql?headers') {
        // Never answers: the attempt's timeout aborts it.
      } else {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.write('{"data":');
      }
    });
    expect(DEFAULT_HTTP_SETTINGS.fetch).toBe(nodePost);
    const settings = { ...DEFAULT_HTTP_SETTINGS, timeoutMs: 200, maxAttempts: 1 };
    const init = { headers: { 'content-type': 'application/json' }, body: '{}' };
    // No answer at all, and an answer whose body stalls.
    await expect(postJson(settings, `${url}?headers`, init)).rejects.toBeInstanceOf(
      DatasaurTimeoutError,
    );
    await expect(postJson(settings, url, init)).rejects.toBeInstanceOf(DatasaurTimeoutError);
    await expect(postJson(settings, `${url}?cut`, init)).rejects.toBeInstanceOf(
      DatasaurNetworkError,
    );
    // Nothing listening.
    const closed = await serve(() => undefined);
    servers.pop()?.close();
    await expect(postJson(settings, closed, init)).rejects.toBeInstanceOf(DatasaurNetworkError);
  });

  it('refuses a URL that is not http or https before sending anything', async () => {
    await expect(post('file:///etc/passwd')).rejects.toThrow(TypeError);
  });
});
