/**
 * Streams an export file into the archive bucket with S3's own upload calls, on the light
 * client's signing and retries (`shared/runtime/aws-json-client.ts`), as `@aws-sdk/lib-storage`'s
 * `Upload` did on the SDK's S3 client: one PutObject below the part size, otherwise a
 * multipart upload of 5 MiB parts, four in flight, aborted when anything fails so no parts are
 * left. The SDK's S3 client and lib-storage were 220 KB of the exporter's 372 KB bundle and
 * 40 ms of its start-up (issue 27, docs/performance.md); the exporter makes only these five
 * calls.
 *
 * Each request is signed with its payload's SHA-256 (`x-amz-content-sha256`), so S3 refuses a
 * part that arrives other than it was sent. Addressing is the SDK's: virtual-hosted
 * (`<bucket>.s3.<region>.amazonaws.com`) for a bucket name that can be a host label, otherwise
 * path-style; `AWS_ENDPOINT_URL_S3` and `AWS_ENDPOINT_URL` as the SDK reads them; FIPS and
 * dual-stack as `AWS_USE_FIPS_ENDPOINT` and `AWS_USE_DUALSTACK_ENDPOINT` say.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  type AwsAnswer,
  type AwsRequest,
  configuredEndpoint,
  createSignedClient,
  type Destroyable,
  dnsSuffixOf,
  type JsonClientOptions,
  type SignedService,
} from '../runtime/aws-json-client.ts';

export interface ArchiveUpload {
  readonly bucket: string;
  readonly key: string;
  /** Read to its end; destroyed (without an error) when the upload fails first. */
  readonly body: Readable;
  readonly contentType: string;
}

export interface ArchiveUploader {
  /** Resolves once the object is in the bucket whole; rejects with nothing left behind. */
  upload(upload: ArchiveUpload): Promise<void>;
}

export interface ArchiveUploaderOptions extends JsonClientOptions {
  /** `http://host:port/bucket/key` whatever the bucket (s3rver, MinIO). @default false */
  readonly forcePathStyle?: boolean;
  /** Bytes per part; at least 5 MiB, S3's smallest. @default 5 MiB (lib-storage's default) */
  readonly partSizeBytes?: number;
  /** Parts uploaded at once. @default 4, as lib-storage */
  readonly queueSize?: number;
}

const S3: SignedService = { signingName: 's3', uriEscapePath: false };
const MIN_PART_BYTES = 5 * 1024 * 1024;
/** S3's limit on the parts of one multipart upload. */
export const MAX_UPLOAD_PARTS = 10_000;
const XML_NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** As the SDK's `isVirtualHostableS3Bucket` without sub-domains: a name that is one host label. */
function isVirtualHostable(bucket: string): boolean {
  return /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(bucket);
}

