/** Lambda entry point: clients and configuration are created once per container. */
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDatasaurClient } from '../../shared/datasaur/client.ts';
import { credentialsFromSecret } from '../../shared/datasaur/credentials-from-secret.ts';
import { ENRICH_METRICS } from '../../shared/enrich/enrich.ts';
import { optionalEnv, requireEnv } from '../../shared/runtime/environment.ts';
import { LevelledMetrics, withLogContext } from '../../shared/runtime/lambda-logs.ts';
import { createEnrichHandler } from './handler.ts';

const secretArn = requireEnv('DATASAUR_CREDENTIALS_SECRET_ARN');
const datasaur = createDatasaurClient({
  baseUrl: requireEnv('DATASAUR_API_URL'),
  credentials: credentialsFromSecret(secretArn),
});
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});
const tableName = requireEnv('TABLE_NAME');
/** The stack's own namespace, so two stages in one account keep their metrics apart. */
const metricsNamespace = optionalEnv('POWERTOOLS_METRICS_NAMESPACE', ENRICH_METRICS.namespace);

const logger = new Logger();

export const handler = withLogContext(
  logger,
  createEnrichHandler({
    options: async () => ({ documents, tableName, datasaur }),
    logger,
    metrics: new LevelledMetrics({ namespace: metricsNamespace }),
  }),
);
