/** `npm run redrive` against a real local SQS server: dead-lettered messages go back. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { ensureQueues, type LocalQueues } from '../scripts/local/servers.ts';
import { main, redrive } from '../scripts/redrive.ts';
import { drainQueue, startedForTests, startLocalSqs } from './support/local-aws.ts';

const local = startedForTests(startLocalSqs);

/** Sends `bodies`, then receives them until SQS moves each to the DLQ (maxReceiveCount 1). */
async function deadLetter(queues: LocalQueues, bodies: readonly string[]): Promise<void> {
  for (const body of bodies) {
    await local.sqs.send(new SendMessageCommand({ QueueUrl: queues.queueUrl, MessageBody: body }));
  }
  const deadline = Date.now() + 10_000;
  while ((await visibleMessages(queues.deadLetterQueueUrl)) < bodies.length) {
    if (Date.now() > deadline) throw new Error('messages never reached the dead-letter queue');
    // Visibility 0: each received message is at once receivable again, which exceeds
    // maxReceiveCount and sends it to the DLQ.
    await local.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queues.queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 0,
        WaitTimeSeconds: 0,
      }),
    );
  }
}

async function visibleMessages(queueUrl: string): Promise<number> {
  const { Attributes } = await local.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages'],
    }),
  );
  return Number(Attributes?.ApproximateNumberOfMessages ?? 0);
}

describe('redrive', () => {
  it('moves every dead-lettered message back to its source queue and counts them', async () => {
    const queues = await local.createQueues({ maxReceiveCount: 1 });
    const bodies = ['{"n":1}', '{"n":2}', '{"n":3}'];
    await deadLetter(queues, bodies);

    const result = await redrive(local.sqs, {
      deadLetterQueueArn: queues.deadLetterQueueArn,
      timeoutMs: 10_000,
      pollIntervalMs: 50,
    });

    expect(result).toEqual({ status: 'COMPLETED', messagesMoved: 3 });
    const back = await drainQueue(local.sqs, queues.queueUrl);
    expect(back.map((message) => message.Body).sort()).toEqual(bodies);
    expect(await visibleMessages(queues.deadLetterQueueUrl)).toBe(0);
  });

  it('finds the local stack queues from SQS_PORT and QUEUE_NAME, as npm start reads them', async () => {
    const queues = await ensureQueues(local.sqs, {
      queueName: 'redrive-by-port',
      visibilityTimeoutSeconds: 30,
      maxReceiveCount: 1,
    });
    await deadLetter(queues, ['{"event":"late"}']);
    const lines: string[] = [];

    const exitCode = await main(
      [],
      { SQS_PORT: new URL(local.server.endpoint).port, QUEUE_NAME: 'redrive-by-port' },
      {
        log: (line) => lines.push(line),
        error: (line) => lines.push(line),
      },
    );

    expect(exitCode).toBe(0);
    expect(lines).toEqual([
      `COMPLETED: moved 1 message from ${queues.deadLetterQueueArn} to the queue each message came from`,
    ]);
    expect((await drainQueue(local.sqs, queues.queueUrl)).map((m) => m.Body)).toEqual([
      '{"event":"late"}',
    ]);
  });
});

describe('npm run redrive', () => {
  it('refuses SQS_PORT 0 with a line saying which port to give, not a guess', async () => {
    const lines: string[] = [];
    const exitCode = await main(
      [],
      { SQS_PORT: '0' },
      { log: () => {}, error: (line) => lines.push(line) },
    );
    expect(exitCode).toBe(2);
    expect(lines).toEqual([
      'npm run redrive: SQS_PORT is 0, so npm start picked a free port: set SQS_PORT to the port its banner shows, or SQS_ENDPOINT',
    ]);
  });

  it('prints the usage and exits non-zero on an unknown flag, without a stack trace', async () => {
    const run = promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'scripts/redrive.ts', '--queue', 'x'],
      { env: { ...process.env, SQS_ENDPOINT: 'http://127.0.0.1:9' } },
    );
    const failure = await run.then(
      () => {
        throw new Error('expected a non-zero exit');
      },
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure.code).toBe(2);
    expect(failure.stderr).toContain("Unknown option '--queue'");
    expect(failure.stderr).toContain('Usage: npm run redrive');
    expect(failure.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  });

  it('refuses an argument that is not a queue ARN', async () => {
    const lines: string[] = [];
    const exitCode = await main(
      ['--dlq-arn', 'datasaur-webhooks-dlq'],
      {},
      {
        log: (line) => lines.push(line),
        error: (line) => lines.push(line),
      },
    );
    expect(exitCode).toBe(2);
    expect(lines.join('\n')).toContain('--dlq-arn must be an SQS queue ARN');
  });
});
