/**
 * A small client for AWS's JSON protocols, for the calls the Lambda functions make to
 * DynamoDB, SQS, EventBridge and Secrets Manager (the ingest's, the worker's and the
 * exporter's, issue 27): the AWS SDK's own start-up (its import and the first pass through
 * each client's middleware) was two thirds of their cold starts. It does what the SDK does on
 * those calls and nothing else:
 * - signs with the SDK's own signer (`@smithy/signature-v4`), with the credentials Lambda puts
 *   in the environment, correcting for a skewed clock as the SDK does;
 * - sends over `node:http(s)` with keep-alive;
 * - retries as the pinned SDK's standard mode does (`@smithy/core`'s 2026 retry settings):
 *   3 attempts (4 for DynamoDB), full-jitter exponential back-off (50 ms base, 25 for
 *   DynamoDB, 1 s after throttling, 20 s at most, at least a `Retry-After` hint), a retry
 *   budget of 500 tokens per client (14 a retry, 5 after throttling), on the same throttling
 *   codes, transient codes and statuses, Node network errors and timeouts;
 * - sends Lambda's `X-Amzn-Trace-Id`, as the SDK's recursion detection does;
 * - throws errors named by the service's error code (`ConditionalCheckFailedException`), with
 *   `$metadata` as the SDK's carry it;
 * - finds the endpoint as the SDK does: `AWS_ENDPOINT_URL_<SERVICE>`, then `AWS_ENDPOINT_URL`,
 *   then the region's (FIPS and dual-stack as `AWS_USE_FIPS_ENDPOINT` and
 *   `AWS_USE_DUALSTACK_ENDPOINT` say).
 * Its signing and retrying core (`createSignedClient`) also makes the exporter's S3 uploads
 * (`shared/export/light-archive-uploader.ts`). The SDK stays for everything else (the large
 * webhook bodies' S3 reads and writes, loaded on first use; the CLIs; the reconciler's table).
 */
import { createHash, createHmac } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { SignatureV4 } from '@smithy/signature-v4';

/** What tells one JSON-protocol service from another. */
export interface JsonService extends SignedService {
  /** The SDK's service id in `AWS_ENDPOINT_URL_<ID>`, e.g. `DYNAMODB`, `SECRETS_MANAGER`. */
  readonly endpointId: string;
  /** The first label of its regional host, e.g. `dynamodb`, `events`. */
  readonly hostPrefix: string;
  /** `X-Amz-Target` is `<targetPrefix>.<Operation>`. */
  readonly targetPrefix: string;
  readonly jsonVersion: '1.0' | '1.1';
  /** In GovCloud the standard endpoint is the FIPS one: the SDK's rules use it for FIPS. */
  readonly govCloudFipsIsStandard?: boolean;
}

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/**
 * The functions' timeouts: AWS answers in milliseconds, so an attempt that has not connected in
 * 2 s or been answered in 5 s is given up and retried (a kept-alive socket a Lambda freeze left
 * dead would otherwise hold the call until the function's timeout).
 */
export const LAMBDA_CALL_TIMEOUTS = {
  connectionTimeoutMs: 2_000,
  requestTimeoutMs: 5_000,
} as const satisfies JsonClientOptions;

export interface JsonClientOptions {
  /** Overrides every other way of finding the endpoint (the local stack, tests). */
  readonly endpoint?: string;
  /** @default AWS_REGION, then AWS_DEFAULT_REGION */
  readonly region?: string;
  /** @default AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, as Lambda sets them */
  readonly credentials?: Credentials;
  /** Attempts per call, the first included. @default AWS_MAX_ATTEMPTS, then the service's (3; DynamoDB 4), as the SDK */
  readonly maxAttempts?: number;
  /** Gives up an attempt whose connection is not made within this. @default none, as the SDK */
  readonly connectionTimeoutMs?: number;
  /** Gives up an attempt not answered in full within this. @default none */
  readonly requestTimeoutMs?: number;
  /** Where the defaults are read. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface JsonClient {
  call<Output = Record<string, unknown>>(operation: string, input: unknown): Promise<Output>;
  /** Closes the kept-alive connections. */
  destroy(): void;
}