/** A key as a URI path: each segment percent-encoded as SigV4 wants it, the slashes kept. */
function keyPath(key: string): string {
  return key
    .split('/')
    .map((segment) =>
      encodeURIComponent(segment).replace(
        /[!'()*]/g,
        (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`,
      ),
    )
    .join('/');
}

const XML_ENTITIES: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
};

/** The text of the first `<name>` element in an S3 answer, its entities decoded. */
function elementText(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  return match?.[1]?.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, entity: string) =>
    entity.startsWith('#')
      ? String.fromCodePoint(
          entity[1] === 'x' ? Number.parseInt(entity.slice(2), 16) : Number(entity.slice(1)),
        )
      : (XML_ENTITIES[entity] ?? ''),
  );
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** S3's `<Error><Code>…</Code><Message>…</Message></Error>` as an error named by its code. */
function s3Error(answer: AwsAnswer): Error {
  const xml = answer.body.toString('utf8');
  const name = elementText(xml, 'Code') || 'UnknownError';
  const error = new Error(elementText(xml, 'Message') || `${name} (HTTP ${answer.status})`);
  error.name = name;
  return Object.assign(error, { $fault: answer.status >= 500 ? 'server' : 'client' });
}

/** The answer unless it is S3's error. */
function checked(answer: AwsAnswer): AwsAnswer {
  if (answer.status < 200 || answer.status >= 300) throw s3Error(answer);
  return answer;
}

/**
 * CompleteMultipartUpload answers 200 before it has finished, so its error, or no result at
 * all, can come in the body: retried as a 503, as the SDK does.
 */
function completed(answer: AwsAnswer): AwsAnswer {
  checked(answer);
  if (/<CompleteMultipartUploadResult[\s>]/.test(answer.body.toString('utf8'))) return answer;
  const error = /<Error>/.test(answer.body.toString('utf8'))
    ? s3Error(answer)
    : Object.assign(new Error('S3 CompleteMultipartUpload answered 200 without a result'), {
        name: 'InternalError',
      });
  throw Object.assign(error, { $retryStatus: 503 });
}

/** Where an object is: the endpoint (protocol, host, port) and the path, URI-encoded once. */
export interface ObjectAddress {
  readonly endpoint: URL;
  readonly path: string;
}

/**
 * The object's address as the SDK's S3 client has it with these settings (an endpoint given
 * without a path of its own).
 */
export function archiveObjectAddress(
  bucket: string,
  key: string,
  settings: {
    readonly region: string;
    readonly env: Readonly<Record<string, string | undefined>>;
    readonly endpoint?: string;
    readonly forcePathStyle?: boolean;
  },
): ObjectAddress {
  const { region, env } = settings;
  const path = keyPath(key);
  const configured = settings.endpoint ?? configuredEndpoint('S3', env);
  const virtual = settings.forcePathStyle !== true && isVirtualHostable(bucket);
  if (configured !== undefined) {
    const base = new URL(configured);
    // As the SDK: an endpoint that is an IP address takes the bucket in the path.
    const ip = /^\[.*\]$|^\d+\.\d+\.\d+\.\d+$/.test(base.hostname);
    const prefix = base.pathname.replace(/\/$/, '');
    return virtual && !ip
      ? { endpoint: new URL(`${base.protocol}//${bucket}.${base.host}`), path: `${prefix}/${path}` }
      : { endpoint: new URL(base.origin), path: `${prefix}/${bucket}/${path}` };
  }
  const fips = env.AWS_USE_FIPS_ENDPOINT === 'true' ? '-fips' : '';
  const dualStack = env.AWS_USE_DUALSTACK_ENDPOINT === 'true' ? '.dualstack' : '';
  const host = `s3${fips}${dualStack}.${region}.${dnsSuffixOf(region)}`;
  return virtual
    ? { endpoint: new URL(`https://${bucket}.${host}`), path: `/${path}` }
    : { endpoint: new URL(`https://${host}`), path: `/${bucket}/${path}` };
}

export function lightArchiveUploader(
  options: ArchiveUploaderOptions = {},
): ArchiveUploader & Destroyable {
  const client = createSignedClient(S3, options);
  const partSize = Math.max(MIN_PART_BYTES, options.partSizeBytes ?? MIN_PART_BYTES);
  const queueSize = Math.max(1, options.queueSize ?? 4);

  function addressOf(bucket: string, key: string): ObjectAddress {
    return archiveObjectAddress(bucket, key, {
      region: client.region(),
      env: client.env,
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      ...(options.forcePathStyle === undefined ? {} : { forcePathStyle: options.forcePathStyle }),
    });
  }

  function send(
    operation: string,
    method: AwsRequest['method'],
    address: ObjectAddress,
    query: Record<string, string>,
    body: string | Buffer,
    headers: Record<string, string> = {},
    read: (answer: AwsAnswer) => AwsAnswer = checked,
  ): Promise<AwsAnswer> {
    // Once per call, not per attempt.
    const payloadHash = sha256Hex(body);
    return client.send(
      () => ({
        operation,
        method,
        ...address,
        query,
        body,
        headers: { ...headers, 'x-amz-content-sha256': payloadHash },
      }),
      read,
    );
  }

  return {
    async upload({ bucket, key, body, contentType }) {
      const address = addressOf(bucket, key);
      let buffered: Buffer[] = [];
      let bufferedBytes = 0;
      let uploadId: string | undefined;
      const etags: string[] = [];
      const inFlight = new Set<Promise<void>>();
      /** The first part that failed: the upload stops reading and fails with it. */
      let partFailure: { error: unknown } | undefined;

      async function startPart(part: Buffer): Promise<void> {
        if (uploadId === undefined) {
          const created = await send(
            'CreateMultipartUpload',
            'POST',
            address,
            { uploads: '' },
            '',
            {
              'content-type': contentType,
            },
          );
          uploadId = elementText(created.body.toString('utf8'), 'UploadId');
          if (!uploadId) throw new Error('S3 CreateMultipartUpload answered without an UploadId');
        }
        const partNumber = etags.length + 1;
        if (partNumber > MAX_UPLOAD_PARTS) {
          throw new Error(
            `the file needs more than ${MAX_UPLOAD_PARTS} parts of ${partSize} bytes`,
          );
        }
        etags.push('');
        const partQuery = { partNumber: String(partNumber), uploadId };
        const uploading = send('UploadPart', 'PUT', address, partQuery, part).then((answer) => {
          const etag = answer.headers.etag;
          if (typeof etag !== 'string') throw new Error('S3 UploadPart answered without an ETag');
          etags[partNumber - 1] = etag;
        });
        const tracked = uploading.then(
          () => {
            inFlight.delete(tracked);
          },
          (error: unknown) => {
            inFlight.delete(tracked);
            if (partFailure === undefined) {
              partFailure = { error };
              // Ends the loop below at once rather than at the next full part.
              body.destroy();
            }
          },
        );
        inFlight.add(tracked);
        while (inFlight.size >= queueSize && partFailure === undefined) {
          await Promise.race(inFlight);
        }
      }

      try {
        try {
          for await (const chunk of body as AsyncIterable<Buffer>) {
            buffered.push(chunk);
            bufferedBytes += chunk.length;
            while (bufferedBytes >= partSize && partFailure === undefined) {
              const whole =
                buffered.length === 1 ? (buffered[0] as Buffer) : Buffer.concat(buffered);
              const rest = whole.subarray(partSize);
              buffered = rest.length > 0 ? [rest] : [];
              bufferedBytes = rest.length;
              await startPart(whole.subarray(0, partSize));
            }
            if (partFailure !== undefined) break;
          }
        } catch (error) {
          // A body this upload destroyed ends as a premature close: the part's error says why.
          if (partFailure === undefined) throw error;
        }
        if (partFailure === undefined && uploadId === undefined) {
          await send('PutObject', 'PUT', address, {}, Buffer.concat(buffered), {
            'content-type': contentType,
          });
          return;
        }
        if (partFailure === undefined && bufferedBytes > 0)
          await startPart(Buffer.concat(buffered));
        await Promise.all(inFlight);
        if (partFailure !== undefined) throw partFailure.error;
        const parts = etags
          .map(
            (etag, index) =>
              `<Part><PartNumber>${index + 1}</PartNumber><ETag>${escapeXml(etag)}</ETag></Part>`,
          )
          .join('');
        await send(
          'CompleteMultipartUpload',
          'POST',
          address,
          { uploadId: uploadId as string },
          `<CompleteMultipartUpload xmlns="${XML_NAMESPACE}">${parts}</CompleteMultipartUpload>`,
          { 'content-type': 'application/xml' },
          completed,
        );
      } catch (error) {
        if (uploadId !== undefined) {
          await Promise.allSettled(inFlight);
          // Best effort: the bucket's lifecycle rule removes what an abort could not.
          await send('AbortMultipartUpload', 'DELETE', address, { uploadId }, '').catch(
            () => undefined,
          );
        }
        throw error;
      }
    },
    destroy: () => client.destroy(),
  };
}
