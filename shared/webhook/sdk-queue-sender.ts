/** `QueueSender` and `QueueVisibility` through the SDK's SQS client. */
import {
  ChangeMessageVisibilityCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { QueueSender, QueueVisibility } from './queue-sender.ts';

export function sdkQueueSender(sqs: SQSClient): QueueSender & QueueVisibility {
  return {
    sendMessage: (input) => sqs.send(new SendMessageCommand(input)),
    changeMessageVisibility: (input) => sqs.send(new ChangeMessageVisibilityCommand(input)),
  };
}
