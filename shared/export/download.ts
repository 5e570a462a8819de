/**
 * Opens an export file's URL under a policy and hands back the response stream. The URL
 * comes from a webhook body or from Datasaur's API, so it is hostile until proven otherwise:
 * only `https`, only hosts whose address is public (checked on the address each connection
 * is actually made to, through the socket's own resolver hook, so a second DNS answer cannot
 * slip past a check made earlier), redirects followed by hand and each hop checked again,
 * a byte cap enforced while the body streams, and three clocks: a time-to-first-byte timeout
 * (the answer's headers), a stall timeout (no bytes for a while), and the caller's overall
 * deadline. A large file that keeps flowing is never cut off by a fixed timeout.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { Transform, type TransformCallback } from 'node:stream';
import ipaddr from 'ipaddr.js';
import { booleanEnv, integerEnv, optionalEnv } from '../runtime/environment.ts';

/** The URL (or a redirect from it) is not one the policy lets the exporter download. */
export class UrlRefusedError extends Error {
  override readonly name = 'UrlRefusedError';
}

/** The file is larger than the byte cap (`Content-Length`, or counted while streaming). */
export class TooLargeError extends Error {
  override readonly name = 'TooLargeError';
}

/** No bytes arrived for the stall timeout: the sender stopped sending. */
export class DownloadStalledError extends Error {
  override readonly name = 'DownloadStalledError';
}

/** The caller's overall deadline passed before the file was whole. */
export class DownloadDeadlineError extends Error {
  override readonly name = 'DownloadDeadlineError';
}

export const DEFAULT_MAX_EXPORT_BYTES = 5 * 1024 ** 3;
export const DEFAULT_FIRST_BYTE_TIMEOUT_MS = 30_000;
export const DEFAULT_STALL_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_REDIRECTS = 3;

export interface DownloadPolicy {
  /** Largest file downloaded; passing it fails the download with `TooLargeError`. */
  readonly maxBytes: number;
  /**
   * When set, only these hosts (exact names, or `*.example.com` for any subdomain) are
   * downloaded from. @default any public host
   */
  readonly allowedHosts?: readonly string[];
  /**
   * Admit private, unique-local and carrier-grade NAT addresses (a self-hosted Datasaur).
   * Loopback, link-local (instance metadata), unspecified and multicast stay refused.
   * @default false
   */
  readonly allowPrivateHosts?: boolean;
  /**
   * Origins admitted as they are, scheme and address unchecked: the local stack's own
   * Datasaur API (`http://127.0.0.1:<port>`). Never set in AWS. @default none
   */
  readonly trustedOrigins?: readonly string[];
  /** Redirects followed, each checked like the first URL. @default 3 */
  readonly maxRedirects?: number;
  /** Longest wait for the answer's headers, per hop. @default 30 s */
  readonly firstByteTimeoutMs?: number;
  /** Longest gap between two chunks of the body; the whole transfer has no fixed limit. @default 30 s */
  readonly stallTimeoutMs?: number;
}

/**
 * The policy as the stack (and the local stack) sets it: `EXPORT_MAX_BYTES`,
 * `EXPORT_ALLOWED_HOSTS` (comma-separated), `EXPORT_ALLOW_PRIVATE_HOSTS`,
 * `EXPORT_FIRST_BYTE_TIMEOUT_SECONDS`, `EXPORT_STALL_TIMEOUT_SECONDS`.
 */
export function downloadPolicyFromEnvironment(
  environment: NodeJS.ProcessEnv = process.env,
): DownloadPolicy {
  const allowedHosts = optionalEnv('EXPORT_ALLOWED_HOSTS', '', environment)
    .split(',')
    .map((host) => host.trim().toLowerCase())
    .filter((host) => host !== '');
  return {
    maxBytes: integerEnv('EXPORT_MAX_BYTES', DEFAULT_MAX_EXPORT_BYTES, { min: 1 }, environment),
    ...(allowedHosts.length === 0 ? {} : { allowedHosts }),
    allowPrivateHosts: booleanEnv('EXPORT_ALLOW_PRIVATE_HOSTS', false, environment),
    firstByteTimeoutMs:
      integerEnv(
        'EXPORT_FIRST_BYTE_TIMEOUT_SECONDS',
        DEFAULT_FIRST_BYTE_TIMEOUT_MS / 1000,
        { min: 1, max: 900 },
        environment,
      ) * 1000,
    stallTimeoutMs:
      integerEnv(
        'EXPORT_STALL_TIMEOUT_SECONDS',
        DEFAULT_STALL_TIMEOUT_MS / 1000,
        { min: 1, max: 900 },
        environment,
      ) * 1000,
  };
}

