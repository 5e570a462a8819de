/** EventBridge's `PutEvents` through the light AWS client: the worker Lambda's (issue 27). */
import type { PutEventsCommandInput, PutEventsCommandOutput } from '@aws-sdk/client-eventbridge';
import {
  createJsonClient,
  type Destroyable,
  EVENTBRIDGE,
  type JsonClientOptions,
} from '../runtime/aws-json-client.ts';
import type { BusClient } from './bus-publisher.ts';

/** EventBridge's `PutEvents`, for the bus publisher. */
export function lightBusClient(options: JsonClientOptions = {}): BusClient & Destroyable {
  const client = createJsonClient(EVENTBRIDGE, options);
  return {
    putEvents: (input: PutEventsCommandInput) =>
      client.call<Pick<PutEventsCommandOutput, 'FailedEntryCount' | 'Entries'>>('PutEvents', input),
    destroy: () => client.destroy(),
  };
}
