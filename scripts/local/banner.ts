/** What `npm start` prints once everything runs: where things are and what to type next. */
import { type LocalStackConfig, readLocalConfig } from './config.ts';
import type { LocalStack } from './stack.ts';

export function startupBanner(stack: LocalStack, config: LocalStackConfig): string {
  const queueName = (url: string) => url.slice(url.lastIndexOf('/') + 1);
  const { sendCommand, queryCommand } = nextCommands(stack, config);
  return [
    '',
    'Datasaur webhooks: local stack',
    `  webhook URL  ${stack.webhookUrl}  (POST events, PUT export deliveries)`,
    `  secret       ${stack.secrets.secrets.join(', ')}  (${stack.secrets.origin})`,
    `  DynamoDB     ${stack.dynamoDbEndpoint}  ${config.dynamoDbBackend}, table ${config.tableName}, on disk in ${stack.tableDirectory}`,
    `  SQS          ${stack.sqsEndpoint}  queue ${queueName(stack.queues.queueUrl)}, DLQ ${queueName(stack.queues.deadLetterQueueUrl)}, in memory (lost when this stops)`,
    `  worker       batches of up to ${config.workerBatchSize} (window ${config.workerBatchWindowSeconds} s), ${config.workerConcurrency} records at a time, visibility timeout ${config.visibilityTimeoutSeconds} s, DLQ after ${config.maxReceiveCount} receives`,
    '',
    'Next, in another terminal:',
    `  ${sendCommand}`,
    `  ${queryCommand}`,
    '',
  ].join('\n');
}

/** What the next commands need to find this stack when it does not run on the defaults. */
function nextCommands(stack: LocalStack, config: LocalStackConfig) {
  const defaults = readLocalConfig({});
  const sendVariables = [
    ['PORT', new URL(stack.webhookUrl).port, String(defaults.port)],
    ['DATA_DIR', config.dataDir, defaults.dataDir],
  ]
    .filter(([, actual, fallback]) => actual !== fallback)
    .map(([name, actual]) => `${name}=${actual} `)
    .join('');
  const dynamoDbPort = Number(new URL(stack.dynamoDbEndpoint).port);
  return {
    sendCommand: `${sendVariables}npm run send -- PROJECT_CREATED`,
    // The query CLI also reads deployed tables, so it takes a full endpoint and --table.
    queryCommand: [
      // With --table and no endpoint the query CLI reads the deployed table in AWS.
      dynamoDbPort === defaults.dynamoDbPort && config.tableName === defaults.tableName
        ? ''
        : `DYNAMODB_ENDPOINT=${stack.dynamoDbEndpoint} `,
      'npm run query -- project N2E4MjNlYTc',
      config.tableName === defaults.tableName ? '' : ` --table ${config.tableName}`,
    ].join(''),
  };
}
