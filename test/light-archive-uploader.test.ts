/**
 * The exporter's S3 uploads through the light client (`shared/export/light-archive-uploader.ts`),
 * against s3rver behind a recorder that checks each request's SigV4 signature and payload hash
 * as S3 does (s3rver checks neither): objects read back byte for byte with the SDK's client, the calls each size makes, the errors S3 answers, nothing left
 * after a failure, and the same addresses as the SDK's S3 client for the same settings.
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { LOCAL_S3_CREDENTIALS } from '../scripts/local/servers.ts';
import {
  archiveObjectAddress,
  lightArchiveUploader,
} from '../shared/export/light-archive-uploader.ts';
import { startedForTests, startLocalS3 } from './support/local-aws.ts';
import { startS3Recorder } from './support/s3-recorder.ts';

const s3 = startedForTests(startLocalS3);
const MiB = 1024 * 1024;
const closers: Array<() => unknown> = [];
afterAll(async () => {
  for (const close of closers) await close();
});

/** The light uploader through a recorder in front of s3rver, as the local stack configures it. */
async function uploaderWith(
  options: { refuse?: (operation: string) => boolean; secretAccessKey?: string } = {},
) {
  const recorder = await startS3Recorder(s3.server.endpoint, { refuse: options.refuse });
  const uploader = lightArchiveUploader({
    region: 'us-east-1',
    credentials: {
      ...LOCAL_S3_CREDENTIALS,
      ...(options.secretAccessKey ? { secretAccessKey: options.secretAccessKey } : {}),
    },
    endpoint: recorder.endpoint,
    forcePathStyle: true,
    maxAttempts: 1,
  });
  closers.push(
    () => uploader.destroy(),
    () => recorder.close(),
  );
  return { uploader, operations: recorder.operations, paths: recorder.paths };
}

/** Deterministic bytes, different at every offset. */
function bytes(length: number, seed = 1): Buffer {
  const buffer = Buffer.alloc(length);
  let state = seed;
  for (let index = 0; index < length; index += 1) {
    state = (state * 1103515245 + 12345) >>> 0;
    buffer[index] = state >>> 24;
  }
  return buffer;
}

/** The file as a download delivers it: uneven chunks, none of them a part's size. */
function chunked(data: Buffer, chunkBytes = 700_001): Readable {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += chunkBytes) {
    chunks.push(data.subarray(offset, offset + chunkBytes));
  }
  return Readable.from(chunks);
}

