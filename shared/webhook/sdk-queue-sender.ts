/** `QueueSender` through the SDK's SQS client. */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { QueueSender } from './queue-sender.ts';

export function sdkQueueSender(sqs: SQSClient): QueueSender {
  return { sendMessage: (input) => sqs.send(new SendMessageCommand(input)) };
}
