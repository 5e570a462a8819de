/**
 * Puts bus events on EventBridge in as few `PutEvents` calls as its limits allow (10 entries
 * and 1 MiB a call), and retries only the entries a call reports as failed.
 */
import type {
  PutEventsCommandInput,
  PutEventsCommandOutput,
  PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { describeError } from '../runtime/errors.ts';
import { type BusEvent, DETAIL_SCHEMAS } from './bus-events.ts';

export const MAX_ENTRIES_PER_CALL = 10;
/** EventBridge's limit on one event and on one `PutEvents` request (since January 2026). */
export const MAX_CALL_BYTES = 1_048_576;

export interface BusTarget {
  /** `default`, a bus name or a bus ARN. */
  readonly eventBusName: string;
  /** The `source` of every event. */
  readonly source: string;
}

export interface Publication<Id> {
  /** What the caller knows this event by (a queue message id, an index). */
  readonly id: Id;
  readonly event: BusEvent;
}

export interface FailedPublication<Id> {
  readonly id: Id;
  /** EventBridge's `ErrorCode`, or the error a whole call failed with. */
  readonly error: string;
}

export interface PublishOutcome<Id> {
  readonly published: Id[];
  /** Still failed after every attempt. */
  readonly failed: FailedPublication<Id>[];
  /** `PutEvents` calls made, retries included. */
  readonly calls: number;
}

/**
 * EventBridge's `PutEvents`: the SDK's client (`sdkBusClient`) or the light one the worker
 * and the exporter run (`light-bus-client.ts`). Types only here, so they do not load the SDK.
 */
export interface BusClient {
  putEvents(
    input: PutEventsCommandInput,
  ): Promise<Pick<PutEventsCommandOutput, 'FailedEntryCount' | 'Entries'>>;
}

export interface BusPublisher {
  readonly target: BusTarget;
  publish<Id>(publications: readonly Publication<Id>[]): Promise<PublishOutcome<Id>>;
}

export interface BusPublisherOptions {
  /** Attempts per entry, the first included. @default 3 */
  readonly maxAttempts?: number;
  /** First pause before a retry; doubled each time, with jitter. @default 100 */
  readonly retryDelayMs?: number;
}

export function createBusPublisher(
  client: BusClient,
  target: BusTarget,
  options: BusPublisherOptions = {},
): BusPublisher {
  const maxAttempts = options.maxAttempts ?? 3;
  const retryDelayMs = options.retryDelayMs ?? 100;

  return {
    target,
    async publish<Id>(publications: readonly Publication<Id>[]) {
      const published: Id[] = [];
      const failed: FailedPublication<Id>[] = [];
      let calls = 0;
      let pending: Pending<Id>[] = [];
      for (const { id, event } of publications) {
        const entry = safePutEventsEntry(event, target);
        if (typeof entry === 'string') failed.push({ id, error: entry });
        else pending.push({ id, entry });
      }
      for (let attempt = 1; pending.length > 0; attempt++) {
        if (attempt > 1) await pause(retryDelayMs * 2 ** (attempt - 2));
        const { fits, tooLarge } = splitBySize(pending);
        failed.push(...tooLarge.map(({ id }) => ({ id, error: 'EntryTooLarge' })));
        const outcomes = await Promise.all(
          groupForCalls(fits).map((group) => {
            calls += 1;
            return sendGroup(client, group);
          }),
        );
        for (const outcome of outcomes) published.push(...outcome.published);
        const retry = outcomes.flatMap((outcome) => outcome.failed);
        if (attempt >= maxAttempts) {
          failed.push(...retry.map(({ id, error }) => ({ id, error })));
          break;
        }
        pending = retry.map(({ id, entry }) => ({ id, entry }));
      }
      return { published, failed, calls };
    },
  };
}

/** The `PutEvents` entry of one event; the detail is checked against its schema first. */
export function putEventsEntry(event: BusEvent, target: BusTarget): PutEventsRequestEntry {
  const detail = DETAIL_SCHEMAS[event.detailType]().parse(event.detail);
  return {
    EventBusName: target.eventBusName,
    Source: target.source,
    DetailType: event.detailType,
    Detail: JSON.stringify(detail),
  };
}

/** The entry, or why the event cannot be one (a detail that does not match its schema). */
function safePutEventsEntry(event: BusEvent, target: BusTarget): PutEventsRequestEntry | string {
  try {
    return putEventsEntry(event, target);
  } catch (error) {
    return `InvalidDetail: ${describeError(error)}`;
  }
}

/** An entry's size as EventBridge counts it against its limits. */
export function entrySize(entry: PutEventsRequestEntry): number {
  const bytes = (text: string | undefined) => Buffer.byteLength(text ?? '', 'utf8');
  return (
    (entry.Time === undefined ? 0 : 14) +
    bytes(entry.Source) +
    bytes(entry.DetailType) +
    bytes(entry.Detail) +
    (entry.Resources ?? []).reduce((total, resource) => total + bytes(resource), 0)
  );
}

interface Pending<Id> {
  readonly id: Id;
  readonly entry: PutEventsRequestEntry;
}

function splitBySize<Id>(pending: readonly Pending<Id>[]) {
  return {
    fits: pending.filter(({ entry }) => entrySize(entry) <= MAX_CALL_BYTES),
    tooLarge: pending.filter(({ entry }) => entrySize(entry) > MAX_CALL_BYTES),
  };
}

/** Consecutive groups of at most 10 entries and 1 MiB. */
function groupForCalls<Id>(pending: readonly Pending<Id>[]): Pending<Id>[][] {
  const chunks: Pending<Id>[][] = [];
  let current: Pending<Id>[] = [];
  let bytes = 0;
  for (const item of pending) {
    const size = entrySize(item.entry);
    if (current.length === MAX_ENTRIES_PER_CALL || bytes + size > MAX_CALL_BYTES) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

async function sendGroup<Id>(
  client: BusClient,
  group: readonly Pending<Id>[],
): Promise<{ published: Id[]; failed: (Pending<Id> & { error: string })[] }> {
  try {
    const output = await client.putEvents({ Entries: group.map(({ entry }) => entry) });
    const results = output.Entries ?? [];
    const published: Id[] = [];
    const failed: (Pending<Id> & { error: string })[] = [];
    group.forEach((item, index) => {
      const result = results[index];
      // Entries answer in request order; one without an event id was not put.
      if (result?.EventId !== undefined && result.ErrorCode === undefined) published.push(item.id);
      else failed.push({ ...item, error: result?.ErrorCode ?? 'NoEventId' });
    });
    return { published, failed };
  } catch (error) {
    // The client has retried the call already: every entry of it counts as failed this attempt.
    return {
      published: [],
      failed: group.map((item) => ({ ...item, error: describeError(error) })),
    };
  }
}

function pause(ms: number): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  // Full jitter: concurrent workers retrying together do not retry in step.
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ms));
}
