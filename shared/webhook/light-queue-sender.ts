/** SQS's `SendMessage` and `ChangeMessageVisibility` through the light AWS client (issue 27). */
import { createHash } from 'node:crypto';
import {
  createJsonClient,
  type Destroyable,
  type JsonClientOptions,
  SQS,
} from '../runtime/aws-json-client.ts';
import type { QueueSender, QueueVisibility } from './queue-sender.ts';

/**
 * SQS's `SendMessage`, for the ingest and the exporter, and `ChangeMessageVisibility`, for the
 * exporter. As the SDK's SQS client does, the MD5 SQS answers must be the body's: a message
 * changed on the way is an error, not an accepted webhook.
 */
export function lightQueueSender(
  options: JsonClientOptions = {},
): QueueSender & QueueVisibility & Destroyable {
  const client = createJsonClient(SQS, options);
  return {
    async sendMessage(input) {
      const output = await client.call<{ MessageId?: string; MD5OfMessageBody?: string }>(
        'SendMessage',
        input,
      );
      const md5 = createHash('md5').update(input.MessageBody, 'utf8').digest('hex');
      if (output.MD5OfMessageBody !== md5) {
        throw new Error(
          `SQS SendMessage: the message's MD5 is ${md5}, SQS answered ${output.MD5OfMessageBody ?? 'none'}`,
        );
      }
      return { MessageId: output.MessageId };
    },
    changeMessageVisibility: (input) => client.call('ChangeMessageVisibility', input),
    destroy: () => client.destroy(),
  };
}
