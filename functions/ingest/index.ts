/** Lambda entry point: clients and configuration are created once per container. */

import { Logger } from '@aws-lambda-powertools/logger';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { SQSClient } from '@aws-sdk/client-sqs';
import { integerEnv, requireEnv } from '../../shared/environment.ts';
import { DEFAULT_MAX_BODY_BYTES, LARGEST_BODY_BYTES } from '../../shared/ingest.ts';
import { parseSecretValue, type SecretSource } from '../../shared/secrets.ts';
import { createIngestHandler } from './handler.ts';

const secretArn = requireEnv('WEBHOOK_SECRET_ARN');
const secretCacheSeconds = integerEnv('WEBHOOK_SECRET_CACHE_SECONDS', 300, { min: 0 });

/** Secrets Manager through Powertools Parameters, cached per container for the TTL. */
const secretsFromSecretsManager: SecretSource = async () => {
  const value = await getSecret(secretArn, { maxAge: secretCacheSeconds });
  if (typeof value !== 'string') throw new Error('the webhook secret has no string value');
  return parseSecretValue(value);
};

export const handler = createIngestHandler({
  // Fail fast enough for Datasaur's request to get a 503 rather than hang; without
  // throwOnRequestTimeout the SDK only warns when requestTimeout passes.
  sqs: new SQSClient({
    requestHandler: {
      connectionTimeout: 1_000,
      requestTimeout: 3_000,
      throwOnRequestTimeout: true,
    },
  }),
  queueUrl: requireEnv('QUEUE_URL'),
  secrets: secretsFromSecretsManager,
  maxBodyBytes: integerEnv('MAX_BODY_BYTES', DEFAULT_MAX_BODY_BYTES, {
    min: 1,
    max: LARGEST_BODY_BYTES,
  }),
  logger: new Logger(),
});
