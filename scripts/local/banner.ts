/** What `npm start` prints once everything runs: where things are and what to type next. */
import { type LocalStackConfig, readLocalConfig } from './config.ts';
import type { LocalStack } from './stack.ts';

export function startupBanner(stack: LocalStack, config: LocalStackConfig): string {
  const queueName = (url: string) => url.slice(url.lastIndexOf('/') + 1);
  const { sendPrefix, queryPrefix } = commandPrefixes(stack, config);
  return [
    '',
    'Datasaur webhooks: local stack',
    `  webhook URL  ${stack.webhookUrl}  (POST events, PUT export deliveries)`,
    `  secret       ${stack.secrets.secrets.join(', ')}  (${stack.secrets.origin})`,
    `  DynamoDB     ${stack.dynamoDbEndpoint}  table ${config.tableName}, on disk in ${stack.tableDirectory}`,
    `  SQS          ${stack.sqsEndpoint}  queue ${queueName(stack.queues.queueUrl)}, DLQ ${queueName(stack.queues.deadLetterQueueUrl)}, in memory (lost when this stops)`,
    `  worker       batches of up to ${config.workerBatchSize} (window ${config.workerBatchWindowSeconds} s), ${config.workerConcurrency} records at a time, visibility timeout ${config.visibilityTimeoutSeconds} s, DLQ after ${config.maxReceiveCount} receives`,
    '',
    'Next, in another terminal:',
    `  ${sendPrefix}npm run send -- PROJECT_CREATED`,
    `  ${queryPrefix}npm run query -- project N2E4MjNlYTc`,
    '',
  ].join('\n');
}

/** Variables the next commands need to find this stack when it does not run on the defaults. */
function commandPrefixes(stack: LocalStack, config: LocalStackConfig) {
  const defaults = readLocalConfig({});
  const differing = (pairs: Array<[string, string, string]>) =>
    pairs
      .filter(([, actual, fallback]) => actual !== fallback)
      .map(([name, actual]) => `${name}=${actual} `)
      .join('');
  return {
    sendPrefix: differing([
      ['PORT', new URL(stack.webhookUrl).port, String(defaults.port)],
      ['DATA_DIR', config.dataDir, defaults.dataDir],
    ]),
    queryPrefix: differing([
      ['DYNAMODB_PORT', new URL(stack.dynamoDbEndpoint).port, String(defaults.dynamoDbPort)],
      ['TABLE_NAME', config.tableName, defaults.tableName],
    ]),
  };
}
