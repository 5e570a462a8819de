/** Lambda entry point: clients and configuration are created once per container. */
import { Logger } from '@aws-lambda-powertools/logger';
import { createDatasaurClient } from '../../shared/datasaur/client.ts';
import { credentialsFromSecret } from '../../shared/datasaur/credentials-from-secret.ts';
import { ENRICH_METRICS } from '../../shared/enrich/enrich.ts';
import { LAMBDA_CALL_TIMEOUTS } from '../../shared/runtime/aws-json-client.ts';
import { optionalEnv, requireEnv } from '../../shared/runtime/environment.ts';
import { LevelledMetrics, withLogContext } from '../../shared/runtime/lambda-logs.ts';
import { lightTableDocuments } from '../../shared/store/light-table-documents.ts';
import { createEnrichHandler } from './handler.ts';

const secretArn = requireEnv('DATASAUR_CREDENTIALS_SECRET_ARN');
const datasaur = createDatasaurClient({
  baseUrl: requireEnv('DATASAUR_API_URL'),
  credentials: credentialsFromSecret(secretArn),
});
/**
 * DynamoDB through the light client, as the worker and the exporter: the same marshalling
 * (`removeUndefinedValues`), retries and errors as lib-dynamodb's, without the SDK's start-up
 * (issue 27).
 */
const documents = lightTableDocuments(LAMBDA_CALL_TIMEOUTS);
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