export interface DownloadConnection {
  /** The resolver the socket uses; a test points a name at a local server with it. @default dns.lookup */
  readonly lookup?: LookupFunction;
  /** Extra CA certificates to trust (a test's self-signed server). @default the system's */
  readonly ca?: string;
  /**
   * The IP range name of an address (ipaddr.js's `range()`: `unicast` is public). A test
   * may call its local server's address public with it. @default ipaddr.js
   */
  readonly rangeOf?: (address: string) => string;
}

export interface DownloadResponse {
  readonly status: number;
  /** The body, counted against the byte cap as it streams. */
  readonly body: NodeJS.ReadableStream & { destroy(error?: Error): void };
  /** Where the last hop went, scheme and host only (the path may be a credential). */
  readonly origin: string;
}

/**
 * When a pre-signed S3 link (SigV4 query: `X-Amz-Date`, `X-Amz-Expires`) stops working, in ms
 * since the epoch; undefined for a link that does not say. Datasaur's links are S3's.
 */
export function signedLinkExpiry(url: string): number | undefined {
  let query: URLSearchParams;
  try {
    query = new URL(url).searchParams;
  } catch {
    return undefined;
  }
  const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(query.get('X-Amz-Date') ?? '');
  const expires = query.get('X-Amz-Expires') ?? '';
  if (date === null || !/^\d{1,7}$/.test(expires)) return undefined;
  const [, year, month, day, hour, minute, second] = date.map(Number) as number[];
  const signedAt = Date.UTC(year as number, (month as number) - 1, day, hour, minute, second);
  return Number.isNaN(signedAt) ? undefined : signedAt + Number(expires) * 1000;
}

/** The part of a URL that may be logged: the rest of a pre-signed link is a credential. */
export function shownUrl(url: string): string {
  try {
    const { protocol, host } = new URL(url);
    return `${protocol}//${host}`;
  } catch {
    return '(not a URL)';
  }
}

/** Ranges admitted by `allowPrivateHosts`, besides the public ones. */
const PRIVATE_RANGES: readonly string[] = ['private', 'uniqueLocal', 'carrierGradeNat'];

/**
 * IPv6 ranges ipaddr.js calls `unicast` or private that reach this host or the instance's
 * metadata, named so that the policy refuses them.
 */
const REFUSED_IPV6_RANGES: readonly [string, [ipaddr.IPv6, number]][] = [
  // IPv4-compatible addresses (deprecated, RFC 4291): some stacks take ::7f00:1 as 127.0.0.1.
  ['ipv4Compatible', ipaddr.IPv6.parseCIDR('::/96')],
  // EC2's IPv6 instance metadata endpoint (fd00:ec2::254) is in fd00::/8, a private range.
  ['instanceMetadata', ipaddr.IPv6.parseCIDR('fd00:ec2::/32')],
];

function defaultRangeOf(address: string): string {
  // `process` turns an IPv4-mapped IPv6 address (::ffff:127.0.0.1) into its IPv4 form.
  const parsed = ipaddr.process(address);
  if (parsed.kind() === 'ipv6') {
    const ipv6 = parsed as ipaddr.IPv6;
    const refused = REFUSED_IPV6_RANGES.find(([, range]) => ipv6.match(range));
    if (
      refused !== undefined &&
      parsed.range() !== 'unspecified' &&
      parsed.range() !== 'loopback'
    ) {
      return refused[0];
    }
  }
  return parsed.range();
}

