/** The claim check's bodies in S3: the ingest puts them, the worker and the query read them. */
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { builtOnFirstUse } from '../runtime/first-use.ts';
import { type BodyObject, type BodyReader, type BodyWriter, verifiedBody } from './claim-check.ts';
import { eventIdOf } from './signature.ts';

/**
 * An S3 client, or a function that makes one when first needed. The S3 client is a third of
 * a function's bundle and start-up, and only bodies over `INLINE_BODY_BYTES` reach S3, so
 * the ingest and the worker pass `lazyS3Client` and load it on the first such body.
 */
export type S3ClientSource = S3Client | (() => Promise<S3Client>);

/** Loads `@aws-sdk/client-s3` and creates the client on the first call, once per container. */
export function lazyS3Client(config: S3ClientConfig = {}): () => Promise<S3Client> {
  return builtOnFirstUse(() =>
    import('@aws-sdk/client-s3').then(({ S3Client }) => new S3Client(config)),
  );
}

const clientOf = (source: S3ClientSource): Promise<S3Client> =>
  typeof source === 'function' ? source() : Promise.resolve(source);

/** Puts bodies into `bucket`, encrypted at rest, with a SHA-256 S3 checks on arrival. */
export function s3BodyWriter(s3: S3ClientSource, bucket: string): BodyWriter {
  return {
    async put(key, body) {
      const sha256 = eventIdOf(body);
      const [client, { PutObjectCommand }] = await Promise.all([
        clientOf(s3),
        import('@aws-sdk/client-s3'),
      ]);
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentLength: body.length,
          // S3 refuses the object unless the bytes it received have this digest.
          ChecksumSHA256: Buffer.from(sha256, 'hex').toString('base64'),
          ServerSideEncryption: 'AES256',
        }),
      );
      return { bucket, key, size: body.length, sha256 };
    },
  };
}

/** Reads bodies from wherever their pointer says, and verifies them. */
export function s3BodyReader(s3: S3ClientSource): BodyReader {
  return {
    async get(object: BodyObject) {
      const [client, { GetObjectCommand }] = await Promise.all([
        clientOf(s3),
        import('@aws-sdk/client-s3'),
      ]);
      const response = await client.send(
        new GetObjectCommand({ Bucket: object.bucket, Key: object.key }),
      );
      if (response.Body === undefined)
        throw new Error(`s3://${object.bucket}/${object.key} has no body`);
      return verifiedBody(Buffer.from(await response.Body.transformToByteArray()), object);
    },
  };
}
