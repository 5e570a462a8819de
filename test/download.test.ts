/**
 * The exporter's download policy against real local servers (HTTP and HTTPS with a
 * self-signed certificate made by openssl). There is no public internet here: to reach the
 * "https on a public address" paths, a test injects the socket's resolver (a name maps to
 * 127.0.0.1) and tells the policy that 127.0.0.1 is public (`rangeOf`); each such test says
 * so. Every other test uses the real address classification.
 */

import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, LookupFunction } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import ipaddr from 'ipaddr.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addressRefusal,
  type DownloadConnection,
  DownloadDeadlineError,
  type DownloadPolicy,
  DownloadStalledError,
  openDownload,
  TooLargeError,
  UrlRefusedError,
} from '../shared/export/download.ts';

const HOST = 'files.example.test';
type Handler = (request: IncomingMessage, response: ServerResponse) => void;

let certificate: string;
let httpsPort: number;
let httpPort: number;
const hits: string[] = [];
let route: Handler = (_request, response) => response.end('zip bytes');
let closeAll: () => Promise<void>;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'download-test-'));
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
      ...['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1'],
      ...['-subj', `/CN=${HOST}`, '-addext', `subjectAltName=DNS:${HOST},IP:127.0.0.1`],
    ],
    { stdio: 'ignore' },
  );
  certificate = readFileSync(join(dir, 'cert.pem'), 'utf8');
  const key = readFileSync(join(dir, 'key.pem'), 'utf8');
  rmSync(dir, { recursive: true, force: true });
  const handle: Handler = (request, response) => {
    hits.push(String(request.url));
    route(request, response);
  };
  const https = createHttpsServer({ key, cert: certificate }, handle);
  const http = createHttpServer(handle);
  await Promise.all([
    new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve)),
    new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve)),
  ]);
  httpsPort = (https.address() as AddressInfo).port;
  httpPort = (http.address() as AddressInfo).port;
  closeAll = async () => {
    https.closeAllConnections();
    http.closeAllConnections();
    await Promise.all([
      new Promise((resolve) => https.close(resolve)),
      new Promise((resolve) => http.close(resolve)),
    ]);
  };
});
afterAll(() => closeAll());

const POLICY: DownloadPolicy = { maxBytes: 1_000_000 };

