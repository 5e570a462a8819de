/**
 * A small client for AWS's JSON protocols, for the calls on the ingest's and the worker's hot
 * path (issue 27): the AWS SDK's own start-up (its import and the first pass through each
 * client's middleware) was two thirds of their cold starts. It does what the SDK does on
 * those calls and nothing else:
 * - signs with the SDK's own signer (`@smithy/signature-v4`), with the credentials Lambda puts
 *   in the environment, correcting for a skewed clock as the SDK does;
 * - sends over `node:http(s)` with keep-alive;
 * - retries as the SDK's standard mode does: up to 3 attempts, with full-jitter exponential
 *   back-off (100 ms base, 500 ms after throttling, 20 s at most), on throttling, 5xx, and
 *   network errors and timeouts;
 * - throws errors named by the service's error code (`ConditionalCheckFailedException`), with
 *   `$metadata` as the SDK's carry it;
 * - finds the endpoint as the SDK does: `AWS_ENDPOINT_URL_<SERVICE>`, then `AWS_ENDPOINT_URL`,
 *   then the region's (FIPS and dual-stack as `AWS_USE_FIPS_ENDPOINT` and
 *   `AWS_USE_DUALSTACK_ENDPOINT` say).
 * The SDK stays for everything else (S3, the CLIs, the other functions).
 */
import { createHash, createHmac } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { SignatureV4 } from '@smithy/signature-v4';

/** What tells one JSON-protocol service from another. */
export interface JsonService {
  /** The SDK's service id in `AWS_ENDPOINT_URL_<ID>`, e.g. `DYNAMODB`, `SECRETS_MANAGER`. */
  readonly endpointId: string;
  /** The first label of its regional host, e.g. `dynamodb`, `events`. */
  readonly hostPrefix: string;
  /** Its SigV4 signing name. */
  readonly signingName: string;
  /** `X-Amz-Target` is `<targetPrefix>.<Operation>`. */
  readonly targetPrefix: string;
  readonly jsonVersion: '1.0' | '1.1';
}

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface JsonClientOptions {
  /** Overrides every other way of finding the endpoint (the local stack, tests). */
  readonly endpoint?: string;
  /** @default AWS_REGION, then AWS_DEFAULT_REGION */
  readonly region?: string;
  /** @default AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, as Lambda sets them */
  readonly credentials?: Credentials;
  /** Attempts per call, the first included. @default AWS_MAX_ATTEMPTS, then 3, as the SDK */
  readonly maxAttempts?: number;
  /** Gives up an attempt whose connection is not made within this. @default none, as the SDK */
  readonly connectionTimeoutMs?: number;
  /** Gives up an attempt whose socket is idle this long. @default none, as the SDK */
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
  'AuthFailure',
  'InvalidSignatureException',
  'RequestExpired',
  'RequestInTheFuture',
  'RequestTimeTooSkewed',
  'SignatureDoesNotMatch',
]);
const TRANSIENT_CODES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);
const TRANSIENT_STATUS = new Set([500, 502, 503, 504]);
/** The Node network errors the SDK retries. */
const NETWORK_ERROR_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT']);
const BASE_DELAY_MS = 100;
const THROTTLING_BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 20_000;
/** The SDK corrects its clock when the server's differs by more than this. */
const CLOCK_SKEW_MS = 300_000;

/** Regions outside the `aws` partition, by prefix: their DNS suffix. */
const DNS_SUFFIXES: ReadonlyArray<readonly [string, string, string]> = [
  // prefix, suffix, dual-stack suffix
  ['cn-', 'amazonaws.com.cn', 'api.amazonwebservices.com.cn'],
  ['us-isob-', 'sc2s.sgov.gov', 'sc2s.sgov.gov'],
  ['us-iso-', 'c2s.ic.gov', 'c2s.ic.gov'],
  ['eusc-', 'amazonaws.eu', 'amazonaws.eu'],
];

/** The endpoint the SDK would use for `service` with these settings. */
export function endpointFor(
  service: JsonService,
  region: string,
  env: Readonly<Record<string, string | undefined>>,
): string {
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS !== 'true') {
    const configured = env[`AWS_ENDPOINT_URL_${service.endpointId}`] ?? env.AWS_ENDPOINT_URL;
    if (configured !== undefined && configured !== '') return configured;
  }
  const fips = env.AWS_USE_FIPS_ENDPOINT === 'true';
  const dualStack = env.AWS_USE_DUALSTACK_ENDPOINT === 'true';
  const partition = DNS_SUFFIXES.find(([prefix]) => region.startsWith(prefix));
  const suffix = dualStack ? (partition?.[2] ?? 'api.aws') : (partition?.[1] ?? 'amazonaws.com');
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
    `Http${status}Error`;
  // `aws.protocoltests#Name:http://…` and `com.amazonaws.dynamodb.v20120810#Name` both mean Name.
  const name = raw.split(':')[0]?.split('#').pop() || `Http${status}Error`;
  const message =
    (typeof body.message === 'string' && body.message) ||
    (typeof body.Message === 'string' && body.Message) ||
    `${name} (HTTP ${status})`;
  const error = new Error(message);
  error.name = name;
  return Object.assign(error, { $fault: status >= 500 ? 'server' : 'client' });
}

