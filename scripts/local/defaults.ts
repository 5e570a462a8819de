/** Defaults of the local stack, shared by `npm start`, the CLIs and the tests. */

/** Port of the local DynamoDB API server (dynalite or DynamoDB Local). */
export const DEFAULT_DYNAMODB_PORT = 8000;
/** Port of the local SQS API server (local-aws-sqs). */
export const DEFAULT_SQS_PORT = 9324;
/** Name of the events table in the local stack. */
export const DEFAULT_TABLE_NAME = 'datasaur-webhooks';
/** Name of the webhook queue in the local stack. */
export const DEFAULT_QUEUE_NAME = 'datasaur-webhooks';
/** Name of its dead-letter queue (what `ensureQueues` creates beside the queue). */
export const DEFAULT_DEAD_LETTER_QUEUE_NAME = `${DEFAULT_QUEUE_NAME}-dlq`;
/** Endpoint of the local SQS API server, as the CLIs reach it (override with SQS_ENDPOINT). */
export const DEFAULT_SQS_ENDPOINT = `http://127.0.0.1:${DEFAULT_SQS_PORT}`;
