/**
 * Every key the table uses, built in one place: the worker writes with these builders and
 * the queries read with them, so a key format changes in exactly one file.
 */

/** Sort-key prefix shared by project events, export deliveries, label and unknown events. */
export const EVENT_SORT_PREFIX = 'EVENT#';
export const PROJECT_SORT_KEY = 'PROJECT';

export interface TableKey {
  readonly pk: string;
  readonly sk: string;
}

/** The UTC calendar day (`yyyy-mm-dd`) of an ISO instant: the partition of day-bucketed items. */
export function dayOf(isoInstant: string): string {
  return isoInstant.slice(0, 10);
}

export function projectPartition(projectId: string): string {
  return `PROJECT#${projectId}`;
}

export function documentPartition(documentId: string): string {
  return `DOCUMENT#${documentId}`;
}

/**
 * Partitions each day-bucketed key (the feed, rejected bodies, unknown events) is spread
 * over: one key takes at most 1,000 write units a second, and 5,000 events a second of
 * 1-unit feed entries over 10 shards is 500 a shard (docs/performance.md has the arithmetic).
 */
export const DAY_SHARDS = 10;

/**
 * The shard of an event (0 … DAY_SHARDS − 1), from its id alone (FNV-1a of its text), so a
 * redelivery lands on the shard of its first receipt.
 */
export function dayShardOf(eventId: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < eventId.length; index += 1) {
    hash ^= eventId.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % DAY_SHARDS;
}

/** Every shard number of a day partition, for readers that query them all in parallel. */
export const DAY_SHARD_NUMBERS: readonly number[] = Array.from(
  { length: DAY_SHARDS },
  (_, shard) => shard,
);

/**
 * A day partition: `<PREFIX>#<day>#<shard>`; without a shard, the unsharded partition that
 * tables written before migration step 2 still hold (read until `npm run migrate` ran).
 */
function dayPartition(prefix: string, day: string, shard: number | undefined): string {
  return shard === undefined ? `${prefix}#${day}` : `${prefix}#${day}#${shard}`;
}

export function unknownPartition(day: string, shard?: number): string {
  return dayPartition('UNKNOWN', day, shard);
}

export function rejectedPartition(day: string, shard?: number): string {
  return dayPartition('REJECTED', day, shard);
}

export function feedPartition(day: string, shard?: number): string {
  return dayPartition('FEED', day, shard);
}

/** The day partitions of one prefix, as written before sharding: `FEED#<day>`, etc. */
export const UNSHARDED_DAY_PARTITION = /^(FEED|REJECTED|UNKNOWN)#(\d{4}-\d{2}-\d{2})$/;

export function teamPartition(teamId: string): string {
  return `TEAM#${teamId}`;
}

export function projectKey(projectId: string): TableKey {
  return { pk: projectPartition(projectId), sk: PROJECT_SORT_KEY };
}

/** Project events and export deliveries share this sort-key space so they interleave by time. */
export function projectEventKey(projectId: string, time: string, eventId: string): TableKey {
  return { pk: projectPartition(projectId), sk: eventSortKey(time, eventId) };
}

export function labelEventKey(documentId: string, timestamp: string, eventId: string): TableKey {
  return { pk: documentPartition(documentId), sk: eventSortKey(timestamp, eventId) };
}

export function unknownEventKey(eventTime: string, eventId: string): TableKey {
  return {
    pk: unknownPartition(dayOf(eventTime), dayShardOf(eventId)),
    sk: eventSortKey(eventTime, eventId),
  };
}

export function rejectedKey(receivedAt: string, eventId: string): TableKey {
  return {
    pk: rejectedPartition(dayOf(receivedAt), dayShardOf(eventId)),
    sk: `${receivedAt}#${eventId}`,
  };
}

/**
 * The first receipt of an event: items whose key depends on the receive time (exports,
 * rejected bodies, unknown events without a timestamp) are keyed by this one, so the same
 * body delivered again later lands on the same item.
 */
