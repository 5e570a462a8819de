/**
 * Which partitions of the table a function may read or write items in: IAM's
 * `dynamodb:LeadingKeys` condition on its item statements. A key outside them is
 * `AccessDeniedException` in AWS, so each list names every partition its function's code
 * touches (`test/support/leading-keys.ts` holds the tests' table clients to the same lists).
 */
import {
  documentPartition,
  documentProjectKey,
  ENRICH_PARTITION,
  HOURLY_COUNT_PREFIX,
  projectPartition,
  RECONCILE_PARTITION,
  receiptKey,
  reconcileLeaseKey,
} from '../../shared/store/keys.ts';

/** IAM's StringLike patterns: `*` any run of characters, `?` one. */
export type PartitionPatterns = readonly string[];

/** The counters the worker and the reconciler add to (shared/store/hourly-counts.ts). */
export const HOURLY_COUNT_PARTITIONS: PartitionPatterns = [`${HOURLY_COUNT_PREFIX}*`];

/**
 * The exporter's: its projects' partitions alone, where the project item, each export's item
 * and a pushed export's stored delivery (whose link it removes) are kept.
 */
export const EXPORTER_ITEM_PARTITIONS: PartitionPatterns = [projectPartition('*')];

/**
 * The enrichment's: each document's project (`DOC#`), the document's label events
 * (`DOCUMENT#`, given their project), each project's label counters (`PROJECT#`) and its own
 * progress (walks through the teams' projects, the counters' check).
 */
export const ENRICH_ITEM_PARTITIONS: PartitionPatterns = [
  documentProjectKey('*').pk,
  documentPartition('*'),
  projectPartition('*'),
  ENRICH_PARTITION,
];

/**
 * The reconciler's: the projects' partitions (project items, the status events it repairs),
 * each repaired event's first-receipt record, its runs and its single-flight lease. The hourly
 * counters it adds to have their own statement (HOURLY_COUNT_PARTITIONS).
 */
export const RECONCILER_ITEM_PARTITIONS: PartitionPatterns = [
  projectPartition('*'),
  receiptKey('*').pk,
  RECONCILE_PARTITION,
  reconcileLeaseKey().pk,
];

/** The condition for a statement on the table's items: every key it names matches a pattern. */
export function onlyPartitions(patterns: PartitionPatterns): Record<string, unknown> {
  return { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...patterns] } };
}