/** A resolver that answers `address` for every name, counting its calls. */
function resolverTo(...answers: string[]): LookupFunction & { calls: number } {
  const lookup = ((_hostname, options, callback) => {
    const address = answers[Math.min(lookup.calls, answers.length - 1)] as string;
    lookup.calls += 1;
    const family = address.includes(':') ? 6 : 4;
    if (options.all === true) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as LookupFunction & { calls: number };
  lookup.calls = 0;
  return lookup;
}

/** Test only: the name resolves to the local server, and the policy is told 127.0.0.1 is public. */
function asPublicHost(): DownloadConnection & { lookup: ReturnType<typeof resolverTo> } {
  return {
    lookup: resolverTo('127.0.0.1'),
    ca: certificate,
    rangeOf: (address) => (address === '127.0.0.1' ? 'unicast' : ipaddr.process(address).range()),
  };
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(UrlRefusedError);
  return (error as Error).message;
}

describe('address classification', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['169.254.169.254', 'linkLocal'],
    ['169.254.170.2', 'linkLocal'],
    ['::ffff:169.254.169.254', 'linkLocal'],
    ['fe80::1', 'linkLocal'],
    ['10.0.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['192.168.1.1', 'private'],
    ['fd12:3456::1', 'uniqueLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    // IPv4-compatible IPv6 (ipaddr.js calls it unicast): 127.0.0.1 and the metadata address.
    ['::7f00:1', 'ipv4Compatible'],
    ['::a9fe:a9fe', 'ipv4Compatible'],
    ['fd00:ec2::254', 'instanceMetadata'],
  ])('refuses %s (%s)', (address, range) => {
    expect(addressRefusal(address, {})).toBe(`${address} is a ${range} address, not a public one`);
  });

  it('admits public IPv4 and IPv6 addresses', () => {
    expect(addressRefusal('93.184.216.34', {})).toBeUndefined();
    expect(addressRefusal('2606:4700:4700::1111', {})).toBeUndefined();
  });

  it('admits private, unique-local and CGNAT addresses only with allowPrivateHosts, never loopback or metadata', () => {
    const policy = { allowPrivateHosts: true };
    for (const address of ['10.0.0.1', '192.168.1.1', 'fd12:3456::1', '100.64.0.1']) {
      expect(addressRefusal(address, policy)).toBeUndefined();
    }
    for (const address of [
      '127.0.0.1',
      '::1',
      '169.254.169.254',
      'fd00:ec2::254',
      'fe80::1',
      '0.0.0.0',
      '::7f00:1',
    ]) {
      expect(addressRefusal(address, policy)).toBeDefined();
    }
  });
});

describe('openDownload', () => {
  it('downloads from an https host on a public address (test resolver and classification)', async () => {
    route = (_request, response) => response.end('zip bytes');
    const response = await openDownload(
      `https://${HOST}:${httpsPort}/f.zip`,
      POLICY,
      asPublicHost(),
    );
    expect(response.status).toBe(200);
    expect(await text(response.body as NodeJS.ReadableStream)).toBe('zip bytes');
  });

  it('refuses http, with no connection made', async () => {
    hits.length = 0;
    const message = await refusal(
      openDownload(`http://${HOST}:${httpPort}/f.zip`, POLICY, asPublicHost()),
    );
    expect(message).toContain('scheme http: is not https');
    expect(hits).toEqual([]);
  });

  it('refuses a literal loopback, metadata or IPv4-mapped address, with no connection made', async () => {
    hits.length = 0;
    for (const url of [
      `https://127.0.0.1:${httpsPort}/f.zip`,
      `https://[::ffff:127.0.0.1]:${httpsPort}/f.zip`,
      `https://[::1]:${httpsPort}/f.zip`,
      'https://169.254.169.254/latest/meta-data/',
      `https://0x7f000001:${httpsPort}/f.zip`,
    ]) {
      expect(await refusal(openDownload(url, POLICY, { ca: certificate }))).toMatch(
        /not a public one/,
      );
    }
    expect(hits).toEqual([]);
  });

  it('refuses a name that resolves to loopback, checked in the connection itself', async () => {
    hits.length = 0;
    const lookup = resolverTo('127.0.0.1');
    const message = await refusal(
      openDownload(`https://${HOST}:${httpsPort}/f.zip`, POLICY, { lookup, ca: certificate }),
    );
    expect(message).toContain(`${HOST} resolves to 127.0.0.1 is a loopback address`);
    expect(lookup.calls).toBe(1);
    expect(hits).toEqual([]);
  });

  it('resolves a name once, in the connection: a second DNS answer (rebinding) never reaches the server', async () => {
    hits.length = 0;
    // First answer "public" (127.0.0.2, where nothing listens), any later one the server's
    // loopback address: a check made before the connection resolves again would be fooled.
    const lookup = resolverTo('127.0.0.2', '127.0.0.1');
    const connection = {
      lookup,
      ca: certificate,
      rangeOf: (address: string) => (address === '127.0.0.2' ? 'unicast' : 'loopback'),
    };
    await expect(
      openDownload(`https://${HOST}:${httpsPort}/f.zip`, POLICY, connection),
    ).rejects.toThrow(/ECONNREFUSED/);
    expect(lookup.calls).toBe(1);
    expect(hits).toEqual([]);
  });

  it('checks every redirect again: to instance metadata, to http, and no more than the limit', async () => {
    hits.length = 0;
    route = (request, response) => {
      const target = {
        '/to-metadata': 'https://169.254.169.254/latest/meta-data/',
        '/to-http': `http://${HOST}:${httpPort}/secret`,
        '/loop': '/loop',
        '/hop': '/f.zip',
      }[String(request.url)];
      if (target === undefined) response.end('zip bytes');
      else response.writeHead(302, { location: target }).end();
    };
    const base = `https://${HOST}:${httpsPort}`;
    expect(await refusal(openDownload(`${base}/to-metadata`, POLICY, asPublicHost()))).toBe(
      'redirect 1 to https://169.254.169.254 refused: 169.254.169.254 is a linkLocal address, not a public one',
    );
    expect(await refusal(openDownload(`${base}/to-http`, POLICY, asPublicHost()))).toContain(
      'scheme http: is not https',
    );
    expect(await refusal(openDownload(`${base}/loop`, POLICY, asPublicHost()))).toContain(
      'more than 3 redirects',
    );
    expect(hits).toEqual(['/to-metadata', '/to-http', '/loop', '/loop', '/loop', '/loop']);
    const followed = await openDownload(`${base}/hop`, POLICY, asPublicHost());
    expect(await text(followed.body as NodeJS.ReadableStream)).toBe('zip bytes');
  });

  it('refuses a file whose Content-Length passes the byte cap before reading it', async () => {
    route = (_request, response) => response.end('x'.repeat(101));
    const error = await openDownload(
      `https://${HOST}:${httpsPort}/big`,
      { maxBytes: 100 },
      asPublicHost(),
    ).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(TooLargeError);
    expect((error as Error).message).toBe('the file is 101 bytes, over the byte cap of 100 bytes');
  });

  it('fails the stream once a file sent without a length passes the byte cap', async () => {
    route = (_request, response) => {
      response.write('x'.repeat(60));
      response.end('x'.repeat(60));
    };
    const response = await openDownload(
      `https://${HOST}:${httpsPort}/chunked`,
      { maxBytes: 100 },
      asPublicHost(),
    );
    await expect(text(response.body as NodeJS.ReadableStream)).rejects.toThrow(
      'the file passed the byte cap of 100 bytes',
    );
  });

  it('closes the connection once the byte cap stops a file, rather than leave it to the server', async () => {
    let closed: Promise<unknown> | undefined;
    route = (_request, response) => {
      closed = once(response, 'close');
      // A file that would go on: the server never ends it by itself.
      response.write('x'.repeat(60));
      response.write('x'.repeat(60));
    };
    const response = await openDownload(
      `https://${HOST}:${httpsPort}/endless`,
      { maxBytes: 100 },
      asPublicHost(),
    );
    await expect(text(response.body as NodeJS.ReadableStream)).rejects.toThrow(
      'the file passed the byte cap of 100 bytes',
    );
    // Settles only once the client has closed its side: without it the test times out.
    expect(closed).toBeDefined();
    await closed;
  });

  it('downloads only from the allowed hosts when a list is given', async () => {
    route = (_request, response) => response.end('zip bytes');
    const url = `https://${HOST}:${httpsPort}/f.zip`;
    expect(
      await refusal(
        openDownload(url, { ...POLICY, allowedHosts: ['exports.datasaur.ai'] }, asPublicHost()),
      ),
    ).toContain(`host ${HOST} is not in the allowed hosts`);
    const allowed = await openDownload(
      url,
      { ...POLICY, allowedHosts: ['*.example.test'] },
      asPublicHost(),
    );
    expect(allowed.status).toBe(200);
    allowed.body.destroy();
  });

  it('admits a trusted origin (the local Datasaur API) as it is, and no other port of that host', async () => {
    route = (_request, response) => response.end('zip bytes');
    const policy = { ...POLICY, trustedOrigins: [`http://127.0.0.1:${httpPort}`] };
    const trusted = await openDownload(`http://127.0.0.1:${httpPort}/f.zip`, policy);
    expect(await text(trusted.body as NodeJS.ReadableStream)).toBe('zip bytes');
    expect(
      await refusal(
        openDownload(`https://127.0.0.1:${httpsPort}/f.zip`, policy, { ca: certificate }),
      ),
    ).toContain('loopback');
  });

  it('refuses what is not a URL, and a URL carrying a user name', async () => {
    expect(await refusal(openDownload('not a url', POLICY))).toBe('the file URL is not a URL');
    expect(
      await refusal(openDownload(`https://user:pw@${HOST}/f.zip`, POLICY, asPublicHost())),
    ).toContain('user name or password');
  });
});

describe('download clocks', () => {
  const URL_ = () => `https://${HOST}:${httpsPort}/slow.zip`;
  /** Whatever the body stream fails with (or undefined when it ends). */
  async function bodyFailure(body: NodeJS.ReadableStream): Promise<unknown> {
    return text(body).then(
      () => undefined,
      (error: unknown) => error,
    );
  }

  it('fails when the headers do not come within the first-byte timeout', async () => {
    // The server holds the request without answering until the connection goes away.
    route = () => {};
    const error = await openDownload(
      URL_(),
      { ...POLICY, firstByteTimeoutMs: 200 },
      asPublicHost(),
    ).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(String(error)).toContain('within 0.2 s');
  });

  it('keeps a body flowing past the first-byte timeout: only a gap longer than the stall timeout fails it', async () => {
    // 60 chunks 25 ms apart: 1.5 s of sending against 600 ms timeouts, each gap a 24th of
    // the stall timeout (room for a busy machine's scheduling).
    route = (_request, response) => {
      let sent = 0;
      const next = () => {
        sent += 1;
        if (sent === 60) return void response.end('x');
        response.write('x', () => setTimeout(next, 25));
      };
      next();
    };
    const response = await openDownload(
      URL_(),
      { ...POLICY, firstByteTimeoutMs: 600, stallTimeoutMs: 600 },
      asPublicHost(),
    );
    expect(await text(response.body)).toBe('x'.repeat(60));
  });

  it('fails the body with DownloadStalledError when bytes stop arriving', async () => {
    route = (_request, response) => response.write('half a file');
    const response = await openDownload(URL_(), { ...POLICY, stallTimeoutMs: 200 }, asPublicHost());
    const error = await bodyFailure(response.body);
    expect(error).toBeInstanceOf(DownloadStalledError);
    expect(String(error)).toContain('no bytes arrived for 0.2 s');
  });

  it('fails the body with DownloadDeadlineError once the overall deadline passes, however steadily it flows', async () => {
    const timers: NodeJS.Timeout[] = [];
    // A chunk every 20 ms, never ending until the connection goes away.
    route = (_request, response) => {
      const next = () => {
        if (response.destroyed) return;
        response.write('x', () => timers.push(setTimeout(next, 20)));
      };
      next();
    };
    try {
      const response = await openDownload(
        URL_(),
        { ...POLICY, stallTimeoutMs: 1000 },
        asPublicHost(),
        Date.now() + 300,
      );
      expect(await bodyFailure(response.body)).toBeInstanceOf(DownloadDeadlineError);
    } finally {
      for (const timer of timers) clearTimeout(timer);
    }
  });
});
