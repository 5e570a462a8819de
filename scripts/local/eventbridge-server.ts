/**
 * A local EventBridge-API endpoint: the real `@aws-sdk/client-eventbridge` talks to it over
 * the AWS JSON 1.1 protocol (`x-amz-target: AWSEvents.PutEvents`). Each event put is
 * appended, as a rule's target would receive it, to a JSON Lines file that `npm run tail`
 * follows. No AWS server exists for this on the npm registry; the protocol is small.
 */
import { randomUUID } from 'node:crypto';
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { entrySize, MAX_CALL_BYTES, MAX_ENTRIES_PER_CALL } from '../../shared/bus/bus-publisher.ts';
import { ProtocolError, startJsonProtocolServer } from './json-protocol-server.ts';
import { LOCAL_CLIENT_CONFIG, type RunningServer } from './servers.ts';

export const LOCAL_ACCOUNT = '000000000000';

/** An event as EventBridge hands it to a rule's target. */
export interface DeliveredEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: string[];
  readonly detail: Record<string, unknown>;
}

/** A `PutEvents` request entry as it arrives on the wire. */
export interface WireEntry {
  readonly Source?: unknown;
  readonly DetailType?: unknown;
  readonly Detail?: unknown;
  readonly Resources?: unknown;
  readonly Time?: unknown;
  readonly EventBusName?: unknown;
}

/** Test-only: decides an error code for an entry (undefined: put it). */
export type EntryFault = (entry: WireEntry) => string | undefined;

export interface LocalEventBus extends RunningServer {
  /** Where events are appended, one JSON object a line. */
  readonly eventsFile: string;
  /**
   * Test-only: answers matching entries as failed (`FailedEntryCount`), as EventBridge does
   * under throttling or an internal failure, so the retry path runs against this server.
   * No HTTP request can set it.
   */
  injectEntryFaults(fault: EntryFault | undefined): void;
}

export interface LocalEventBusOptions {
  readonly eventsFile: string;
  readonly port?: number;
  readonly host?: string;
  /** Called with every event put (`EVENTS_LOG=1`). */
  readonly onEvent?: (event: DeliveredEvent) => void;
}

export async function startLocalEventBus(options: LocalEventBusOptions): Promise<LocalEventBus> {
  const { eventsFile } = options;
  await mkdir(dirname(eventsFile), { recursive: true });
  let fault: EntryFault | undefined;
  // Appends one after another, so lines keep the order the events were put in.
  let appending: Promise<void> = Promise.resolve();

  const putEvents = async (request: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const entries = request.Entries;
    if (!Array.isArray(entries) || entries.length < 1 || entries.length > MAX_ENTRIES_PER_CALL) {
      throw new ProtocolError(
        'ValidationException',
        `Entries must hold 1 to ${MAX_ENTRIES_PER_CALL} entries`,
      );
    }
    const total = entries.reduce((sum: number, entry: WireEntry) => sum + wireSize(entry), 0);
    if (total > MAX_CALL_BYTES) {
      throw new ProtocolError(
        'ValidationException',
        'Total size of the entries in the request is over the limit.',
      );
    }
    const delivered: DeliveredEvent[] = [];
    const results = entries.map((entry: WireEntry) => {
      const problem = validate(entry) ?? fault?.(entry);
      if (problem !== undefined) {
        return { ErrorCode: problem, ErrorMessage: ERROR_MESSAGES[problem] ?? 'Injected failure' };
      }
      const event = toDeliveredEvent(entry);
      delivered.push(event);
      return { EventId: event.id };
    });
    if (delivered.length > 0) {
      const lines = delivered.map((event) => `${JSON.stringify(event)}\n`).join('');
      appending = appending.then(() => appendFile(eventsFile, lines));
      await appending;
      for (const event of delivered) options.onEvent?.(event);
    }
    return {
      FailedEntryCount: entries.length - delivered.length,
      Entries: results,
    };
  };

  const server = await startJsonProtocolServer({
    targetPrefix: 'AWSEvents.',
    operations: { PutEvents: putEvents },
    internalErrorCode: 'InternalException',
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.port === undefined ? {} : { port: options.port }),
  });
  return {
    endpoint: server.endpoint,
    eventsFile,
    injectEntryFaults: (next) => {
      fault = next;
    },
    close: () => server.close(),
  };
}

const ERROR_MESSAGES: Record<string, string> = {
  InvalidArgument: 'Parameter(s) Source, DetailType, or Detail was not provided',
  MalformedDetail: 'Detail is malformed.',
};

/** EventBridge's own per-entry checks. */
function validate(entry: WireEntry): string | undefined {
  for (const field of [entry.Source, entry.DetailType, entry.Detail]) {
    if (typeof field !== 'string' || field === '') return 'InvalidArgument';
  }
  try {
    const detail: unknown = JSON.parse(entry.Detail as string);
    if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
      return 'MalformedDetail';
    }
  } catch {
    return 'MalformedDetail';
  }
  return undefined;
}

function toDeliveredEvent(entry: WireEntry): DeliveredEvent {
  // The SDK sends `Time` as epoch seconds.
  const time = typeof entry.Time === 'number' ? new Date(entry.Time * 1000) : new Date();
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': entry.DetailType as string,
    source: entry.Source as string,
    account: LOCAL_ACCOUNT,
    // EventBridge's `time` has whole seconds.
    time: `${time.toISOString().slice(0, 19)}Z`,
    region: LOCAL_CLIENT_CONFIG.region,
    resources: Array.isArray(entry.Resources) ? entry.Resources.map(String) : [],
    detail: JSON.parse(entry.Detail as string) as Record<string, unknown>,
  };
}

function wireSize(entry: WireEntry): number {
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return entrySize({
    Source: text(entry.Source),
    DetailType: text(entry.DetailType),
    Detail: text(entry.Detail),
    Resources: Array.isArray(entry.Resources) ? entry.Resources.map(String) : [],
    ...(entry.Time === undefined ? {} : { Time: new Date() }),
  });
}