async function readBack(bucket: string, key: string) {
  const answer = await s3.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return {
    body: Buffer.from(
      await (answer.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    ),
    contentType: answer.ContentType,
  };
}

async function keysIn(bucket: string): Promise<string[]> {
  const { Contents = [] } = await s3.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  return Contents.map((object) => object.Key ?? '');
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('the light archive uploader against s3rver', () => {
  it('puts a file smaller than a part in one PutObject, with its content type', async () => {
    const bucket = await s3.createBucket();
    const { uploader, operations } = await uploaderWith();
    const data = bytes(300_000);
    await uploader.upload({
      bucket,
      key: 'exports/t/p/small.zip',
      body: chunked(data, 65_536),
      contentType: 'application/zip',
    });
    expect(operations).toEqual(['PutObject']);
    const object = await readBack(bucket, 'exports/t/p/small.zip');
    expect(sha256(object.body)).toBe(sha256(data));
    expect(object.contentType).toBe('application/zip');
  });

  it('puts an empty file', async () => {
    const bucket = await s3.createBucket();
    const { uploader, operations } = await uploaderWith();
    await uploader.upload({
      bucket,
      key: 'empty.zip',
      body: Readable.from([]),
      contentType: 'application/zip',
    });
    expect(operations).toEqual(['PutObject']);
    expect((await readBack(bucket, 'empty.zip')).body.length).toBe(0);
  });

  it('uploads a 12 MiB file in 5 MiB parts and completes it: the object reads back byte for byte', async () => {
    const bucket = await s3.createBucket();
    const { uploader, operations } = await uploaderWith();
    const data = bytes(12 * MiB + 12_345, 7);
    await uploader.upload({
      bucket,
      key: 'exports/t/p/large.zip',
      body: chunked(data),
      contentType: 'application/zip',
    });
    expect(operations).toEqual([
      'CreateMultipartUpload',
      'UploadPart',
      'UploadPart',
      'UploadPart',
      'CompleteMultipartUpload',
    ]);
    const object = await readBack(bucket, 'exports/t/p/large.zip');
    expect(object.body.length).toBe(data.length);
    expect(sha256(object.body)).toBe(sha256(data));
    expect(object.contentType).toBe('application/zip');
  });

  it('uploads in parts of the size it is given, so a file at a larger byte cap fits 10,000 parts', async () => {
    const bucket = await s3.createBucket();
    const recorder = await startS3Recorder(s3.server.endpoint);
    const uploader = lightArchiveUploader({
      region: 'us-east-1',
      credentials: LOCAL_S3_CREDENTIALS,
      endpoint: recorder.endpoint,
      forcePathStyle: true,
      partSizeBytes: 7 * MiB,
    });
    closers.push(
      () => uploader.destroy(),
      () => recorder.close(),
    );
    const data = bytes(13 * MiB, 3);
    await uploader.upload({
      bucket,
      key: 'sevens.zip',
      body: chunked(data),
      contentType: 'application/zip',
    });
    expect(recorder.operations.filter((operation) => operation === 'UploadPart')).toHaveLength(2);
    expect(sha256((await readBack(bucket, 'sevens.zip')).body)).toBe(sha256(data));
  });

  it('stores a key with spaces, reserved and non-ASCII characters under exactly that key', async () => {
    const bucket = await s3.createBucket();
    const { uploader } = await uploaderWith();
    const key = "exports/team 1/proj+ect=(x)!'*/naïve 東京 100%.zip";
    await uploader.upload({
      bucket,
      key,
      body: Readable.from([Buffer.from('zip')]),
      contentType: 'application/zip',
    });
    expect(await keysIn(bucket)).toEqual([key]);
    expect((await readBack(bucket, key)).body.toString()).toBe('zip');
  });

  it('sends a key with `.` and `..` segments as it is, not shortened as a URL would be', async () => {
    const bucket = await s3.createBucket();
    const { uploader, operations, paths } = await uploaderWith();
    await uploader.upload({
      bucket,
      key: 'exports/../x/./y.zip',
      body: Readable.from([Buffer.from('dots')]),
      contentType: 'application/zip',
    });
    // S3 keeps such a key as it is; s3rver, behind the recorder, shortens it.
    expect(operations).toEqual(['PutObject']);
    expect(paths).toEqual([`/${bucket}/exports/../x/./y.zip`]);
  });

  it('fails as S3 answers: NoSuchBucket, with its status', async () => {
    const { uploader } = await uploaderWith();
    const failure = uploader.upload({
      bucket: 'no-such-bucket-here',
      key: 'a.zip',
      body: Readable.from([Buffer.from('x')]),
      contentType: 'application/zip',
    });
    await expect(failure).rejects.toMatchObject({
      name: 'NoSuchBucket',
      $metadata: { httpStatusCode: 404, attempts: 1 },
    });
  });

  it('is refused when it signs with the wrong secret: the signatures the others pass are checked', async () => {
    const bucket = await s3.createBucket();
    const { uploader } = await uploaderWith({ secretAccessKey: 'not-the-secret' });
    const failure = uploader.upload({
      bucket,
      key: 'a.zip',
      body: Readable.from([Buffer.from('x')]),
      contentType: 'application/zip',
    });
    await expect(failure).rejects.toMatchObject({ name: 'SignatureDoesNotMatch' });
    expect(await keysIn(bucket)).toEqual([]);
  });

  it('aborts the multipart upload when a part is refused, stops reading the file, and fails with the refusal', async () => {
    const bucket = await s3.createBucket();
    let parts = 0;
    const { uploader, operations } = await uploaderWith({
      refuse: (operation) => operation === 'UploadPart' && ++parts === 2,
    });
    // A file still arriving: the refusal must not wait for its end.
    const body = new PassThrough();
    body.write(bytes(11 * MiB));
    const failure = uploader.upload({
      bucket,
      key: 'refused.zip',
      body,
      contentType: 'application/zip',
    });
    await expect(failure).rejects.toMatchObject({ name: 'AccessDenied', message: 'Access Denied' });
    expect(body.destroyed).toBe(true);
    expect(operations).toContain('AbortMultipartUpload');
    expect(operations).not.toContain('CompleteMultipartUpload');
    expect(await keysIn(bucket)).toEqual([]);
  });

  it('aborts the multipart upload when the file fails half-way, and fails with the file’s error', async () => {
    const bucket = await s3.createBucket();
    const { uploader, operations } = await uploaderWith();
    const body = new PassThrough();
    const failure = uploader.upload({
      bucket,
      key: 'cut.zip',
      body,
      contentType: 'application/zip',
    });
    body.write(bytes(6 * MiB));
    // Once the first part is on its way, the download breaks.
    while (!operations.includes('UploadPart'))
      await new Promise((resolve) => setImmediate(resolve));
    body.destroy(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    await expect(failure).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(operations).toEqual(['CreateMultipartUpload', 'UploadPart', 'AbortMultipartUpload']);
    expect(await keysIn(bucket)).toEqual([]);
  });
});

describe('an error in the 200 of CompleteMultipartUpload', () => {
  /**
   * An S3 stand-in for what s3rver cannot do: CompleteMultipartUpload answering 200 with an
   * error in its body, or with no body at all, as S3 can after it has started the answer.
   */
  async function completingServer(completions: readonly string[]) {
    const calls: string[] = [];
    let completion = 0;
    const server = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://x');
      request.resume();
      request.on('end', () => {
        if (request.method === 'POST' && url.searchParams.has('uploads')) {
          calls.push('CreateMultipartUpload');
          response.end(
            '<InitiateMultipartUploadResult><UploadId>u-1</UploadId></InitiateMultipartUploadResult>',
          );
        } else if (request.method === 'PUT') {
          calls.push('UploadPart');
          response.writeHead(200, { etag: `"part-${url.searchParams.get('partNumber')}"` }).end();
        } else if (request.method === 'POST') {
          calls.push('CompleteMultipartUpload');
          const body = completions[Math.min(completion, completions.length - 1)] ?? '';
          completion += 1;
          response.end(body);
        } else {
          calls.push(request.method === 'DELETE' ? 'AbortMultipartUpload' : String(request.method));
          response.writeHead(204).end();
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const uploader = lightArchiveUploader({
      region: 'us-east-1',
      credentials: LOCAL_S3_CREDENTIALS,
      endpoint: `http://127.0.0.1:${port}`,
      forcePathStyle: true,
    });
    closers.push(
      () => uploader.destroy(),
      () => new Promise((resolve) => server.close(resolve)),
    );
    return { uploader, calls };
  }
  const INTERNAL_ERROR =
    '<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>';
  const RESULT =
    '<CompleteMultipartUploadResult><Bucket>b</Bucket><Key>k.zip</Key><ETag>"x-2"</ETag></CompleteMultipartUploadResult>';

  it('retries it, as a 503, until S3 answers with the result', async () => {
    // An error in the 200, then a 200 with no body at all, then the result.
    const { uploader, calls } = await completingServer([INTERNAL_ERROR, '', RESULT]);
    await uploader.upload({
      bucket: 'b',
      key: 'k.zip',
      body: chunked(bytes(6 * MiB)),
      contentType: 'application/zip',
    });
    expect(calls).toEqual([
      'CreateMultipartUpload',
      'UploadPart',
      'UploadPart',
      'CompleteMultipartUpload',
      'CompleteMultipartUpload',
      'CompleteMultipartUpload',
    ]);
  });

  it('fails with that error after the last attempt, and aborts the upload', async () => {
    const { uploader, calls } = await completingServer([INTERNAL_ERROR]);
    const failure = uploader.upload({
      bucket: 'b',
      key: 'k.zip',
      body: chunked(bytes(6 * MiB)),
      contentType: 'application/zip',
    });
    await expect(failure).rejects.toMatchObject({
      name: 'InternalError',
      $metadata: { httpStatusCode: 200, attempts: 3 },
    });
    expect(calls.slice(3)).toEqual([
      'CompleteMultipartUpload',
      'CompleteMultipartUpload',
      'CompleteMultipartUpload',
      'AbortMultipartUpload',
    ]);
  });
});

describe('the address of an object, as the SDK’s S3 client has it', () => {
  /** Where the SDK's client would send a PutObject with these settings (stopped before sending). */
  async function sdkUrl(
    bucket: string,
    key: string,
    config: {
      region: string;
      endpoint?: string;
      forcePathStyle?: boolean;
      useFipsEndpoint?: boolean;
      useDualstackEndpoint?: boolean;
    },
  ): Promise<string> {
    const client = new S3Client({ ...config, credentials: LOCAL_S3_CREDENTIALS });
    let url = '';
    client.middlewareStack.add(
      () => async (args) => {
        const request = args.request as {
          protocol: string;
          hostname: string;
          port?: number;
          path: string;
        };
        url = `${request.protocol}//${request.hostname}${request.port ? `:${request.port}` : ''}${request.path}`;
        throw new Error('stop');
      },
      { step: 'finalizeRequest', priority: 'low', name: 'captureUrl' },
    );
    await client
      .send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'x' }))
      .catch(() => undefined);
    client.destroy();
    return url;
  }

  it.each([
    ['archive-bucket-1', 'us-east-1', {}],
    ['archive-bucket-1', 'eu-west-1', {}],
    ['archive-bucket-1', 'cn-north-1', {}],
    ['archive-bucket-1', 'us-gov-west-1', { useFipsEndpoint: true }],
    ['archive-bucket-1', 'us-east-1', { useFipsEndpoint: true }],
    ['archive-bucket-1', 'us-east-1', { useDualstackEndpoint: true }],
    ['archive-bucket-1', 'us-east-1', { useFipsEndpoint: true, useDualstackEndpoint: true }],
    ['archive.with.dots', 'eu-west-1', {}],
    ['Archive_Upper', 'eu-west-1', {}],
    ['archive-bucket-1', 'eu-west-1', { forcePathStyle: true }],
    ['archive-bucket-1', 'us-east-1', { endpoint: 'http://127.0.0.1:4569' }],
    ['archive-bucket-1', 'us-east-1', { endpoint: 'http://127.0.0.1:4569', forcePathStyle: true }],
    ['archive-bucket-1', 'us-east-1', { endpoint: 'https://s3.example.com' }],
    ['archive-bucket-1', 'us-east-1', { endpoint: 'http://[::1]:4569' }],
  ] as const)('%s in %s with %j', async (bucket, region, config) => {
    const key = "exports/team 1/p+q=(r)!'*/naïve.zip";
    const env = {
      ...('useFipsEndpoint' in config ? { AWS_USE_FIPS_ENDPOINT: 'true' } : {}),
      ...('useDualstackEndpoint' in config ? { AWS_USE_DUALSTACK_ENDPOINT: 'true' } : {}),
    };
    const ours = archiveObjectAddress(bucket, key, {
      region,
      env,
      ...('endpoint' in config ? { endpoint: config.endpoint } : {}),
      ...('forcePathStyle' in config ? { forcePathStyle: config.forcePathStyle } : {}),
    });
    expect(`${ours.endpoint.origin}${ours.path}`).toBe(
      await sdkUrl(bucket, key, { region, ...config }),
    );
  });

  it('reads AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL, unless told to ignore them', () => {
    const url = (env: Record<string, string>) => {
      const { endpoint, path } = archiveObjectAddress('b-1', 'k', {
        region: 'us-east-1',
        env,
        forcePathStyle: true,
      });
      return `${endpoint.origin}${path}`;
    };
    expect(url({ AWS_ENDPOINT_URL: 'http://a:1', AWS_ENDPOINT_URL_S3: 'http://b:2' })).toBe(
      'http://b:2/b-1/k',
    );
    expect(url({ AWS_ENDPOINT_URL: 'http://a:1' })).toBe('http://a:1/b-1/k');
    expect(
      url({ AWS_ENDPOINT_URL_S3: 'http://b:2', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' }),
    ).toBe('https://s3.us-east-1.amazonaws.com/b-1/k');
  });
});
