/**
 * A load run against a running stack: sends signed project lifecycles in random order with
 * duplicates, follows the feed until every acknowledged event is queryable and the table is
 * quiet, and counts what was persisted, lost and stored twice.
 */
import { randomBytes } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { limitConcurrency } from '../../shared/runtime/concurrency.ts';
import { createQueries, type Queries, type View } from '../../shared/store/queries.ts';
import { percentile } from '../bench/measure.ts';
import { sendDatasaurRequest, signDatasaurRequest } from './datasaur-sender.ts';
import { type PartitionLoadReport, partitionLoad } from './partition-load.ts';
import {
  LOAD_EVENTS_PER_PROJECT,
  LOAD_LABEL_EVENTS_PER_PROJECT,
  projectLifecycles,
  seededRandom,
  shuffle,
  type WorkloadEvent,
} from './workload.ts';

const POLL_INTERVAL_MS = 100;
/**
 * Each poll reads only where unseen events can be (pendingRanges), so it costs the table
 * little; a longer cap would mostly add its own wait to the times it measures.
 */
const MAX_POLL_INTERVAL_MS = 250;
/** Requests a second the partition load is extrapolated to by default. */
export const DEFAULT_TARGET_RATE = 5_000;

export interface LoadOptions {
  readonly url: string;
  readonly secret: string;
  readonly documents: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Requests to send, duplicates included. */
  readonly events: number;
  readonly concurrency: number;
  /** Share of requests that repeat an event already sent. @default 0.1 */
  readonly duplicateShare?: number;
  /** Give up waiting for the table after this long without progress. @default 60 s */
  readonly quietTimeoutMs?: number;
  /** The table must stay unchanged this long after the last event appeared. @default 1 s */
  readonly quietMs?: number;
  readonly seed?: number;
  /** Requests a second to extrapolate the write units per partition key to. @default 5000 */
  readonly targetRate?: number;
  readonly onProgress?: (line: string) => void;
}

export interface LoadReport {
  readonly sent: number;
  readonly uniqueEvents: number;
  readonly acknowledged: number;
  readonly refused: number;
  readonly persisted: number;
  readonly duplicatesStored: number;
  readonly lost: number;
  readonly projects: number;
  readonly projectsReviewed: number;
  readonly ingestLatencyMs: { readonly p50: number; readonly p99: number };
  readonly timeToQueryableMs: { readonly p50: number; readonly p99: number };
  readonly sendSeconds: number;
  /** From the first request until the last acknowledged event was queryable. */
  readonly allQueryableSeconds: number;
  readonly totalSeconds: number;
  readonly eventsPerSecond: number;
  /** Write units per partition key from the items the run wrote, and at the target rate. */
  readonly partitions: PartitionLoadReport;
}

/** Wall-clock times of an event's acknowledged deliveries. */
export interface Acknowledgement {
  /** The first acknowledgement: the time to queryable counts from it. */
  readonly acknowledgedAt: number;
  /**
   * The stored item may carry the receive time of any of the event's deliveries (the worker
   * stores whichever it takes first): each was received between its send and its
   * acknowledgement, so all of them between the earliest send and the latest acknowledgement.
   */
  earliestSentAt: number;
  latestAcknowledgedAt: number;
}