export function receiptKey(eventId: string): TableKey {
  return { pk: `RECEIPT#${eventId}`, sk: 'RECEIPT' };
}

export function eventSortKey(time: string, eventId: string): string {
  return `${EVENT_SORT_PREFIX}${time}#${eventId}`;
}

/**
 * GSI2 (the feed): every event item by receive time, `DAY_SHARDS` partitions per day, the
 * shard picked by the event id. The event id is not repeated in the sort key: every event
 * item's table sort key ends with it (see `eventIdInSortKey`).
 */
export function feedKeys(receivedAt: string, eventId: string): { gsi2pk: string; gsi2sk: string } {
  return { gsi2pk: feedPartition(dayOf(receivedAt), dayShardOf(eventId)), gsi2sk: receivedAt };
}

/**
 * The greatest feed sort key before `to`, so a BETWEEN excludes `to` itself: its last
 * millisecond, followed by anything (older items carry `#<eventId>` after the time).
 */
export function lastFeedKeyBefore(to: string): string {
  return `${new Date(Date.parse(to) - 1).toISOString()}~`;
}

/** The event id every event item's sort key ends with. */
export function eventIdInSortKey(sortKey: string): string {
  return sortKey.slice(sortKey.lastIndexOf('#') + 1);
}

/** The receive time a feed sort key holds (older items also carry `#<eventId>` after it). */
export function receivedAtOf(feedSortKey: string): string {
  const separator = feedSortKey.indexOf('#');
  return separator === -1 ? feedSortKey : feedSortKey.slice(0, separator);
}

/** GSI1 (a team's projects): only project items with a team and a status carry these keys. */
export function teamProjectKeys(
  teamId: string,
  status: string,
  statusAt: string,
  projectId: string,
): { gsi1pk: string; gsi1sk: string } {
  return { gsi1pk: teamPartition(teamId), gsi1sk: `${status}#${statusAt}#${projectId}` };
}

/** Splits a `<time>#<eventId>` pair (a rejected sort key, or an event key without its prefix). */
export function parseTimeAndEventId(value: string): { time: string; eventId: string } {
  const separator = value.lastIndexOf('#');
  return { time: value.slice(0, separator), eventId: value.slice(separator + 1) };
}

/** Sort-key prefix of archived exports in a project's partition (apart from its events). */
export const EXPORT_SORT_PREFIX = 'EXPORT#';

/** One archived export: per project, what triggered it and when (a status change, a push, a request). */
export function exportArchiveKey(projectId: string, trigger: string, statusAt: string): TableKey {
  return { pk: projectPartition(projectId), sk: `${EXPORT_SORT_PREFIX}${trigger}#${statusAt}` };
}

export function exportStatusPartition(exportStatus: string): string {
  return `EXPORTS#${exportStatus}`;
}

/** GSI1 for archived exports: one partition per export status, newest request last. */
export function exportStatusKeys(
  exportStatus: string,
  requestedAt: string,
  teamId: string,
  projectId: string,
): { gsi1pk: string; gsi1sk: string } {
  return {
    gsi1pk: exportStatusPartition(exportStatus),
    gsi1sk: `${requestedAt}#${teamId}#${projectId}`,
  };
}

/** Where an archived export's file lands in the archive bucket. */
export function exportObjectKey(
  teamId: string,
  projectId: string,
  trigger: string,
  statusAt: string,
): string {
  // Ids from Datasaur's API as well as webhooks: an unpaired surrogate (which makes
  // encodeURIComponent throw) becomes U+FFFD, as DynamoDB's UTF-8 stores it. An id of dots
  // alone is encoded too: a key `exports/../..` would climb out of its folder when a tool
  // copies the bucket to disk.
  const segment = (value: string) => {
    const encoded = encodeURIComponent(value.replace(/[\uD800-\uDFFF]/gu, '\uFFFD'));
    return /^\.+$/.test(encoded) ? encoded.replaceAll('.', '%2E') : encoded;
  };
  // No colons (they trip Windows, some shells and tools): 2026-11-30T05-00-00.000Z still sorts.
  const time = statusAt.replaceAll(':', '-');
  return `exports/${segment(teamId)}/${segment(projectId)}/${segment(trigger)}/${segment(time)}.zip`;
}

