/** The claim check's bodies in S3: the ingest puts them, the worker and the query read them. */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type BodyObject, type BodyReader, type BodyWriter, verifiedBody } from './claim-check.ts';
import { eventIdOf } from './signature.ts';

/** Puts bodies into `bucket`, encrypted at rest, with a SHA-256 S3 checks on arrival. */
export function s3BodyWriter(s3: S3Client, bucket: string): BodyWriter {
  return {
    async put(key, body) {
      const sha256 = eventIdOf(body);
      await s3.send(
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
export function s3BodyReader(s3: S3Client): BodyReader {
  return {
    async get(object: BodyObject) {
      const response = await s3.send(
        new GetObjectCommand({ Bucket: object.bucket, Key: object.key }),
      );
      if (response.Body === undefined)
        throw new Error(`s3://${object.bucket}/${object.key} has no body`);
      return verifiedBody(Buffer.from(await response.Body.transformToByteArray()), object);
    },
  };
}
