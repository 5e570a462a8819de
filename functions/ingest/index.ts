/** Lambda entry point: clients and configuration are created once per container. */

import { Logger } from '@aws-lambda-powertools/logger';
import { lightSecretReader } from '../../shared/runtime/aws-json-client.ts';
import { booleanEnv, integerEnv, requireEnv } from '../../shared/runtime/environment.ts';
import { withLogContext } from '../../shared/runtime/lambda-logs.ts';
import { cachedSecretSource } from '../../shared/runtime/secrets.ts';
import { lazyS3Client, s3BodyWriter } from '../../shared/webhook/body-archive.ts';
import { DEFAULT_MAX_BODY_BYTES, LARGEST_BODY_BYTES } from '../../shared/webhook/ingest.ts';
import { lightQueueSender } from '../../shared/webhook/light-queue-sender.ts';
import { createIngestHandler } from './handler.ts';

const secretArn = requireEnv('WEBHOOK_SECRET_ARN');
const secretCacheSeconds = integerEnv('WEBHOOK_SECRET_CACHE_SECONDS', 300, { min: 0 });

/**
 * Every client gives up well within the function's timeout (10 s by default): two attempts
 * of at most 1 s to connect and 3 s to answer, so Datasaur gets the logged 503 rather than
 * a Lambda timeout.
 */
const FAIL_FAST = { maxAttempts: 2, connectionTimeoutMs: 1_000, requestTimeoutMs: 3_000 };

/**
 * Secrets Manager and SQS through the light client: the SDK's start-up was most of the
 * ingest's cold start (issue 27, docs/performance.md). The secret is cached per container
 * for the TTL.
 */
const secretReader = lightSecretReader(FAIL_FAST);

const logger = new Logger();

export const handler = withLogContext(
  logger,
  createIngestHandler({
    sqs: lightQueueSender(FAIL_FAST),
    queueUrl: requireEnv('QUEUE_URL'),
    // Puts only: the role allows PutObject under bodies/ and nothing else. Loaded on the first
    // body too large to queue inline, a rare path.
    bodies: s3BodyWriter(
      lazyS3Client({
        maxAttempts: FAIL_FAST.maxAttempts,
        requestHandler: {
          connectionTimeout: FAIL_FAST.connectionTimeoutMs,
          requestTimeout: FAIL_FAST.requestTimeoutMs,
          // Without it the SDK only warns when requestTimeout passes.
          throwOnRequestTimeout: true,
        },
      }),
      requireEnv('ARCHIVE_BUCKET'),
    ),
    secrets: cachedSecretSource(() => secretReader.secretString(secretArn), secretCacheSeconds),
    maxBodyBytes: integerEnv('MAX_BODY_BYTES', DEFAULT_MAX_BODY_BYTES, {
      min: 1,
      max: LARGEST_BODY_BYTES,
    }),
    // Set by the stack while it routes 0.1.0's tokenless URL (keepReleasedWebhookRoute).
    acceptReleasedPath: booleanEnv('ACCEPT_RELEASED_WEBHOOK_PATH', false),
    logger,
  }),
);