export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const duplicateShare = options.duplicateShare ?? 0.1;
  const next = seededRandom(options.seed ?? Date.now());
  const unique = Math.max(1, Math.round(options.events / (1 + duplicateShare)));
  const projects = Math.max(1, Math.round(unique / LOAD_EVENTS_PER_PROJECT));
  const prefix = `load-${randomBytes(4).toString('hex')}`;
  const lifecycles = projectLifecycles({
    projects,
    labelEventsPerProject: LOAD_LABEL_EVENTS_PER_PROJECT,
    idPrefix: prefix,
    startAt: new Date(),
  });
  const duplicates = Math.max(0, options.events - lifecycles.length);
  const plan: WorkloadEvent[] = shuffle(
    [
      ...lifecycles,
      ...Array.from(
        { length: duplicates },
        () => lifecycles[Math.floor(next() * lifecycles.length)] as WorkloadEvent,
      ),
    ],
    next,
  );

  const queries = createQueries(options.documents, options.tableName);
  const startedAt = Date.now();
  const latencies: number[] = [];
  const firstAcknowledged = new Map<string, Acknowledgement>();
  const sendsPerEvent = new Map<string, number>();
  let refused = 0;
  const limited = limitConcurrency(options.concurrency);
  let sending = true;
  // Followed while sending: an event is timed when it appears, not when the last send ends.
  const following = followFeed(queries, firstAcknowledged, options, () => sending);
  try {
    await Promise.all(
      plan.map((event) =>
        limited(async () => {
          const request = signDatasaurRequest(event.body, options.secret, event.method);
          const sentAt = Date.now();
          const started = performance.now();
          const outcome = await sendDatasaurRequest(options.url, request);
          latencies.push(performance.now() - started);
          if (outcome.status !== undefined && outcome.status >= 200 && outcome.status < 300) {
            sendsPerEvent.set(outcome.eventId, (sendsPerEvent.get(outcome.eventId) ?? 0) + 1);
            const acknowledgedAt = Date.now();
            const first = firstAcknowledged.get(outcome.eventId);
            if (first === undefined) {
              firstAcknowledged.set(outcome.eventId, {
                acknowledgedAt,
                earliestSentAt: sentAt,
                latestAcknowledgedAt: acknowledgedAt,
              });
            } else {
              first.earliestSentAt = Math.min(first.earliestSentAt, sentAt);
              first.latestAcknowledgedAt = acknowledgedAt;
            }
          } else {
            refused += 1;
          }
        }),
      ),
    );
  } finally {
    sending = false;
  }
  const sentAt = Date.now();
  options.onProgress?.(
    `sent ${plan.length} requests in ${((sentAt - startedAt) / 1000).toFixed(1)} s`,
  );

  const seen = await following;
  const stored = await settledFeed(queries, startedAt, options.quietMs ?? 1000);
  const storedCounts = new Map<string, number>();
  for (const item of stored) {
    const eventId = String(item.eventId);
    storedCounts.set(eventId, (storedCounts.get(eventId) ?? 0) + 1);
  }
  // Only this run's events count: the table may hold others received meanwhile.
  const ours = [...firstAcknowledged.keys()].map((eventId) => storedCounts.get(eventId) ?? 0);
  const persisted = ours.filter((count) => count > 0).length;
  const duplicatesStored = ours.reduce((sum, count) => sum + Math.max(0, count - 1), 0);

  let projectsReviewed = 0;
  for (let project = 0; project < projects; project += 1) {
    const view = await queries.project(`${prefix}-project-${project}`);
    if (view?.status === 'REVIEWED') projectsReviewed += 1;
  }

  const toQueryable = [...seen.entries()].flatMap(([eventId, seenAt]) => {
    const acknowledged = firstAcknowledged.get(eventId);
    return acknowledged === undefined ? [] : [Math.max(0, seenAt - acknowledged.acknowledgedAt)];
  });
  const allQueryableSeconds = (Math.max(...seen.values(), sentAt) - startedAt) / 1000;
  const partitions = await partitionLoad(
    options.documents,
    options.tableName,
    {
      sendsPerEvent,
      projectPrefix: `${prefix}-project-`,
      requests: plan.length,
      seconds: allQueryableSeconds,
    },
    options.targetRate ?? DEFAULT_TARGET_RATE,
  );
  const finishedAt = Date.now();
  return {
    sent: plan.length,
    uniqueEvents: lifecycles.length,
    acknowledged: plan.length - refused,
    refused,
    persisted,
    duplicatesStored,
    lost: firstAcknowledged.size - persisted,
    projects,
    projectsReviewed,
    ingestLatencyMs: { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) },
    timeToQueryableMs: { p50: percentile(toQueryable, 0.5), p99: percentile(toQueryable, 0.99) },
    sendSeconds: (sentAt - startedAt) / 1000,
    allQueryableSeconds,
    totalSeconds: (finishedAt - startedAt) / 1000,
    eventsPerSecond: firstAcknowledged.size / allQueryableSeconds,
    partitions,
  };
}

