/** `npm run redrive` against a real local SQS server: dead-lettered messages go back. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { type StackParts, stackOperations } from '../scripts/console/operations.ts';
import { ensureQueues, type LocalQueues } from '../scripts/local/servers.ts';
import { redrive as redriveTask } from '../scripts/operations/redrive.ts';
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
  it('says in one line that a local stack without an exporter has no export dead-letter queue', async () => {
    const lines: string[] = [];
    const exitCode = await main(
      ['--exports'],
      { SQS_PORT: new URL(local.server.endpoint).port, QUEUE_NAME: 'no-exporter-here' },
      { log: (line) => lines.push(line), error: (line) => lines.push(line) },
    );
    expect(exitCode).toBe(1);
    expect(lines).toEqual([
      'npm run redrive: no export dead-letter queue no-exporter-here-exports-dlq in the local stack: its npm start runs no exporter (start it with DATASAUR_API_URL, and DATASAUR_CLIENT_ID and DATASAUR_CLIENT_SECRET, set)',
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

describe('the console redrive, when the move task outlasts its wait', () => {
  /**
   * An SQS client whose move task never finishes and has moved `moved` messages: real SQS
   * does this with a large DLQ and a low rate; the local server finishes at once, so this is
   * the one fault these tests inject with a stand-in client.
   */
  function runningTaskSqs(moved: number): SQSClient {
    const send = async (command: unknown) => {
      if (command instanceof StartMessageMoveTaskCommand) return { TaskHandle: 'task-1' };
      if (command instanceof ListMessageMoveTasksCommand) {
        return {
          Results: [
            { TaskHandle: 'task-1', Status: 'RUNNING', ApproximateNumberOfMessagesMoved: moved },
          ],
        };
      }
      throw new Error('unexpected command');
    };
    return { send } as unknown as SQSClient;
  }

  function operationsWith(sqs: SQSClient) {
    const arn = 'arn:aws:sqs:us-east-1:000000000000:queue-dlq';
    const parts = {
      sqs,
      deadLetterQueues: [
        {
          name: 'queue-dlq',
          url: async () => 'http://127.0.0.1/queue-dlq',
          arn: async () => arn,
          sourceArn: async () => 'arn:aws:sqs:us-east-1:000000000000:queue',
        },
      ],
    } as unknown as StackParts;
    return stackOperations(parts, { redriveWaitMs: 50, redrivePollMs: 10 });
  }

  it('says Partly done with what moved so far, not a failure: SQS goes on moving the rest', async () => {
    const result = await operationsWith(runningTaskSqs(7)).redrive('queue-dlq');
    expect(result.outcome).toBe('partly done');
    expect(result.message).toBe(
      "Redrive of queue-dlq still RUNNING after 0.05 s: 7 messages moved back to queue so far; SQS moves the rest (reload to see the queue's count).",
    );
  });

  it('says Not done, as an error, while nothing has moved yet', async () => {
    await expect(operationsWith(runningTaskSqs(0)).redrive('queue-dlq')).rejects.toThrow(
      'the move task is still RUNNING after 0.05 s (0 moved so far); it keeps running in SQS',
    );
  });

  it('npm run redrive still reports the wait that ended as an error with the count', async () => {
    await expect(
      redriveTask(runningTaskSqs(3), {
        deadLetterQueueArn: 'arn:aws:sqs:us-east-1:000000000000:queue-dlq',
        timeoutMs: 50,
        pollIntervalMs: 10,
      }),
    ).rejects.toThrow(
      'the move task is still RUNNING after 0.05 s (3 moved so far); it keeps running in SQS',
    );
  });
});