function isRetryable(error: Error, status: number | undefined, clockCorrected: boolean): boolean {
  if (THROTTLING_CODES.has(error.name) || status === 429) return true;
  if (TRANSIENT_CODES.has(error.name)) return true;
  // Signed with a clock the server disagreed with: the next attempt signs with its time.
  if (CLOCK_SKEW_CODES.has(error.name)) return clockCorrected;
  if (status !== undefined) return TRANSIENT_STATUS.has(status);
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && NETWORK_ERROR_CODES.has(code);
}

/** SHA-256 and its HMAC from node:crypto, in the shape the signer asks for. */
class Sha256 {
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

interface Answer {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly text: string;
}

export function createJsonClient(
  service: JsonService,
  options: JsonClientOptions = {},
): JsonClient {
  const env = options.env ?? process.env;
  // As the SDK: the option, then AWS_MAX_ATTEMPTS, then 3.
  const fromEnv = /^[1-9]\d*$/.test(env.AWS_MAX_ATTEMPTS ?? '') ? Number(env.AWS_MAX_ATTEMPTS) : 3;
  const maxAttempts = Math.max(1, options.maxAttempts ?? fromEnv);
  const target = `${service.targetPrefix}.`;
  const contentType = `application/x-amz-json-${service.jsonVersion}`;
  let resolved:
    | { readonly url: URL; readonly signer: SignatureV4; readonly agent: HttpAgent }
    | undefined;
  let clockOffsetMs = 0;

  /** Settles what the first call needs, so a misconfiguration fails the call, not the import. */
  function settings() {
    if (resolved !== undefined) return resolved;
    const region = options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
    if (region === undefined || region === '') {
      throw new Error('Region is missing: set AWS_REGION (Lambda sets it)');
    }
    const credentials = options.credentials ?? credentialsFrom(env);
    const url = new URL(options.endpoint ?? endpointFor(service, region, env));
    const signer = new SignatureV4({
      service: service.signingName,
      region,
      credentials,
      sha256: Sha256,
      applyChecksum: false,
    });
    const agent =
      url.protocol === 'https:'
        ? new HttpsAgent({ keepAlive: true, maxSockets: 50 })
        : new HttpAgent({ keepAlive: true, maxSockets: 50 });
    resolved = { url, signer, agent };
    return resolved;
  }

  async function attempt(operation: string, body: string): Promise<Answer> {
    const { url, signer, agent } = settings();
    const host = url.host;
    const signed = await signer.sign(
      {
        method: 'POST',
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port === '' ? {} : { port: Number(url.port) }),
        path: url.pathname,
        query: {},
        headers: {
          host,
          'content-type': contentType,
          'content-length': String(Buffer.byteLength(body)),
          'x-amz-target': `${target}${operation}`,
        },
        body,
      },
      { signingDate: new Date(Date.now() + clockOffsetMs) },
    );
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return await new Promise<Answer>((resolve, reject) => {
      const request = send(
        {
          protocol: url.protocol,
          hostname: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: signed.headers,
          agent,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              headers: response.headers,
              text: Buffer.concat(chunks).toString('utf8'),
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
      if (options.requestTimeoutMs !== undefined) {
        request.setTimeout(options.requestTimeoutMs, () =>
          timeout(`no answer within ${options.requestTimeoutMs} ms`),
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
    async call<Output>(operation: string, input: unknown): Promise<Output> {
      const body = JSON.stringify(input ?? {});
      for (let attempts = 1; ; attempts += 1) {
        let failure: Error;
        let status: number | undefined;
        let requestId: string | undefined;
        let clockCorrected = false;
        try {
          const answer = await attempt(operation, body);
          status = answer.status;
          const id = answer.headers['x-amzn-requestid'];
          requestId = typeof id === 'string' ? id : undefined;
          if (status >= 200 && status < 300) {
            return (answer.text === '' ? {} : JSON.parse(answer.text)) as Output;
          }
          failure = serviceError(status, answer.headers, answer.text);
          const serverDate = Date.parse(String(answer.headers.date ?? ''));
          const skew = serverDate - Date.now();
          if (Number.isFinite(skew) && Math.abs(skew - clockOffsetMs) > CLOCK_SKEW_MS) {
            clockOffsetMs = skew;
            clockCorrected = true;
          }
        } catch (error) {
          if (!(error instanceof Error)) throw error;
          failure = error;
        }
        Object.assign(failure, {
          $metadata: { httpStatusCode: status, requestId, attempts } satisfies AwsErrorMetadata,
        });
        if (attempts >= maxAttempts || !isRetryable(failure, status, clockCorrected)) throw failure;
        const throttled = THROTTLING_CODES.has(failure.name) || status === 429;
        const base = throttled ? THROTTLING_BASE_DELAY_MS : BASE_DELAY_MS;
        const delay = Math.random() * Math.min(MAX_DELAY_MS, base * 2 ** (attempts - 1));
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    },
    destroy() {
      resolved?.agent.destroy();
    },
  };
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
};
export const EVENTBRIDGE: JsonService = {
  endpointId: 'EVENTBRIDGE',
  hostPrefix: 'events',
  signingName: 'events',
  targetPrefix: 'AWSEvents',
  jsonVersion: '1.1',
};
export const SQS: JsonService = {
  endpointId: 'SQS',
  hostPrefix: 'sqs',
  signingName: 'sqs',
  targetPrefix: 'AmazonSQS',
  jsonVersion: '1.0',
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

/** Secrets Manager's `GetSecretValue` (its string), for the ingest's webhook secret. */
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