/** Every reconcile run, in one partition: a few dozen small items a day, read newest first. */
export const RECONCILE_PARTITION = 'RECONCILE';

export function reconcileRunKey(startedAt: string, runId: string): TableKey {
  return { pk: RECONCILE_PARTITION, sk: `RUN#${startedAt}#${runId}` };
}

/** The reconciler's single-flight lease: one item, outside the partition of the runs. */
export function reconcileLeaseKey(): TableKey {
  return { pk: 'LEASE#RECONCILE', sk: 'LEASE' };
}

/** Per-hour event counters, spread over a few partitions so no counter is a hot key. */
export const HOURLY_COUNT_PREFIX = 'COUNTS#';

export const HOURLY_COUNT_SORT_PREFIX = 'HOUR#';

/** One shard's counters of one UTC hour (`yyyy-mm-ddThh`). */
export function hourlyCountKey(shard: number, hour: string): TableKey {
  return { pk: `${HOURLY_COUNT_PREFIX}${shard}`, sk: `${HOURLY_COUNT_SORT_PREFIX}${hour}` };
}

/** Where a document's project is kept once learned (and that it is still unknown, before). */
export function documentProjectKey(documentId: string): TableKey {
  return { pk: `DOC#${documentId}`, sk: 'DOC' };
}

/** GSI1 partition of the documents whose project is not yet learned (or not yet filled in). */
export const PENDING_DOCUMENTS_PARTITION = 'DOCS#PENDING';

/** GSI1 for a pending document: due first, so a run reads only the documents due now. */
export function pendingDocumentKeys(
  dueAt: string,
  documentId: string,
): { gsi1pk: string; gsi1sk: string } {
  return { gsi1pk: PENDING_DOCUMENTS_PARTITION, gsi1sk: `${dueAt}#${documentId}` };
}

/**
 * GSI4 (a project's label events): written only on label items whose project is known. The
 * index sorts by the item's own sort key (`EVENT#<time>#<eventId>`), so newest first is a
 * reverse Query and no copy of that key is stored.
 */
export function projectLabelKeys(projectId: string): { gsi4pk: string } {
  return { gsi4pk: projectPartition(projectId) };
}

/** A project's label counters (documents, label events), beside the project's own item. */
export function projectLabelCountsKey(projectId: string): TableKey {
  return { pk: projectPartition(projectId), sk: 'LABELS' };
}

/**
 * GSI1 partition of every project with label counters, by project id: the enrichment checks
 * them a few at a time, in turn, for label events stored since they were counted.
 */
export const COUNTED_PROJECTS_PARTITION = 'LABELS#COUNTED';

export function countedProjectKeys(projectId: string): { gsi1pk: string; gsi1sk: string } {
  return { gsi1pk: COUNTED_PROJECTS_PARTITION, gsi1sk: projectId };
}

/** Where the enrichment keeps how far it got, for the next pass to go on from there. */
export const ENRICH_PARTITION = 'ENRICH';

export const PROJECT_WALK_SORT_PREFIX = 'WALK#';

/** Where the enrichment's walk through a team's projects (all projects, for no team) stopped. */
export function projectWalkKey(teamId: string | undefined): TableKey {
  return {
    pk: ENRICH_PARTITION,
    sk: `${PROJECT_WALK_SORT_PREFIX}${teamId === undefined ? 'NO_TEAM' : `TEAM#${teamId}`}`,
  };
}

/** The last project whose label counters the enrichment checked: the next check starts after it. */
export function labelCountsCheckKey(): TableKey {
  return { pk: ENRICH_PARTITION, sk: 'COUNT_CHECK' };
}
