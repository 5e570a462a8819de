/** SQS's `SendMessage` through the light AWS client: the ingest Lambda's (issue 27). */
import {
  createJsonClient,
  type Destroyable,
  type JsonClientOptions,
  SQS,
} from '../runtime/aws-json-client.ts';
import type { QueueSender } from './queue-sender.ts';

/** SQS's `SendMessage`, for the ingest. */
export function lightQueueSender(options: JsonClientOptions = {}): QueueSender & Destroyable {
  const client = createJsonClient(SQS, options);
  return {
    sendMessage: (input) => client.call<{ MessageId?: string }>('SendMessage', input),
    destroy: () => client.destroy(),
  };
}
