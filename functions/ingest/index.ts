/** Lambda entry point: clients and configuration are created once per container. */

import { Logger } from '@aws-lambda-powertools/logger';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { booleanEnv, integerEnv, requireEnv } from '../../shared/runtime/environment.ts';
import { withLogContext } from '../../shared/runtime/lambda-logs.ts';
import { parseSecretValue, type SecretSource } from '../../shared/runtime/secrets.ts';
import { lazyS3Client, s3BodyWriter } from '../../shared/webhook/body-archive.ts';
import { DEFAULT_MAX_BODY_BYTES, LARGEST_BODY_BYTES } from '../../shared/webhook/ingest.ts';
import { createIngestHandler } from './handler.ts';

const secretArn = requireEnv('WEBHOOK_SECRET_ARN');
const secretCacheSeconds = integerEnv('WEBHOOK_SECRET_CACHE_SECONDS', 300, { min: 0 });

/**
 * Every client gives up well within the function's timeout (10 s by default): two attempts
 * of at most 1 s to connect and 3 s to answer, so Datasaur gets the logged 503 rather than
 * a Lambda timeout. Without throwOnRequestTimeout the SDK only warns when requestTimeout
 * passes.
 */
const FAIL_FAST = {
  maxAttempts: 2,
  requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000, throwOnRequestTimeout: true },
};

/** Secrets Manager through Powertools Parameters, cached per container for the TTL. */
const secretsProvider = new SecretsProvider({
  awsSdkV3Client: new SecretsManagerClient(FAIL_FAST),
});
const secretsFromSecretsManager: SecretSource = async () => {
  const value = await secretsProvider.get(secretArn, { maxAge: secretCacheSeconds });
  if (typeof value !== 'string') throw new Error('the webhook secret has no string value');
  return parseSecretValue(value);
};

const logger = new Logger();

export const handler = withLogContext(
  logger,
  createIngestHandler({
    sqs: new SQSClient(FAIL_FAST),
    queueUrl: requireEnv('QUEUE_URL'),
    // Puts only: the role allows PutObject under bodies/ and nothing else. Loaded on the first
    // body too large to queue inline, a rare path.
    bodies: s3BodyWriter(lazyS3Client(FAIL_FAST), requireEnv('ARCHIVE_BUCKET')),
    secrets: secretsFromSecretsManager,
    maxBodyBytes: integerEnv('MAX_BODY_BYTES', DEFAULT_MAX_BODY_BYTES, {
      min: 1,
      max: LARGEST_BODY_BYTES,
    }),
    // Set by the stack while it routes 0.1.0's tokenless URL (keepReleasedWebhookRoute).
    acceptReleasedPath: booleanEnv('ACCEPT_RELEASED_WEBHOOK_PATH', false),
    logger,
  }),
);
