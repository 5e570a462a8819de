/** What `npm start` prints once everything runs: where things are and what to type next. */
import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { DEFAULT_EXPORT_ON } from '../../shared/export/export-trigger.ts';
import { optionalEnv } from '../../shared/runtime/environment.ts';
import { type LocalStackConfig, readLocalConfig } from './config.ts';
import { LOCAL_ENRICHMENT_INTERVAL_MS } from './enrichment-loop.ts';
import type { LocalStack } from './stack.ts';

export function startupBanner(stack: LocalStack, config: LocalStackConfig): string {
  const queueName = (url: string) => url.slice(url.lastIndexOf('/') + 1);
  const { sendCommand, queryCommand, tailCommand, consoleCommand } = nextCommands(stack, config);
  return [
    '',
    'Datasaur webhooks: local stack',
    `  webhook URL  ${stack.webhookUrl}  (POST events, PUT export deliveries)`,
    `  secret       ${stack.secrets.secrets.join(', ')}  (${stack.secrets.origin})`,
    `  DynamoDB     ${stack.dynamoDbEndpoint}  ${config.dynamoDbBackend}, table ${config.tableName}, on disk in ${stack.tableDirectory}`,
    `  SQS          ${stack.sqsEndpoint}  queue ${queueName(stack.queues.queueUrl)}, DLQ ${queueName(stack.queues.deadLetterQueueUrl)}, in memory (lost when this stops)`,
    `  EventBridge  ${stack.eventsEndpoint}  source ${config.eventSource}, events appended to ${stack.eventsFile}${config.eventsLog ? ' and printed here' : ''}; label events ${config.publishLabelEvents ? 'published' : 'not published'}`,
    `  S3           ${stack.s3Endpoint}  bucket ${config.archiveBucket} (bodies too large for a message), on disk in ${stack.s3Directory}`,
    stack.exportQueues === undefined || config.exporter === undefined
      ? '  exporter     off (set DATASAUR_API_URL, DATASAUR_CLIENT_ID and DATASAUR_CLIENT_SECRET to archive exports)'
      : `  exporter     exports on ${config.exporter.exportOn} as ${config.exporter.format} from ${config.exporter.apiUrl} into ${config.archiveBucket}/exports/, queue ${queueName(stack.exportQueues.queueUrl)}${config.exporter.credentials === undefined ? '; no credentials: exports WAIT (npm run query -- exports --status WAITING) until npm start runs with DATASAUR_CLIENT_ID and DATASAUR_CLIENT_SECRET' : ''}`,
    config.enrichment === undefined
      ? '  enrichment   off (set DATASAUR_CLIENT_ID and DATASAUR_CLIENT_SECRET to list label events by project)'
      : `  enrichment   every ${LOCAL_ENRICHMENT_INTERVAL_MS / 1000} s from ${config.enrichment.apiUrl}: label events get their project (npm run query -- labels --project <id>)`,
    `  worker       batches of up to ${config.workerBatchSize} (window ${config.workerBatchWindowSeconds} s), ${config.workerProcesses} process(es), each with ${config.workerBatches} batches and ${config.workerConcurrency} records of each at a time, visibility timeout ${config.visibilityTimeoutSeconds} s, DLQ after ${config.maxReceiveCount} receives`,
    '',
    'Next, in another terminal:',
    `  ${sendCommand}`,
    `  ${queryCommand}`,
    `  ${tailCommand}`,
    `  ${consoleCommand}  (the console in a browser)`,
    '',
  ].join('\n');
}

/**
 * The next commands, with the variables they need to find this stack: only those a new
 * terminal would not already get right from the defaults and `.env`, which every CLI reads
 * the way `npm start` does.
 */
function nextCommands(stack: LocalStack, config: LocalStackConfig) {
  const dotEnv = dotEnvFile();
  const seen = readLocalConfig(dotEnv);
  const seenExportOn = optionalEnv('EXPORT_ON', DEFAULT_EXPORT_ON, dotEnv).trim();
  const prefix = (variables: [string, string | number, string | number][]) =>
    variables
      .filter(([, actual, fallback]) => actual !== fallback)
      .map(([name, actual]) => `${name}=${actual} `)
      .join('');
  const dataDir: [string, string, string] = ['DATA_DIR', config.dataDir, seen.dataDir];
  return {
    sendCommand: `${prefix([
      ['PORT', portOf(stack.webhookUrl), seen.port],
      ['WEBHOOK_PATH_TOKEN', config.webhookPathToken, seen.webhookPathToken],
      dataDir,
    ])}npm run send -- PROJECT_CREATED`,
    tailCommand: `${prefix([dataDir])}npm run tail -- --pattern '{"detail-type":["Project Created"]}'`,
    queryCommand: `${prefix([
      ['DYNAMODB_PORT', portOf(stack.dynamoDbEndpoint), seen.dynamoDbPort],
      ['TABLE_NAME', config.tableName, seen.tableName],
    ])}npm run query -- project N2E4MjNlYTc`,
    // The bus and the settings too: a replay from the console publishes and asks for exports
    // as this stack's worker does (`replaySettings`). Without an exporter there is no export
    // queue, and EXPORT_ON changes nothing.
    consoleCommand: `${prefix([
      ['DYNAMODB_PORT', portOf(stack.dynamoDbEndpoint), seen.dynamoDbPort],
      ['SQS_PORT', portOf(stack.sqsEndpoint), seen.sqsPort],
      ['S3_PORT', portOf(stack.s3Endpoint), seen.s3Port],
      ['EVENTS_PORT', portOf(stack.eventsEndpoint), seen.eventsPort],
      ['TABLE_NAME', config.tableName, seen.tableName],
      ['QUEUE_NAME', config.queueName, seen.queueName],
      ['EVENT_SOURCE', config.eventSource, seen.eventSource],
      ['PUBLISH_LABEL_EVENTS', String(config.publishLabelEvents), String(seen.publishLabelEvents)],
      ['EXPORT_ON', config.exporter?.exportOn ?? seenExportOn, seenExportOn],
      dataDir,
    ])}npm run console`,
  };
}

const portOf = (url: string) => Number(new URL(url).port);

/** The variables of `.env` alone, as a new terminal's CLI would read them. */
function dotEnvFile(path = '.env'): NodeJS.ProcessEnv {
  return existsSync(path) ? parseEnv(readFileSync(path, 'utf8')) : {};
}
