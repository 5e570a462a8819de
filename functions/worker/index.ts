/** Lambda entry point: clients and configuration are created once per container. */

import { Logger } from '@aws-lambda-powertools/logger';
import { DEFAULT_EVENT_SOURCE } from '../../shared/bus/bus-events.ts';
import { createBusPublisher } from '../../shared/bus/bus-publisher.ts';
import { lightBusClient } from '../../shared/bus/light-bus-client.ts';
import { createExportQueue } from '../../shared/export/export-queue.ts';
import { exportSettingsFromEnvironment } from '../../shared/export/export-trigger.ts';
import { LAMBDA_CALL_TIMEOUTS } from '../../shared/runtime/aws-json-client.ts';
import {
  booleanEnv,
  integerEnv,
  optionalEnv,
  requireEnv,
} from '../../shared/runtime/environment.ts';
import { LevelledMetrics, withLogContext } from '../../shared/runtime/lambda-logs.ts';
import { lightTableDocuments } from '../../shared/store/light-table-documents.ts';
import { lazyS3Client, s3BodyReader } from '../../shared/webhook/body-archive.ts';
import { lightQueueSender } from '../../shared/webhook/light-queue-sender.ts';
import { createWorkerHandler, DEFAULT_WORKER_CONCURRENCY } from './handler.ts';

/** 0 (the default) keeps rejected and unknown events forever. */
const rawTtlDays = integerEnv('RAW_TTL_DAYS', 0, { min: 0, max: 36_500 });

/** Set by the stack when export archiving is on: where export requests go, and for which statuses. */
const exports = exportSettingsFromEnvironment();

const logger = new Logger();

export const handler = withLogContext(
  logger,
  createWorkerHandler({
    // DynamoDB, EventBridge and SQS through the light client: the SDK's start-up was two
    // thirds of the worker's cold start (issue 27, docs/performance.md).
    documents: lightTableDocuments(LAMBDA_CALL_TIMEOUTS),
    tableName: requireEnv('TABLE_NAME'),
    // Reads only what pointers name; the role allows GetObject under bodies/ and nothing else.
    // Loaded on the first claim-checked body, a rare path.
    bodies: s3BodyReader(lazyS3Client()),
    logger,
    concurrency: integerEnv('WORKER_CONCURRENCY', DEFAULT_WORKER_CONCURRENCY, { min: 1, max: 100 }),
    rawTtlDays: rawTtlDays === 0 ? undefined : rawTtlDays,
    publisher: createBusPublisher(lightBusClient(LAMBDA_CALL_TIMEOUTS), {
      eventBusName: requireEnv('EVENT_BUS_NAME'),
      source: optionalEnv('EVENT_SOURCE', DEFAULT_EVENT_SOURCE),
    }),
    publishLabelEvents: booleanEnv('PUBLISH_LABEL_EVENTS', false),
    // Costs one GetItem per label event; the enrichment step fills in the projects.
    documentProjects: true,
    // Namespace and service from POWERTOOLS_METRICS_NAMESPACE and POWERTOOLS_SERVICE_NAME.
    metrics: new LevelledMetrics(),
    ...(exports && {
      exports: {
        exportOn: exports.exportOn,
        queue: createExportQueue(lightQueueSender(LAMBDA_CALL_TIMEOUTS), exports.queueUrl),
      },
    }),
  }),
);