/** An error the service answered, or the attempt's network failure, after the last attempt. */
export interface AwsErrorMetadata {
  readonly httpStatusCode?: number;
  readonly requestId?: string;
  readonly attempts: number;
}

const THROTTLING_CODES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'TransactionInProgressException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'LimitExceededException',
  'RequestThrottled',
  'SlowDown',
  'PriorRequestNotComplete',
  'EC2ThrottledException',
]);
const CLOCK_SKEW_CODES = new Set([
  'AccessDeniedException',
  'AuthFailure',
  'InvalidSignatureException',
  'RequestExpired',
  'RequestInTheFuture',
  'RequestTimeTooSkewed',
  'SignatureDoesNotMatch',
]);
const TRANSIENT_CODES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);
const TRANSIENT_STATUS = new Set([500, 502, 503, 504]);
/** The Node timeout and network errors the SDK retries. */
const NETWORK_ERROR_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
const MAX_ATTEMPTS = 3;
const BASE_DELAY_MS = 50;
const THROTTLING_BASE_DELAY_MS = 1_000;
const MAX_DELAY_MS = 20_000;
/** How much longer than its own back-off the SDK waits for a `Retry-After` hint. */
const RETRY_AFTER_EXTRA_MS = 5_000;
const RETRY_TOKENS = 500;
const RETRY_COST = 14;
const THROTTLING_RETRY_COST = 5;
/** The SDK corrects its clock when the server's differs by more than this. */
const CLOCK_SKEW_MS = 300_000;

/**
 * The partitions other than `aws` (which takes every other region), as the SDK's partition
 * data (`@aws-sdk/core`, `util-endpoints/lib/aws/partitions`) has them: the region pattern,
 * the DNS suffix and the dual-stack one.
 */
const PARTITIONS: ReadonlyArray<readonly [string, RegExp, string, string]> = [
  ['aws-cn', /^cn-\w+-\d+$/, 'amazonaws.com.cn', 'api.amazonwebservices.com.cn'],
  ['aws-eusc', /^eusc-(de)-\w+-\d+$/, 'amazonaws.eu', 'api.amazonwebservices.eu'],
  ['aws-iso', /^us-iso-\w+-\d+$/, 'c2s.ic.gov', 'api.aws.ic.gov'],
  ['aws-iso-b', /^us-isob-\w+-\d+$/, 'sc2s.sgov.gov', 'api.aws.scloud'],
  ['aws-iso-e', /^eu-isoe-\w+-\d+$/, 'cloud.adc-e.uk', 'api.cloud-aws.adc-e.uk'],
  ['aws-iso-f', /^us-isof-\w+-\d+$/, 'csp.hci.ic.gov', 'api.aws.hci.ic.gov'],
  ['aws-us-gov', /^us-gov-\w+-\d+$/, 'amazonaws.com', 'api.aws'],
];

function partitionOf(region: string) {
  return PARTITIONS.find(([, pattern]) => pattern.test(region));
}

/** The DNS suffix of the region's partition: `amazonaws.com`, `amazonaws.com.cn`… */
export function dnsSuffixOf(region: string): string {
  return partitionOf(region)?.[2] ?? 'amazonaws.com';
}

/** The endpoint variable the SDK reads for the service (`AWS_ENDPOINT_URL_<ID>`, then `AWS_ENDPOINT_URL`). */
export function configuredEndpoint(
  endpointId: string,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS === 'true') return undefined;
  const configured = env[`AWS_ENDPOINT_URL_${endpointId}`] ?? env.AWS_ENDPOINT_URL;
  return configured === undefined || configured === '' ? undefined : configured;
}

