/**
 * Redrive: an SQS message move task out of a dead-letter queue, waited on until it finishes.
 * `npm run redrive` and the console's redrive action both call `redrive`.
 */
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListMessageMoveTasksCommand,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';

const FINISHED = new Set(['COMPLETED', 'CANCELLED', 'FAILED']);

export class RedriveError extends Error {
  override readonly name: string = 'RedriveError';
}

/** The wait ended before the move task did: what it has moved stays moved, and it runs on. */
export class RedriveStillRunningError extends RedriveError {
  override readonly name = 'RedriveStillRunningError';

  constructor(
    readonly status: string,
    readonly messagesMoved: number,
    timeoutMs: number,
  ) {
    super(
      `the move task is still ${status} after ${timeoutMs / 1000} s (${messagesMoved} moved so far); it keeps running in SQS`,
    );
  }
}

export interface RedriveOptions {
  readonly deadLetterQueueArn: string;
  /** @default the queue each message came from */
  readonly destinationArn?: string;
  readonly maxMessagesPerSecond?: number;
  /** How long to wait for the move task to finish. */
  readonly timeoutMs: number;
  /** Pause between two looks at the task's progress. @default 1000 */
  readonly pollIntervalMs?: number;
}

export interface RedriveResult {
  readonly status: string;
  readonly messagesMoved: number;
}

/** Starts a message move task out of the DLQ and resolves once it has finished. */
export async function redrive(sqs: SQSClient, options: RedriveOptions): Promise<RedriveResult> {
  const started = await sqs.send(
    new StartMessageMoveTaskCommand({
      SourceArn: options.deadLetterQueueArn,
      DestinationArn: options.destinationArn,
      MaxNumberOfMessagesPerSecond: options.maxMessagesPerSecond,
    }),
  );
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    // Only one move task runs per source queue, so the newest task is the one just started.
    const { Results: tasks = [] } = await sqs.send(
      new ListMessageMoveTasksCommand({ SourceArn: options.deadLetterQueueArn, MaxResults: 1 }),
    );
    const task = tasks[0];
    if (task?.TaskHandle !== undefined && task.TaskHandle !== started.TaskHandle) {
      throw new RedriveError('another message move task is running on this dead-letter queue');
    }
    const status = task?.Status ?? 'UNKNOWN';
    if (FINISHED.has(status)) {
      if (status === 'FAILED') {
        throw new RedriveError(
          `the move task failed after ${task?.ApproximateNumberOfMessagesMoved ?? 0} messages: ${task?.FailureReason ?? 'no reason given'}`,
        );
      }
      return { status, messagesMoved: task?.ApproximateNumberOfMessagesMoved ?? 0 };
    }
    if (Date.now() >= deadline) {
      throw new RedriveStillRunningError(
        status,
        task?.ApproximateNumberOfMessagesMoved ?? 0,
        options.timeoutMs,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollIntervalMs ?? 1000));
  }
}

/** A local SQS server's queue ARN by name (SQS wants ARNs for a move task). */
export async function localQueueArn(sqs: SQSClient, queueName: string): Promise<string> {
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queueName }));
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  if (Attributes?.QueueArn === undefined) {
    throw new RedriveError(`the local SQS server returned no ARN for ${QueueUrl}`);
  }
  return Attributes.QueueArn;
}