/** Why an address is refused under the policy, or undefined when it is admitted. */
export function addressRefusal(
  address: string,
  policy: Pick<DownloadPolicy, 'allowPrivateHosts'>,
  rangeOf: (address: string) => string = defaultRangeOf,
): string | undefined {
  if (!ipaddr.isValid(address)) return `${address} is not an IP address`;
  const range = rangeOf(address);
  if (range === 'unicast') return undefined;
  if (policy.allowPrivateHosts === true && PRIVATE_RANGES.includes(range)) return undefined;
  return `${address} is a ${range} address, not a public one`;
}

function hostAllowed(host: string, allowedHosts: readonly string[] | undefined): boolean {
  if (allowedHosts === undefined || allowedHosts.length === 0) return true;
  const name = host.toLowerCase();
  return allowedHosts.some((entry) => {
    const allowed = entry.toLowerCase();
    return allowed.startsWith('*.') ? name.endsWith(allowed.slice(1)) : name === allowed;
  });
}

/** The resolver hook: every address a connection may use is checked before it is used. */
function checkedLookup(
  policy: DownloadPolicy,
  lookup: LookupFunction,
  rangeOf: (address: string) => string,
): LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const list = addresses as unknown as LookupAddress[];
      for (const { address } of list) {
        const refusal = addressRefusal(address, policy, rangeOf);
        if (refusal !== undefined) {
          return callback(new UrlRefusedError(`${hostname} resolves to ${refusal}`), '', 0);
        }
      }
      if (options.all === true) return (callback as AllCallback)(null, list);
      const first = list[0];
      if (first === undefined)
        return callback(new UrlRefusedError(`${hostname} has no address`), '', 0);
      callback(null, first.address, first.family);
    });
  };
}

type AllCallback = (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void;

/** Why this hop is refused before any connection, or undefined when it may be opened. */
function urlRefusal(url: URL, policy: DownloadPolicy, rangeOf: (a: string) => string) {
  if (policy.trustedOrigins?.includes(url.origin) === true) return undefined;
  if (url.protocol !== 'https:') return `scheme ${url.protocol} is not https`;
  if (url.username !== '' || url.password !== '') return 'the URL carries a user name or password';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!hostAllowed(host, policy.allowedHosts)) return `host ${host} is not in the allowed hosts`;
  // A literal address is never resolved: it is the address the connection goes to.
  if (isIP(host) !== 0) return addressRefusal(host, policy, rangeOf);
  return undefined;
}

/** Counts the bytes passing through and fails once they pass the cap. */
function byteCap(maxBytes: number): Transform {
  let bytes = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      bytes += chunk.length;
      if (bytes > maxBytes) {
        callback(new TooLargeError(`the file passed the byte cap of ${maxBytes} bytes`));
      } else callback(null, chunk);
    },
  });
}

/** One request, on a fresh socket (no pooled connection made under other rules). */
function request(
  url: URL,
  policy: DownloadPolicy,
  connection: Required<Pick<DownloadConnection, 'lookup' | 'rangeOf'>> & DownloadConnection,
  trusted: boolean,
  deadline: number | undefined,
): Promise<http.IncomingMessage> {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const outgoing = client.get(url, {
      agent: false,
      ...(trusted ? {} : { lookup: checkedLookup(policy, connection.lookup, connection.rangeOf) }),
      ...(connection.ca === undefined ? {} : { ca: connection.ca }),
    });
    const firstByteMs = policy.firstByteTimeoutMs ?? DEFAULT_FIRST_BYTE_TIMEOUT_MS;
    const firstByte = setTimeout(
      () =>
        outgoing.destroy(new Error(`no answer from ${url.origin} within ${firstByteMs / 1000} s`)),
      firstByteMs,
    );
    const untilDeadline = deadlineTimer(deadline, () =>
      outgoing.destroy(new DownloadDeadlineError(`no answer from ${url.origin} by the deadline`)),
    );
    outgoing.once('response', (response) => {
      clearTimeout(firstByte);
      clearTimeout(untilDeadline);
      resolve(response);
    });
    outgoing.once('error', (error) => {
      clearTimeout(firstByte);
      clearTimeout(untilDeadline);
      reject(error);
    });
  });
}