/** The endpoint the SDK would use for `service` with these settings. */
export function endpointFor(
  service: Pick<JsonService, 'endpointId' | 'hostPrefix' | 'govCloudFipsIsStandard'>,
  region: string,
  env: Readonly<Record<string, string | undefined>>,
): string {
  const configured = configuredEndpoint(service.endpointId, env);
  if (configured !== undefined) return configured;
  const dualStack = env.AWS_USE_DUALSTACK_ENDPOINT === 'true';
  const partition = partitionOf(region);
  const fips =
    env.AWS_USE_FIPS_ENDPOINT === 'true' &&
    !(service.govCloudFipsIsStandard === true && !dualStack && partition?.[0] === 'aws-us-gov');
  const suffix = dualStack ? (partition?.[3] ?? 'api.aws') : (partition?.[2] ?? 'amazonaws.com');
  return `https://${service.hostPrefix}${fips ? '-fips' : ''}.${region}.${suffix}`;
}

/** The named error the SDK would throw for this answer. */
function serviceError(status: number, headers: IncomingMessage['headers'], text: string): Error {
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null) body = parsed as Record<string, unknown>;
  } catch {
    // Not JSON (a proxy's page): the status names it.
  }
  const header = headers['x-amzn-errortype'];
  const raw =
    (typeof header === 'string' ? header : undefined) ??
    (typeof body.__type === 'string' ? body.__type : undefined) ??
    (typeof body.code === 'string' ? body.code : undefined) ??
    'UnknownError';
  // `aws.protocoltests#Name:http://…` and `com.amazonaws.dynamodb.v20120810#Name` both mean Name.
  const name = raw.split(':')[0]?.split('#').pop() || 'UnknownError';
  const message =
    (typeof body.message === 'string' && body.message) ||
    (typeof body.Message === 'string' && body.Message) ||
    `${name} (HTTP ${status})`;
  const error = new Error(message);
  error.name = name;
  return Object.assign(error, { $fault: status >= 500 ? 'server' : 'client' });
}

function isThrottling(error: Error, status: number | undefined): boolean {
  return status === 429 || THROTTLING_CODES.has(error.name);
}

/** As the SDK's `isTransientError`, the network and cause parts included. */
function isTransient(error: unknown, status: number | undefined, depth = 0): boolean {
  if (!(error instanceof Error) || error.name === 'AbortError') return false;
  if (TRANSIENT_CODES.has(error.name)) return true;
  if (error.name === 'InvalidSignatureException' && error.message.includes('Signature expired')) {
    return true;
  }
  if (status !== undefined && TRANSIENT_STATUS.has(status)) return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && NETWORK_ERROR_CODES.has(code)) return true;
  return error.cause !== undefined && depth < 10 && isTransient(error.cause, undefined, depth + 1);
}

/** `Retry-After` (seconds or an HTTP date) or `x-amz-retry-after` (ms): when to try again. */
function retryAfterOf(headers: IncomingMessage['headers'] | undefined): number | undefined {
  const amz = headers?.['x-amz-retry-after'];
  if (typeof amz === 'string' && /^\d+$/.test(amz)) return Date.now() + Number(amz);
  const after = headers?.['retry-after'];
  if (typeof after !== 'string') return undefined;
  if (/^\d+$/.test(after)) return Date.now() + Number(after) * 1000;
  const date = Date.parse(after);
  return Number.isFinite(date) ? date : undefined;
}

