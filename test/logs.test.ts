/**
 * The handlers' logs, with real Powertools loggers at DEBUG: every outcome is logged with
 * its status and reason, and no line carries a secret or a body (the secret guard checks
 * this whole file's output at the end too).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createIngestHandler } from '../functions/ingest/handler.ts';
import { createWorkerHandler } from '../functions/worker/handler.ts';
import { NO_ARCHIVE } from '../scripts/local/no-archive.ts';
import { SEED_EVENTS } from '../scripts/local/seed-events.ts';
import { LevelledMetrics, withLogContext } from '../shared/runtime/lambda-logs.ts';
import { staticSecrets } from '../shared/runtime/secrets.ts';
import { sdkQueueSender } from '../shared/webhook/sdk-queue-sender.ts';
import { startedForTests, startLocalDynamoDb, startLocalSqs } from './support/local-aws.ts';
import { capturedOutput } from './support/secret-guard.ts';
import { TEST_SECRETS } from './support/test-secrets.ts';
import { sqsEvent, sqsRecord } from './support/webhook-records.ts';
import { signedEvent } from './support/webhook-requests.ts';

const sqs = startedForTests(startLocalSqs);
const dynamoDb = startedForTests(startLocalDynamoDb);

const logLines = (service: string) =>
  capturedOutput()
    .split('\n')
    .filter((line) => line.startsWith('{') && line.includes(`"service":"${service}"`))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

it('logs each ingest outcome with its status and reason, never a secret or a body', async () => {
  const { queueUrl } = await sqs.createQueues();
  const handle = createIngestHandler({
    sqs: sdkQueueSender(sqs.sqs),
    queueUrl,
    bodies: NO_ARCHIVE,
    secrets: staticSecrets([TEST_SECRETS.current, TEST_SECRETS.previous]),
    maxBodyBytes: 2048,
    logger: new Logger({ serviceName: 'ingest-log-test', logLevel: 'DEBUG' }),
  });
  const body = JSON.stringify(SEED_EVENTS.BEFORE_UPDATE_LABELS);
  const statuses = [
    await handle(signedEvent(body)),
    await handle(signedEvent(body, { secret: TEST_SECRETS.previous, method: 'PUT' })),
    await handle(signedEvent(body, { secret: TEST_SECRETS.retired })),
    // A sender that puts the secret itself where the signature goes: refused, never echoed.
    await handle(signedEvent(body, { signature: TEST_SECRETS.current })),
    await handle(signedEvent('x'.repeat(4096))),
    await handle(signedEvent(body, { path: '/elsewhere' })),
  ].map((response) => response.statusCode);
  expect(statuses).toEqual([202, 200, 401, 401, 413, 404]);

  const lines = logLines('ingest-log-test');
  expect(lines.map((line) => line.status)).toEqual(statuses);
  for (const line of lines) {
    expect(line).toHaveProperty('level');
    if (Number(line.status) < 300) expect(line.eventId).toMatch(/^[0-9a-f]{64}$/);
    else expect(line.reason).toEqual(expect.any(String));
  }
  const text = JSON.stringify(lines);
  expect(text).not.toContain('user+1@datasaur.ai');
  expect(text).not.toContain('xxxxxxxx');
});

it('logs each stored, rejected and failed record without its body', async () => {
  const tableName = await dynamoDb.createTable();
  const handle = createWorkerHandler({
    documents: dynamoDb.documents,
    tableName,
    bodies: NO_ARCHIVE,
    logger: new Logger({ serviceName: 'worker-log-test', logLevel: 'DEBUG' }),
  });
  const response = await handle(
    sqsEvent([
      sqsRecord({ body: JSON.stringify(SEED_EVENTS.PROJECT_CREATED) }),
      sqsRecord({ body: `not json, with ${TEST_SECRETS.current} pasted in by mistake` }),
    ]),
  );
  expect(response.batchItemFailures).toEqual([]);
  const lines = logLines('worker-log-test');
  expect(lines.map((line) => line.message).sort()).toEqual(['event rejected', 'event stored']);
  expect(lines.find((line) => line.message === 'event rejected')?.reason).toBe('body is not JSON');
  expect(JSON.stringify(lines)).not.toContain('hamlet.TXT');
});

describe('as Lambda filters and reads the lines', () => {
  const lambdaContext = {
    awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
    functionName: 'DatasaurWebhooks-Ingest',
    functionVersion: '$LATEST',
    memoryLimitInMB: '512',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:DatasaurWebhooks-Ingest',
  } as Context;

  it('puts the invocation’s request id on every line a handler logs (Lambda adds none to Powertools’ lines)', async () => {
    const { queueUrl } = await sqs.createQueues();
    const logger = new Logger({ serviceName: 'request-id-log-test' });
    const handle = withLogContext(
      logger,
      createIngestHandler({
        sqs: sdkQueueSender(sqs.sqs),
        queueUrl,
        bodies: NO_ARCHIVE,
        secrets: staticSecrets([TEST_SECRETS.current]),
        maxBodyBytes: 2048,
        logger,
      }),
    );
    const body = JSON.stringify(SEED_EVENTS.PROJECT_CREATED);
    await handle(signedEvent(body), lambdaContext);
    await handle(signedEvent(body, { secret: TEST_SECRETS.retired }), {
      ...lambdaContext,
      awsRequestId: 'second-request',
    });
    const lines = logLines('request-id-log-test');
    expect(lines.map((line) => [line.message, line.function_request_id])).toEqual([
      ['webhook accepted', lambdaContext.awsRequestId],
      ['webhook refused', 'second-request'],
    ]);
    // Only the id: the log group names the function.
    expect(lines[0]).not.toHaveProperty('function_arn');
  });

  /** The metric lines `metrics` wrote, parsed. */
  const metricLines = (namespace: string) =>
    capturedOutput()
      .split('\n')
      .filter((line) => line.startsWith('{') && line.includes(`"Namespace":"${namespace}"`))
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  it('gives each metrics line the function’s log level above INFO, which Lambda’s filter would otherwise drop as INFO', () => {
    for (const [logLevel, namespace] of [
      ['WARN', 'LevelTestWarn'],
      ['error', 'LevelTestError'],
      ['INFO', 'LevelTestInfo'],
      ['DEBUG', 'LevelTestDebug'],
      [undefined, 'LevelTestUnset'],
    ] as const) {
      const metrics = new LevelledMetrics(
        { namespace, serviceName: 'metrics-level-test' },
        logLevel,
      );
      metrics.addMetric('Stored', MetricUnit.Count, 3);
      metrics.publishStoredMetrics();
      // The level is set on every line, not only the first.
      metrics.addMetric('Stored', MetricUnit.Count, 1);
      metrics.publishStoredMetrics();
      const lines = metricLines(namespace);
      expect(lines.map((line) => line.Stored)).toEqual([3, 1]);
      const expected = logLevel === 'WARN' ? 'WARN' : logLevel === 'error' ? 'ERROR' : undefined;
      for (const line of lines) expect(line.level, namespace).toBe(expected);
    }
  });
});
