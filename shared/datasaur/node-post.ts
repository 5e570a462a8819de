/**
 * One POST through `node:http`/`node:https`, answered in the part of `fetch`'s shape the
 * Datasaur client reads (`ok`, `status`, `headers.get`, `text()`). The functions used Node's
 * global `fetch`, whose first call loads undici: 18 ms more than `node:https` on Node 24 and
 * 50 ms more on Node 20, at every cold start of the functions that call Datasaur (issue 27,
 * docs/performance.md). Kept-alive sockets closed after 4 s idle (sooner when the server's
 * `Keep-Alive` says so), as `fetch`'s: a socket kept longer may have been dropped by the other
 * end or a NAT in between, and the next request on it fails. Unlike `fetch`, a redirect is not
 * followed (Datasaur's API answers where it is asked, and credentials are not sent on) and no
 * compressed answer is asked for.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** What the client sends: a POST with its headers and body, cancelled through `signal`. */
export interface PostInit {
  readonly method: 'POST';
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly signal?: AbortSignal;
}

/** What the client reads of an answer; a `fetch` `Response` has it too. */
export interface PostAnswer {
  readonly ok: boolean;
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/** `fetch` itself fits: the tests hand one in to count or break requests. */
export type Post = (url: string, init: PostInit) => Promise<PostAnswer>;

/** undici's `keepAliveTimeout`; an agent's `timeout` closes idle sockets, not answers slow to come. */
const IDLE_SOCKET_MS = 4_000;

let agents: { readonly http: HttpAgent; readonly https: HttpsAgent } | undefined;

/** The answer's headers as `Headers.get` reads them: one value, repeated ones joined by ", ". */
function headerGetter(headers: IncomingMessage['headers']): PostAnswer['headers'] {
  return {
    get(name) {
      const value = headers[name.toLowerCase()];
      if (value === undefined) return null;
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

export const nodePost: Post = async (url, init) => {
  const target = new URL(url);
  if (target.protocol !== 'https:' && target.protocol !== 'http:') {
    throw new TypeError(`not an http(s) URL: ${target.protocol}`);
  }
  agents ??= {
    http: new HttpAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS }),
    https: new HttpsAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS }),
  };
  const secure = target.protocol === 'https:';
  const send = secure ? httpsRequest : httpRequest;
  return await new Promise<PostAnswer>((resolve, reject) => {
    const request = send(
      target,
      {
        method: init.method,
        headers: {
          // What fetch sent besides the caller's headers (an API behind a bot filter may refuse
          // a request that names no client).
          accept: '*/*',
          'user-agent': 'datasaur-webhooks',
          ...init.headers,
          'content-length': String(Buffer.byteLength(init.body)),
        },
        agent: secure ? agents?.https : agents?.http,
        ...(init.signal === undefined ? {} : { signal: init.signal }),
      },
      (response) => {
        // Read as it arrives, so the socket is free for the next request once this one is.
        const chunks: Buffer[] = [];
        const body = new Promise<string>((resolveBody, rejectBody) => {
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolveBody(Buffer.concat(chunks).toString('utf8')));
          response.on('error', rejectBody);
          response.on('close', () => {
            if (!response.complete) rejectBody(new Error('the answer was cut off'));
          });
        });
        // Rejected with the request when nobody reads it yet: not an unhandled rejection.
        body.catch(() => undefined);
        const status = response.statusCode ?? 0;
        resolve({
          ok: status >= 200 && status < 300,
          status,
          headers: headerGetter(response.headers),
          text: () => body,
        });
      },
    );
    request.on('error', reject);
    request.end(init.body);
  });
};
