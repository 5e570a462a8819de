/** Lambda entry point: clients and configuration are created once per container. */
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDatasaurClient } from '../../shared/datasaur/client.ts';
import { credentialsFromSecret } from '../../shared/datasaur/credentials-from-secret.ts';
import { createExportQueue } from '../../shared/export/export-queue.ts';
import {
  exportRepairedTransitions,
  exportSettingsFromEnvironment,
} from '../../shared/export/export-trigger.ts';
import {
  DEFAULT_RECONCILE_LOOKBACK_DAYS,
  RECONCILE_METRICS,
} from '../../shared/reconcile/reconciler.ts';
import { integerEnv, optionalEnv, requireEnv } from '../../shared/runtime/environment.ts';
import { LevelledMetrics, withLogContext } from '../../shared/runtime/lambda-logs.ts';
import { sdkQueueSender } from '../../shared/webhook/sdk-queue-sender.ts';
import { createReconcileHandler } from './handler.ts';

const secretArn = requireEnv('DATASAUR_CREDENTIALS_SECRET_ARN');
const client = createDatasaurClient({
  baseUrl: requireEnv('DATASAUR_API_URL'),
  credentials: credentialsFromSecret(secretArn),
});
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});
/** Only these teams when set (`datasaurTeamIds`); else every team the credentials can see. */
const teamIds = optionalEnv('DATASAUR_TEAM_IDS', '')
  .split(',')
  .map((teamId) => teamId.trim())
  .filter((teamId) => teamId !== '');
const lookbackDays = integerEnv('RECONCILE_LOOKBACK_DAYS', DEFAULT_RECONCILE_LOOKBACK_DAYS, {
  min: 1,
  max: 3_650,
});
const tableName = requireEnv('TABLE_NAME');
/** The stack's own namespace, so two stages in one account keep their metrics apart. */
const metricsNamespace = optionalEnv('POWERTOOLS_METRICS_NAMESPACE', RECONCILE_METRICS.namespace);

/** Set by the stack when export archiving is on: repaired transitions export as webhooks would. */
const exports = exportSettingsFromEnvironment();
const onTransition =
  exports === undefined
    ? undefined
    : exportRepairedTransitions(
        createExportQueue(sdkQueueSender(new SQSClient({})), exports.queueUrl),
        exports.exportOn,
      );

const logger = new Logger();

export const handler = withLogContext(
  logger,
  createReconcileHandler({
    options: async () => ({
      client,
      documents,
      tableName,
      teamIds,
      lookbackDays,
      ...(onTransition === undefined ? {} : { onTransition }),
    }),
    logger,
    metrics: new LevelledMetrics({ namespace: metricsNamespace }),
  }),
);