/**
 * Polls the feed where acknowledged events not yet seen can be (`pendingRanges`), noting
 * when each first appears. Runs while `sending()` says requests are still going out
 * (`acknowledged` grows meanwhile); returns once sending has ended and all have appeared, or
 * when nothing new appeared for `quietTimeoutMs`.
 */
async function followFeed(
  queries: Queries,
  acknowledged: ReadonlyMap<string, Acknowledgement>,
  options: LoadOptions,
  sending: () => boolean,
): Promise<Map<string, number>> {
  const quietTimeoutMs = options.quietTimeoutMs ?? 60_000;
  const seen = new Map<string, number>();
  let lastProgress = Date.now();
  for (;;) {
    const stillSending = sending();
    const pending = [...acknowledged].filter(([eventId]) => !seen.has(eventId));
    if (pending.length === 0 && !stillSending) return seen;
    const now = Date.now();
    if (stillSending) lastProgress = now;
    if (now - lastProgress >= quietTimeoutMs) {
      options.onProgress?.(`${pending.length} acknowledged events not in the table; giving up`);
      return seen;
    }
    const items = await feedItemsAround(queries, pendingRanges(pending));
    const polledAt = Date.now();
    // A backlog makes each read longer; waiting up to 4× as long keeps the reads from taking
    // the table's time from the pipeline they measure, and the cap bounds the error.
    const pause = Math.min(MAX_POLL_INTERVAL_MS, Math.max(POLL_INTERVAL_MS, 4 * (polledAt - now)));
    for (const item of items) {
      const eventId = String(item.eventId);
      if (!seen.has(eventId)) {
        seen.set(eventId, polledAt);
        lastProgress = polledAt;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}

/** Receive times may differ this much from the load's clock (another machine's stack). */
const CLOCK_MARGIN_MS = 1000;

/**
 * The receive-time ranges the pending (acknowledged, not yet seen) events can be in, merged
 * where they overlap: between the earliest send and the latest acknowledgement of each, give
 * or take the clock margin. With a backlog or a straggler, the feed between them (events
 * already seen) is not read again. Requests in flight are looked for once acknowledged.
 */
export function pendingRanges(
  pending: ReadonlyArray<readonly [string, Acknowledgement]>,
): Array<readonly [number, number]> {
  const intervals = pending
    .map(([, { earliestSentAt, latestAcknowledgedAt }]): [number, number] => [
      earliestSentAt - CLOCK_MARGIN_MS,
      latestAcknowledgedAt + CLOCK_MARGIN_MS,
    ])
    .sort(([left], [right]) => left - right);
  const merged: Array<[number, number]> = [];
  for (const [from, to] of intervals) {
    const last = merged.at(-1);
    if (last !== undefined && from <= last[1]) last[1] = Math.max(last[1], to);
    else merged.push([from, to]);
  }
  return merged;
}

/** Every feed item received in any of `ranges`, read one range after the other. */
async function feedItemsAround(
  queries: Queries,
  ranges: ReadonlyArray<readonly [number, number]>,
): Promise<View[]> {
  const items: View[] = [];
  for (const [from, to] of ranges) items.push(...(await feedItems(queries, from, to)));
  return items;
}

/**
 * Every feed item of the run, read again until two reads `quietMs` apart agree: a duplicate
 * the worker were to store late would show up here.
 */
async function settledFeed(queries: Queries, startedAt: number, quietMs: number): Promise<View[]> {
  let previous = await feedItems(queries, startedAt - 1000, Date.now() + 1000);
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, quietMs));
    const current = await feedItems(queries, startedAt - 1000, Date.now() + 1000);
    if (current.length === previous.length) return current;
    previous = current;
  }
}

/** Every feed item received in [from, to), across pages. */
async function feedItems(queries: Queries, from: number, to: number): Promise<View[]> {
  const items: View[] = [];
  let cursor: string | undefined;
  do {
    const page = await queries.feed(
      { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
      { limit: 1000, ...(cursor === undefined ? {} : { cursor }) },
    );
    items.push(...page.items);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return items;
}