/** Calls `onPassed` when `deadline` (epoch ms) passes; undefined when there is none. */
function deadlineTimer(deadline: number | undefined, onPassed: () => void) {
  if (deadline === undefined) return undefined;
  return setTimeout(onPassed, Math.max(0, deadline - Date.now()));
}

/**
 * Fails `body` with DownloadStalledError when no chunk arrives for `stallMs`, and with
 * DownloadDeadlineError when `deadline` passes; both clocks stop when the body ends or fails.
 */
function watchBody(
  response: http.IncomingMessage,
  body: Transform,
  stallMs: number,
  deadline: number | undefined,
): void {
  const fail = (error: Error) => {
    response.destroy();
    body.destroy(error);
  };
  const stall = setTimeout(() => {
    // Paused by backpressure, the reader (the upload) is the slow side, not the sender.
    if (response.isPaused()) return void stall.refresh();
    fail(new DownloadStalledError(`no bytes arrived for ${stallMs / 1000} s`));
  }, stallMs);
  const untilDeadline = deadlineTimer(deadline, () =>
    fail(new DownloadDeadlineError('the deadline passed before the file was whole')),
  );
  response.on('data', () => {
    stall.refresh();
  });
  const stop = () => {
    clearTimeout(stall);
    clearTimeout(untilDeadline);
  };
  body.once('close', stop);
  body.once('end', stop);
  body.once('error', stop);
}

/**
 * GETs `url` under `policy`, following redirects by hand. Throws `UrlRefusedError` for a
 * URL (or redirect) the policy refuses, `TooLargeError` when `Content-Length` passes the
 * cap; the body fails with `TooLargeError` if more bytes than the cap arrive,
 * `DownloadStalledError` after the stall timeout without a byte, `DownloadDeadlineError` once
 * `deadline` (epoch ms, the caller's remaining time) passes.
 */
export async function openDownload(
  url: string,
  policy: DownloadPolicy,
  connection: DownloadConnection = {},
  deadline?: number,
): Promise<DownloadResponse> {
  const settings = {
    ...connection,
    lookup: connection.lookup ?? (dnsLookup as unknown as LookupFunction),
    rangeOf: connection.rangeOf ?? defaultRangeOf,
  };
  const maxRedirects = policy.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  let current: URL;
  try {
    current = new URL(url);
  } catch {
    throw new UrlRefusedError('the file URL is not a URL');
  }
  for (let hop = 0; ; hop += 1) {
    const refusal = urlRefusal(current, policy, settings.rangeOf);
    if (refusal !== undefined) {
      throw new UrlRefusedError(
        `${hop === 0 ? '' : `redirect ${hop} to `}${shownUrl(current.href)} refused: ${refusal}`,
      );
    }
    const trusted = policy.trustedOrigins?.includes(current.origin) === true;
    const response = await request(current, policy, settings, trusted, deadline).catch(
      (error: unknown) => {
        if (!(error instanceof UrlRefusedError)) throw error;
        throw new UrlRefusedError(
          `${hop === 0 ? '' : `redirect ${hop} to `}${shownUrl(current.href)} refused: ${error.message}`,
        );
      },
    );
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if (status >= 300 && status < 400 && location !== undefined) {
      response.resume();
      if (hop >= maxRedirects) {
        throw new UrlRefusedError(`more than ${maxRedirects} redirects from ${shownUrl(url)}`);
      }
      try {
        current = new URL(location, current);
      } catch {
        throw new UrlRefusedError(`redirect ${hop + 1} is not a URL`);
      }
      continue;
    }
    const length = Number(response.headers['content-length']);
    if (status >= 200 && status < 300 && Number.isFinite(length) && length > policy.maxBytes) {
      response.destroy();
      throw new TooLargeError(
        `the file is ${length} bytes, over the byte cap of ${policy.maxBytes} bytes`,
      );
    }
    const body = byteCap(policy.maxBytes);
    response.once('error', (error) => body.destroy(error));
    // The body ended early (the byte cap, a failed upload, a caller done with it): close the
    // connection too, rather than leave the socket open until the server gives up.
    body.once('close', () => response.destroy());
    watchBody(response, body, policy.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS, deadline);
    response.pipe(body);
    return { status, body, origin: current.origin };
  }
}
