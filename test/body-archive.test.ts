/**
 * The ingest and the worker reach S3 through `lazyS3Client`: the client is made on the first
 * body too large to queue, once per container, and works as one made at start-up.
 */
import { expect, it } from 'vitest';
import { LOCAL_CLIENT_CONFIG, LOCAL_S3_CREDENTIALS } from '../scripts/local/servers.ts';
import { lazyS3Client, s3BodyReader, s3BodyWriter } from '../shared/webhook/body-archive.ts';
import { bodyKey } from '../shared/webhook/claim-check.ts';
import { eventIdOf } from '../shared/webhook/signature.ts';
import { startedForTests, startLocalS3 } from './support/local-aws.ts';

const s3 = startedForTests(startLocalS3);

it('puts and reads back a body through an S3 client made on first use, once', async () => {
  const bucket = await s3.createBucket();
  const client = lazyS3Client({
    ...LOCAL_CLIENT_CONFIG,
    credentials: LOCAL_S3_CREDENTIALS,
    endpoint: s3.server.endpoint,
    forcePathStyle: true,
  });
  const body = Buffer.from(JSON.stringify({ labels: 'x'.repeat(500_000) }));
  const eventId = eventIdOf(body);
  const stored = await s3BodyWriter(client, bucket).put(bodyKey(new Date(), eventId), body);
  expect(stored).toMatchObject({ bucket, size: body.length, sha256: eventId });
  expect((await s3BodyReader(client).get(stored)).equals(body)).toBe(true);
  const [first, second] = await Promise.all([client(), client()]);
  expect(first).toBe(second);
  first.destroy();
});
