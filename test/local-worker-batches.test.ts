/**
 * The local worker runs several batches at once, as Lambda runs several workers: with one,
 * its receive, its writes and its delete wait on each other and a backlog builds under load.
 */
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { expect, it } from 'vitest';
import { createQueuePoller, pollConcurrently } from '../scripts/local/queue-poller.ts';
import { LOCAL_CLIENT_CONFIG } from '../scripts/local/servers.ts';
import { startLocalSqs } from './support/local-aws.ts';

const quietLogger = () => ({ error: () => {}, warn: () => {} });

/** Resolves when `condition` holds; fails after `timeoutMs` (a bound, not a sleep). */
async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached before the deadline');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

it('keeps as many batches in the handler at once as it is given pollers', async () => {
  const local = await startLocalSqs();
  const stop = new AbortController();
  try {
    const queues = await local.createQueues();
    for (let first = 0; first < 30; first += 10) {
      await local.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queues.queueUrl,
          Entries: Array.from({ length: 10 }, (_, index) => ({
            Id: `m${first + index}`,
            MessageBody: `message ${first + index}`,
          })),
        }),
      );
    }
    let inHandler = 0;
    let mostAtOnce = 0;
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const handled: string[] = [];
    // Holds every batch until three are in at the same time: one poller alone never gets there.
    const handler = async (event: SQSEvent) => {
      inHandler += 1;
      mostAtOnce = Math.max(mostAtOnce, inHandler);
      await released;
      handled.push(...event.Records.map((record) => record.body));
      inHandler -= 1;
      return { batchItemFailures: [] };
    };
    const poller = createQueuePoller({
      sqs: local.sqs,
      queueUrl: queues.queueUrl,
      queueArn: queues.queueArn,
      region: LOCAL_CLIENT_CONFIG.region,
      batchSize: 10,
      waitTimeSeconds: 1,
      logger: quietLogger(),
      handler,
    });
    const polling = pollConcurrently(poller, 3, stop.signal);
    await until(() => mostAtOnce === 3, 10_000);
    release();
    await until(() => handled.length === 30, 10_000);
    stop.abort();
    await polling;
    expect(mostAtOnce).toBe(3);
    expect(new Set(handled).size).toBe(30);
  } finally {
    stop.abort();
    await local.close();
  }
});
