/** `BusClient` through the SDK's EventBridge client. */
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { BusClient } from './bus-publisher.ts';

export function sdkBusClient(client: EventBridgeClient): BusClient {
  return { putEvents: (input) => client.send(new PutEventsCommand(input)) };
}
