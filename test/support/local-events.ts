/** The local EventBridge endpoint for one test file: a temp events file, a real SDK client. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import {
  type DeliveredEvent,
  type LocalEventBus,
  startLocalEventBus,
} from '../../scripts/local/eventbridge-server.ts';
import { localEventBridge } from '../../scripts/local/servers.ts';
import { DEFAULT_EVENT_SOURCE } from '../../shared/bus/bus-events.ts';
import {
  type BusPublisher,
  type BusPublisherOptions,
  createBusPublisher,
} from '../../shared/bus/bus-publisher.ts';
import { sdkBusClient } from '../../shared/bus/sdk-bus-client.ts';

export interface TestEventBus {
  readonly bus: LocalEventBus;
  readonly client: EventBridgeClient;
  /** A publisher to the local bus; no pause between retries. */
  publisher(options?: BusPublisherOptions): BusPublisher;
  /** Every event put so far, in order. */
  events(): DeliveredEvent[];
  /** Forgets the events put so far. */
  clear(): void;
  close(): Promise<void>;
}

export async function startTestEventBus(): Promise<TestEventBus> {
  const folder = mkdtempSync(join(tmpdir(), 'local-events-'));
  const eventsFile = join(folder, 'events.jsonl');
  const bus = await startLocalEventBus({ eventsFile });
  const client = localEventBridge(bus.endpoint);
  let skip = 0;
  const lines = () =>
    readFileSync(eventsFile, { encoding: 'utf8', flag: 'a+' })
      .split('\n')
      .filter((line) => line !== '');
  return {
    bus,
    client,
    publisher: (options = {}) =>
      createBusPublisher(
        sdkBusClient(client),
        { eventBusName: 'default', source: DEFAULT_EVENT_SOURCE },
        { retryDelayMs: 0, ...options },
      ),
    events: () =>
      lines()
        .slice(skip)
        .map((line) => JSON.parse(line) as DeliveredEvent),
    clear: () => {
      skip = lines().length;
    },
    close: async () => {
      client.destroy();
      await bus.close();
      rmSync(folder, { recursive: true, force: true });
    },
  };
}
