/**
 * DynamoDB's limits on keys, checked before any write by DynamoDB's documented rules rather
 * than left to the server: dynalite accepts keys DynamoDB refuses, and an event whose item
 * (or whose project's items) cannot be written must be rejected on its first receipt, not
 * retried into the dead-letter queue.
 */
import type { EventItem } from './items.ts';
import {
  documentProjectKey,
  exportArchiveKey,
  exportObjectKey,
  exportStatusKeys,
  pendingDocumentKeys,
  teamProjectKeys,
} from './keys.ts';

/** DynamoDB: a partition key value is at most 2048 bytes (UTF-8), a sort key value 1024. */
export const MAX_PARTITION_KEY_BYTES = 2048;
export const MAX_SORT_KEY_BYTES = 1024;
/** S3: an object key is at most 1024 bytes (UTF-8). */
export const MAX_OBJECT_KEY_BYTES = 1024;

const KEY_LIMITS: Record<string, number> = {
  pk: MAX_PARTITION_KEY_BYTES,
  sk: MAX_SORT_KEY_BYTES,
  gsi1pk: MAX_PARTITION_KEY_BYTES,
  gsi1sk: MAX_SORT_KEY_BYTES,
  gsi2pk: MAX_PARTITION_KEY_BYTES,
  gsi2sk: MAX_SORT_KEY_BYTES,
  gsi3pk: MAX_PARTITION_KEY_BYTES,
  gsi4pk: MAX_PARTITION_KEY_BYTES,
  gsi4sk: MAX_SORT_KEY_BYTES,
};

/** The longest instant a derived key may hold (`toISOString()` form). */
const AN_INSTANT = '2000-01-01T00:00:00.000Z';

const bytes = (value: string) => Buffer.byteLength(value, 'utf8');

/** Why one of the item's key attributes is too long for DynamoDB, or undefined. */
function keyAttributeProblem(item: Record<string, unknown>, what: string): string | undefined {
  for (const [name, limit] of Object.entries(KEY_LIMITS)) {
    const value = item[name];
    if (typeof value === 'string' && bytes(value) > limit) {
      return `${what} key ${name} would be ${bytes(value)} bytes, over DynamoDB's ${limit}-byte ${
        limit === MAX_PARTITION_KEY_BYTES ? 'partition' : 'sort'
      } key limit`;
    }
  }
  return undefined;
}

/**
 * Why the event item, or an item derived from it later (its project, the project's
 * exports and their objects; a label event's document, recorded for the enrichment), would
 * break a key limit; undefined when all fit.
 */
export function keyLimitProblem(item: EventItem): string | undefined {
  const own = keyAttributeProblem(item as unknown as Record<string, unknown>, 'the event item');
  if (own !== undefined) return own;
  if (item.itemType === 'labelEvent') {
    const document = {
      ...documentProjectKey(item.documentId),
      ...pendingDocumentKeys(AN_INSTANT, item.documentId),
    };
    return keyAttributeProblem(document, "the label event's document");
  }
  if (item.itemType !== 'projectEvent' && item.itemType !== 'export') return undefined;
  // A pushed export's team is the project's (or "unknown-team"): the project event set it.
  return projectKeyProblem(
    item.projectId,
    item.itemType === 'projectEvent' ? item.teamId : 'unknown-team',
  );
}

/**
 * Why the items and the export object of project `projectId` in team `teamId` could not be
 * written (a key over DynamoDB's or S3's limit), or undefined.
 */
export function projectKeyProblem(projectId: string, teamId: string): string | undefined {
  const derived = {
    ...teamProjectKeys(teamId, 'COMPLETED', AN_INSTANT, projectId),
    ...exportArchiveKey(projectId, 'COMPLETED', AN_INSTANT),
  };
  const project = keyAttributeProblem(derived, "the project's");
  if (project !== undefined) return project;
  const exportKeys = exportStatusKeys('REQUESTED', AN_INSTANT, teamId, projectId);
  const exported = keyAttributeProblem(exportKeys, "the project's export");
  if (exported !== undefined) return exported;
  const objectKey = exportObjectKey(teamId, projectId, 'COMPLETED', AN_INSTANT);
  if (bytes(objectKey) > MAX_OBJECT_KEY_BYTES) {
    return `the project's export object key would be ${bytes(objectKey)} bytes, over S3's ${MAX_OBJECT_KEY_BYTES}-byte key limit`;
  }
  return undefined;
}
