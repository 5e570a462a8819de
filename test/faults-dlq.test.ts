import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { expect, it } from 'vitest';
import { createIngestHandler } from '../functions/ingest/handler.ts';
import { createWorkerHandler } from '../functions/worker/handler.ts';
import { NO_ARCHIVE } from '../scripts/local/no-archive.ts';
import { createQueuePoller } from '../scripts/local/queue-poller.ts';
import { SEED_EVENTS } from '../scripts/local/seed-events.ts';
import { LOCAL_CLIENT_CONFIG } from '../scripts/local/servers.ts';
import { main as redriveMain } from '../scripts/redrive.ts';
import { staticSecrets } from '../shared/runtime/secrets.ts';
import { createQueries } from '../shared/store/queries.ts';
import { DEFAULT_MAX_BODY_BYTES } from '../shared/webhook/ingest.ts';
import { sdkQueueSender } from '../shared/webhook/sdk-queue-sender.ts';
import { eventIdOf } from '../shared/webhook/signature.ts';
import {
  documentsWithFaults,
  startedForTests,
  startLocalDynamoDb,
  startLocalSqs,
  throttlingError,
} from './support/local-aws.ts';
import { quietLogger } from './support/webhook-records.ts';
import { signedEvent, TEST_SECRET } from './support/webhook-requests.ts';

const MAX_RECEIVE_COUNT = 3;

const sqs = startedForTests(startLocalSqs);
const dynamoDb = startedForTests(startLocalDynamoDb);

async function messagesIn(queueUrl: string): Promise<number> {
  const { Attributes } = await sqs.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages'],
    }),
  );
  return Number(Attributes?.ApproximateNumberOfMessages ?? 0);
}

/** Polls until `done` holds, failing after `timeoutMs`; each round is one batch of work. */
async function pollUntil(
  round: () => Promise<unknown>,
  done: () => Promise<boolean>,
  timeoutMs = 20_000,
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await round();
  }
}

it('dead-letters a record that always fails, and lands it after a redrive once the fault is gone', async () => {
  const queues = await sqs.createQueues({
    visibilityTimeoutSeconds: 1,
    maxReceiveCount: MAX_RECEIVE_COUNT,
  });
  const tableName = await dynamoDb.createTable();
  const ingest = createIngestHandler({
    sqs: sdkQueueSender(sqs.sqs),
    queueUrl: queues.queueUrl,
    bodies: NO_ARCHIVE,
    secrets: staticSecrets([TEST_SECRET]),
    maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
    logger: quietLogger(),
  });

  const poisonBody = JSON.stringify(SEED_EVENTS.PROJECT_COMPLETED);
  const poisonId = eventIdOf(poisonBody);
  const healthyBody = JSON.stringify(SEED_EVENTS.BEFORE_UPDATE_LABELS);
  let faultActive = true;
  let faultsInjected = 0;
  const documents = documentsWithFaults(dynamoDb, (input) => {
    if (!faultActive || !input.includes(poisonId)) return undefined;
    faultsInjected += 1;
    return throttlingError();
  });
  const poller = createQueuePoller({
    sqs: sqs.sqs,
    queueUrl: queues.queueUrl,
    queueArn: queues.queueArn,
    region: LOCAL_CLIENT_CONFIG.region,
    batchSize: 10,
    waitTimeSeconds: 1,
    logger: quietLogger(),
    handler: createWorkerHandler({
      documents,
      tableName,
      bodies: NO_ARCHIVE,
      logger: quietLogger(),
    }),
  });
  const queries = createQueries(dynamoDb.documents, tableName);
  const stored = async (eventId: string) => {
    const history = [
      ...(await queries.projectHistory('ZTYzZjRhYjE')).items,
      ...(await queries.documentLabels('cdf0631f-66b6-4330-be05-4c87fd169afb')).items,
    ];
    return history.some((item) => item.eventId === eventId);
  };

  expect((await ingest(signedEvent(poisonBody))).statusCode).toBe(202);
  expect((await ingest(signedEvent(healthyBody))).statusCode).toBe(202);

  await pollUntil(
    () => poller.pollOnce(),
    async () => (await messagesIn(queues.deadLetterQueueUrl)) === 1,
  );
  expect(faultsInjected).toBe(MAX_RECEIVE_COUNT);
  expect(await stored(eventIdOf(healthyBody))).toBe(true);
  expect(await stored(poisonId)).toBe(false);
  expect(await messagesIn(queues.queueUrl)).toBe(0);

  faultActive = false;
  const printed: string[] = [];
  const exitCode = await redriveMain(
    ['--dlq-arn', queues.deadLetterQueueArn, '--timeout-seconds', '20'],
    { SQS_ENDPOINT: sqs.server.endpoint },
    { log: (line) => printed.push(line), error: (line) => printed.push(line) },
  );
  expect(exitCode).toBe(0);
  expect(printed.join('\n')).toContain('moved 1 message');

  await pollUntil(
    () => poller.pollOnce(),
    () => stored(poisonId),
  );
  expect(await messagesIn(queues.deadLetterQueueUrl)).toBe(0);
  expect((await queries.project('ZTYzZjRhYjE'))?.status).toBe('COMPLETED');
});
