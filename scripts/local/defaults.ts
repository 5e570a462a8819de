/** Defaults of the local stack, shared by `npm start`, the CLIs and the tests. */

/** Port of the local DynamoDB API server (dynalite or DynamoDB Local). */
export const DEFAULT_DYNAMODB_PORT = 8000;
/** Port of the local SQS API server (local-aws-sqs). */
export const DEFAULT_SQS_PORT = 9324;
/** Port of the local EventBridge API endpoint (ours: eventbridge-server.ts). */
export const DEFAULT_EVENTS_PORT = 4010;
/** The file the local bus appends events to, inside DATA_DIR. */
export const EVENTS_FILE_NAME = 'events.jsonl';
/** Port of the local S3 API server (s3rver). */
export const DEFAULT_S3_PORT = 4569;
/** Name of the archive bucket in the local stack (large bodies under `bodies/`). */
export const DEFAULT_ARCHIVE_BUCKET = 'datasaur-webhooks-archive';
/** Name of the events table in the local stack. */
export const DEFAULT_TABLE_NAME = 'datasaur-webhooks';
/**
 * Batches the local worker processes at the same time. One at a time, its receives, writes
 * and deletes wait on each other; a few keep the queue, dynalite and the worker busy at once.
 */
export const DEFAULT_WORKER_BATCHES = 4;
/**
 * Worker processes: two keep up with the webhook server on a 2-core machine, where one,
 * with its several AWS calls per event, falls behind it (docs/performance.md).
 */
export const DEFAULT_WORKER_PROCESSES = 2;
/** Name of the webhook queue in the local stack. */
export const DEFAULT_QUEUE_NAME = 'datasaur-webhooks';
/**
 * The secret path segment of the local webhook URL unless `WEBHOOK_PATH_TOKEN` says otherwise:
 * fixed, so `npm run send` and `npm run load` find `npm start` with no flag. It is not a secret
 * (the local stack listens on loopback); a deployed stack's token is (docs/flood.md).
 */
export const LOCAL_WEBHOOK_PATH_TOKEN = 'local-webhook-path-token';
/** The local AWS stand-ins listen on loopback whatever HOST the webhook server uses. */
export const LOCAL_SERVERS_HOST = '127.0.0.1';

/** Name of a queue's dead-letter queue (what `ensureQueues` creates beside the queue). */
export function deadLetterQueueName(queueName: string): string {
  return `${queueName}-dlq`;
}
/** Port of the fake Datasaur API (`npm run fake-datasaur`). */
export const DEFAULT_FAKE_DATASAUR_PORT = 4001;
/**
 * The Datasaur API a local run calls unless DATASAUR_API_URL says otherwise: the fake one, so
 * a local run never reaches Datasaur's production API by default.
 */
export const DEFAULT_LOCAL_DATASAUR_API_URL = `http://127.0.0.1:${DEFAULT_FAKE_DATASAUR_PORT}`;
/** The credentials the fake Datasaur API accepts unless told otherwise. */
export const FAKE_DATASAUR_CREDENTIALS = {
  clientId: 'fake-client-id',
  clientSecret: 'fake-client-secret',
} as const;
/** Port of the console (`npm run console`). */
export const DEFAULT_CONSOLE_PORT = 4020;