/** SHA-256 and its HMAC from node:crypto, in the shape the signer asks for. */
export class Sha256 {
  private readonly hash;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytesOf(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytesOf(data: SourceData): string | Buffer {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** An answer, whatever its status. */
export interface AwsAnswer {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
}

/** One request to an AWS service, before it is signed. */
export interface AwsRequest {
  readonly method: 'DELETE' | 'GET' | 'HEAD' | 'POST' | 'PUT';
  /** The protocol, host and port; its path and query are not read. */
  readonly endpoint: URL;
  /**
   * URI-encoded once, as it goes on the wire and is signed: a string, not a URL, so that `.`
   * and `..` segments (S3 keys may hold them) are sent as they are.
   */
  readonly path: string;
  /** Decoded values; `{ uploads: '' }` is `?uploads=`. @default none */
  readonly query?: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Buffer;
  /** Names the call in a timeout's message, e.g. `PutItem`. */
  readonly operation: string;
}

/** What the signing and retrying core needs to know of a service. */
export interface SignedService {
  /** Its SigV4 signing name. */
  readonly signingName: string;
  /** The SDK client's own retry defaults, where they differ from 3 attempts and 50 ms. */
  readonly retry?: { readonly maxAttempts: number; readonly baseDelayMs: number };
  /** S3 signs the path as sent; every other service encodes it once more. @default true */
  readonly uriEscapePath?: boolean;
}

/**
 * Signs, sends and retries requests to one AWS service: what every light client shares.
 * `request` is made inside the first attempt, so that a missing region or bad endpoint fails
 * the call as an attempt does. `read` turns an answer into the call's result, or throws the
 * service's error (an error status, S3's error in a 200): that error is retried or not on its
 * name and the answer's status, or on its `$retryStatus` when it has one (S3's error in a 200
 * is retried as a 503, as the SDK does).
 */
export interface SignedClient {
  send<Output>(request: () => AwsRequest, read: (answer: AwsAnswer) => Output): Promise<Output>;
  /** The region the client signs for (AWS_REGION, as Lambda sets it, unless given). */
  region(): string;
  /** Where the settings were read: the endpoint variables, the FIPS and dual-stack switches. */
  readonly env: Readonly<Record<string, string | undefined>>;
  destroy(): void;
}

export function createSignedClient(
  service: SignedService,
  options: JsonClientOptions = {},
): SignedClient {
  const env = options.env ?? process.env;
  // As the SDK: the option, then AWS_MAX_ATTEMPTS, then 3.
  const fromEnv = /^[1-9]\d*$/.test(env.AWS_MAX_ATTEMPTS ?? '')
    ? Number(env.AWS_MAX_ATTEMPTS)
    : (service.retry?.maxAttempts ?? MAX_ATTEMPTS);
  const maxAttempts = Math.max(1, options.maxAttempts ?? fromEnv);
  const baseDelayMs = service.retry?.baseDelayMs ?? BASE_DELAY_MS;
  /** The retry budget: retries spend it, successes refill it, as the SDK's standard mode. */
  let retryTokens = RETRY_TOKENS;
  let lastRetryCost: number | undefined;
  let resolved: { readonly region: string; readonly signer: SignatureV4 } | undefined;
  const agents: { http?: HttpAgent; https?: HttpsAgent } = {};
  let clockOffsetMs = 0;

  /** Settles what the first call needs, so a misconfiguration fails the call, not the import. */
  function settings() {
    if (resolved !== undefined) return resolved;
    const region = options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
    if (region === undefined || region === '') {
      throw new Error('Region is missing: set AWS_REGION (Lambda sets it)');
    }
    const credentials = options.credentials ?? credentialsFrom(env);
    const signer = new SignatureV4({
      service: service.signingName,
      region,
      credentials,
      sha256: Sha256,
      applyChecksum: false,
      uriEscapePath: service.uriEscapePath ?? true,
    });
    resolved = { region, signer };
    return resolved;
  }

  function agentFor(protocol: string): HttpAgent {
    if (protocol === 'https:') {
      agents.https ??= new HttpsAgent({ keepAlive: true, maxSockets: 50 });
      return agents.https;
    }
    agents.http ??= new HttpAgent({ keepAlive: true, maxSockets: 50 });
    return agents.http;
  }

  async function attempt(request: AwsRequest): Promise<AwsAnswer> {
    const { signer } = settings();
    const { endpoint: url, method, operation, body, path } = request;
    const query = request.query ?? {};
    const search = Object.entries(query)
      .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`)
      .join('&');
    const signed = await signer.sign(
      {
        method,
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port === '' ? {} : { port: Number(url.port) }),
        path,
        query,
        headers: {
          ...request.headers,
          host: url.host,
          'content-length': String(Buffer.byteLength(body)),
          // Lambda's trace id, as the SDK's recursion detection sends it (not signed).
          ...(env.AWS_LAMBDA_FUNCTION_NAME && env._X_AMZN_TRACE_ID
            ? { 'x-amzn-trace-id': env._X_AMZN_TRACE_ID }
            : {}),
        },
        body,
      },
      { signingDate: new Date(Date.now() + clockOffsetMs) },
    );
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    let attemptTimer: NodeJS.Timeout | undefined;
    return await new Promise<AwsAnswer>((resolveAnswer, rejectAnswer) => {
      const resolve = (answer: AwsAnswer) => {
        clearTimeout(attemptTimer);
        resolveAnswer(answer);
      };
      const reject = (error: unknown) => {
        clearTimeout(attemptTimer);
        rejectAnswer(error);
      };
      const request = send(
        {
          protocol: url.protocol,
          // `[::1]` in a URL is `::1` to a socket.
          hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
          port: url.port,
          path: search === '' ? path : `${path}?${search}`,
          method,
          headers: signed.headers,
          agent: agentFor(url.protocol),
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              headers: response.headers,
              body: Buffer.concat(chunks),
            }),
          );
        },
      );
      request.on('error', reject);
      const timeout = (what: string) =>
        request.destroy(
          Object.assign(new Error(`${service.signingName} ${operation}: ${what}`), {
            name: 'TimeoutError',
          }),
        );
      const requestTimeoutMs = options.requestTimeoutMs;
      if (requestTimeoutMs !== undefined) {
        // The whole attempt, however slowly the answer trickles in.
        attemptTimer = setTimeout(
          () => timeout(`no whole answer within ${requestTimeoutMs} ms`),
          requestTimeoutMs,
        );
      }
      const connectionTimeoutMs = options.connectionTimeoutMs;
      if (connectionTimeoutMs !== undefined) {
        request.once('socket', (socket) => {
          if (!socket.connecting) return;
          const timer = setTimeout(
            () => timeout(`no connection within ${connectionTimeoutMs} ms`),
            connectionTimeoutMs,
          );
          socket.once('connect', () => clearTimeout(timer));
          socket.once('close', () => clearTimeout(timer));
        });
      }
      request.end(body);
    });
  }

  return {
    env,
    region: () => settings().region,
    async send(request, read) {
      for (let attempts = 1; ; attempts += 1) {
        let failure: Error;
        let status: number | undefined;
        let requestId: string | undefined;
        let clockCorrected = false;
        let headers: IncomingMessage['headers'] | undefined;
        try {
          const answer = await attempt(request());
          status = answer.status;
          headers = answer.headers;
          const id = answer.headers['x-amzn-requestid'] ?? answer.headers['x-amz-request-id'];
          requestId = typeof id === 'string' ? id : undefined;
          const output = read(answer);
          retryTokens = Math.min(RETRY_TOKENS, retryTokens + (lastRetryCost ?? 1));
          return output;
        } catch (error) {
          if (!(error instanceof Error)) throw error;
          failure = error;
          if (headers !== undefined) {
            const serverDate = Date.parse(String(headers.date ?? ''));
            const skew = serverDate - Date.now();
            if (Number.isFinite(skew) && Math.abs(skew - clockOffsetMs) > CLOCK_SKEW_MS) {
              clockOffsetMs = skew;
              clockCorrected = true;
            }
          }
        }
        Object.assign(failure, {
          $metadata: { httpStatusCode: status, requestId, attempts } satisfies AwsErrorMetadata,
        });
        const retryStatus = (failure as { $retryStatus?: number }).$retryStatus ?? status;
        const throttled = isThrottling(failure, retryStatus);
        // Signed with a clock the server disagreed with: the next attempt signs with its time.
        const skewed = clockCorrected && CLOCK_SKEW_CODES.has(failure.name);
        const retryable = throttled || skewed || isTransient(failure, retryStatus);
        const cost = throttled ? THROTTLING_RETRY_COST : RETRY_COST;
        if (!retryable || attempts >= maxAttempts || retryTokens < cost) throw failure;
        retryTokens -= cost;
        lastRetryCost = cost;
        const base = throttled ? THROTTLING_BASE_DELAY_MS : baseDelayMs;
        let delay = Math.floor(Math.random() * Math.min(MAX_DELAY_MS, base * 2 ** (attempts - 1)));
        const retryAfter = retryAfterOf(headers);
        if (retryAfter !== undefined) {
          delay = Math.max(delay, Math.min(retryAfter - Date.now(), delay + RETRY_AFTER_EXTRA_MS));
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    },
    destroy() {
      agents.http?.destroy();
      agents.https?.destroy();
    },
  };
}

export function createJsonClient(
  service: JsonService,
  options: JsonClientOptions = {},
): JsonClient {
  const client = createSignedClient(service, options);
  const target = `${service.targetPrefix}.`;
  const contentType = `application/x-amz-json-${service.jsonVersion}`;
  let endpoint: URL | undefined;
  return {
    call<Output>(operation: string, input: unknown): Promise<Output> {
      const body = JSON.stringify(input ?? {});
      return client.send(
        () => {
          endpoint ??= new URL(
            options.endpoint ?? endpointFor(service, client.region(), client.env),
          );
          return {
            method: 'POST',
            endpoint,
            path: endpoint.pathname,
            operation,
            headers: { 'content-type': contentType, 'x-amz-target': `${target}${operation}` },
            body,
          };
        },
        (answer) => {
          const text = answer.body.toString('utf8');
          if (answer.status < 200 || answer.status >= 300) {
            throw serviceError(answer.status, answer.headers, text);
          }
          return parsedAnswer<Output>(text, service, operation);
        },
      );
    },
    destroy: () => client.destroy(),
  };
}

/** A 2xx answer's JSON; one that is not JSON is named without quoting it (it may hold a secret). */
function parsedAnswer<Output>(text: string, service: JsonService, operation: string): Output {
  if (text === '') return {} as Output;
  try {
    return JSON.parse(text) as Output;
  } catch {
    throw new Error(`${service.signingName} ${operation} answered with a body that is not JSON`);
  }
}

function credentialsFrom(env: Readonly<Record<string, string | undefined>>): Credentials {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw new Error(
      'Could not load credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set (Lambda sets them)',
    );
  }
  const sessionToken = env.AWS_SESSION_TOKEN;
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}

/** The services the light client is used with. */
export const DYNAMODB: JsonService = {
  endpointId: 'DYNAMODB',
  hostPrefix: 'dynamodb',
  signingName: 'dynamodb',
  targetPrefix: 'DynamoDB_20120810',
  jsonVersion: '1.0',
  retry: { maxAttempts: 4, baseDelayMs: 25 },
};
export const EVENTBRIDGE: JsonService = {
  endpointId: 'EVENTBRIDGE',
  hostPrefix: 'events',
  signingName: 'events',
  targetPrefix: 'AWSEvents',
  jsonVersion: '1.1',
  govCloudFipsIsStandard: true,
};
export const SQS: JsonService = {
  endpointId: 'SQS',
  hostPrefix: 'sqs',
  signingName: 'sqs',
  targetPrefix: 'AmazonSQS',
  jsonVersion: '1.0',
  govCloudFipsIsStandard: true,
};
export const SECRETS_MANAGER: JsonService = {
  endpointId: 'SECRETS_MANAGER',
  hostPrefix: 'secretsmanager',
  signingName: 'secretsmanager',
  targetPrefix: 'secretsmanager',
  jsonVersion: '1.1',
};

export interface Destroyable {
  /** Closes the client's kept-alive connections. */
  destroy(): void;
}

/** Secrets Manager's `GetSecretValue` (its string): the webhook secret, the Datasaur credentials. */
export function lightSecretReader(
  options: JsonClientOptions = {},
): { secretString(secretId: string): Promise<string | undefined> } & Destroyable {
  const client = createJsonClient(SECRETS_MANAGER, options);
  return {
    async secretString(secretId) {
      const output = await client.call<{ SecretString?: string }>('GetSecretValue', {
        SecretId: secretId,
      });
      return output.SecretString;
    },
    destroy: () => client.destroy(),
  };
}
