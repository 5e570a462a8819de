/**
 * The normalized events this product publishes on EventBridge: one zod schema per
 * detail-type, versioned, the TypeScript types inferred from them. A detail carries the
 * event's small fields and the table key of the full item, never the labels or a raw body,
 * so it stays far below EventBridge's 1 MiB (an item is at most 400 KB to begin with).
 */
import * as z from '../runtime/schema.ts';
import { builtOnFirstUse } from '../runtime/schema.ts';
import type { EventItem, LabelEventItem } from '../store/items.ts';
import type { Person } from '../webhook/events.ts';
import { isTestEvent } from '../webhook/test-event.ts';

/** Bumped when a field changes meaning or goes away; added optional fields keep it. */
export const DETAIL_VERSION = 1 as const;
export const DEFAULT_EVENT_SOURCE = 'datasaur.webhooks';
/** A `source`: up to 256 of these characters, not starting with `aws.` (reserved for AWS). */
export const EVENT_SOURCE_PATTERN = /^(?!aws\.)[A-Za-z0-9._/-]{1,256}$/;

/** The schemas shared by several detail-types, built with the first of them. */
const parts = builtOnFirstUse(() => {
  const instant = z.iso.datetime();
  const itemKey = z
    .object({ pk: z.string(), sk: z.string() })
    .check(z.describe('The table key of the stored item that holds the whole event'));
  const person = z.object({
    id: z.string(),
    email: z.optional(z.string()),
    username: z.optional(z.string()),
    name: z.optional(z.string()),
  });
  /** What every detail of a stored webhook carries. */
  const stored = {
    version: z.literal(DETAIL_VERSION),
    eventId: z.string().check(z.describe('sha256 of the signed body: consumers dedupe on it')),
    eventTime: instant.check(z.describe("The event's own timestamp (data.timestamp)")),
    receivedAt: instant.check(z.describe('When the webhook reached this product')),
    item: itemKey,
  };
  const project = {
    ...stored,
    projectId: z.string(),
    projectName: z.optional(z.string()),
    tags: z.optional(z.array(z.string())),
    teamId: z.string(),
    teamName: z.optional(z.string()),
  };
  return { instant, itemKey, person, stored, project };
});

/**
 * Each detail-type's schema, built on its first use: a cold start builds only the
 * detail-types it publishes.
 */
export const DETAIL_SCHEMAS = {
  'Project Created': builtOnFirstUse(() =>
    z.object({ ...parts().project, status: z.literal('CREATED') }),
  ),
  'Project Completed': builtOnFirstUse(() =>
    z.object({
      ...parts().project,
      status: z.literal('COMPLETED'),
      completedBy: z.optional(parts().person),
    }),
  ),
  'Project Reviewed': builtOnFirstUse(() =>
    z.object({
      ...parts().project,
      status: z.literal('REVIEWED'),
      reviewedBy: z.optional(parts().person),
    }),
  ),
  'Labels Updated': builtOnFirstUse(() =>
    z.object({
      ...parts().stored,
      documentId: z.string(),
      documentName: z.optional(z.string()),
      fileName: z.optional(z.string()),
      teamId: z.optional(z.string()),
      // Its document's project, once the enrichment has learned it (docs/labels-by-project.md).
      projectId: z.optional(z.string()),
      isReviewDocument: z.optional(z.boolean()),
      owner: z.optional(parts().person),
      upserts: z
        .int()
        .check(z.gte(0), z.describe('Labels added or changed (labelUpdateList.toUpsertList)')),
      deletes: z.int().check(z.gte(0), z.describe('Labels removed (labelUpdateList.toDeleteList)')),
    }),
  ),
  /**
   * Datasaur pushed an export. Its pre-signed link is a credential and stays off the bus: the
   * archived copy is announced by `Export Archived`.
   */
  'Export Delivered': builtOnFirstUse(() =>
    z.object({
      ...parts().stored,
      projectId: z.string(),
      documentId: z.optional(z.string()),
      userId: z.optional(z.string()),
    }),
  ),
  'Export Archived': builtOnFirstUse(() => {
    const { instant, itemKey } = parts();
    return z.object({
      version: z.literal(DETAIL_VERSION),
      eventId: z.string().check(z.describe('One per archived export: consumers dedupe on it')),
      eventTime: instant.check(z.describe('When the file was archived (equals archivedAt)')),
      projectId: z.string(),
      teamId: z.string(),
      status: z.string().check(z.describe('The project status the export was made for')),
      statusAt: instant,
      exportId: z.string(),
      bucket: z.string(),
      key: z.string(),
      bytes: z.int().check(z.gte(0)),
      sha256: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
      format: z.string(),
      archivedAt: instant,
      item: z.optional(itemKey),
    });
  }),
  'Event Rejected': builtOnFirstUse(() => {
    const { instant, itemKey } = parts();
    return z.object({
      version: z.literal(DETAIL_VERSION),
      eventId: z.string(),
      eventTime: instant.check(
        z.describe('Equals receivedAt: a rejected body has no trusted timestamp'),
      ),
      receivedAt: instant,
      item: itemKey,
      reason: z.string(),
    });
  }),
} as const;

export type DetailType = keyof typeof DETAIL_SCHEMAS;
export const DETAIL_TYPES = Object.keys(DETAIL_SCHEMAS) as DetailType[];

/** One event for the bus: its detail-type and a detail of that type's shape. */
export type BusEvent = {
  [Type in DetailType]: { readonly detailType: Type; readonly detail: Detail<Type> };
}[DetailType];
export type Detail<Type extends DetailType> = z.infer<ReturnType<(typeof DETAIL_SCHEMAS)[Type]>>;
export type ExportArchivedDetail = Detail<'Export Archived'>;

export function isDetailType(value: string): value is DetailType {
  return Object.hasOwn(DETAIL_SCHEMAS, value);
}

/** The detail-type a stored item is published as (from what the feed index projects). */
export function detailTypeOf(item: {
  readonly itemType: EventItem['itemType'];
  readonly eventType?: string;
}): DetailType | undefined {
  switch (item.itemType) {
    case 'projectEvent':
      return PROJECT_DETAIL_TYPES[item.eventType as keyof typeof PROJECT_DETAIL_TYPES];
    case 'labelEvent':
      return 'Labels Updated';
    case 'export':
      return 'Export Delivered';
    case 'rejected':
      return 'Event Rejected';
    default:
      return undefined;
  }
}

const PROJECT_DETAIL_TYPES = {
  PROJECT_CREATED: 'Project Created',
  PROJECT_COMPLETED: 'Project Completed',
  PROJECT_REVIEWED: 'Project Reviewed',
} as const satisfies Record<string, DetailType>;

/**
 * The bus event for a stored item, or undefined for items that are not published: unknown
 * event types (their shape is not known, so no consumer could rely on it) and the
 * reconciler's synthetic status events.
 */
export function busEventOf(item: EventItem): BusEvent | undefined {
  const { eventId, receivedAt } = item;
  const base = { version: DETAIL_VERSION, eventId, receivedAt, item: { pk: item.pk, sk: item.sk } };
  switch (item.itemType) {
    case 'projectEvent': {
      const { data } = item;
      const fields = {
        ...base,
        eventTime: data.timestamp,
        projectId: item.projectId,
        ...optional('projectName', data.project.name),
        ...optional('tags', data.project.tags),
        teamId: item.teamId,
        ...optional('teamName', data.team.name),
      };
      if (item.eventType === 'PROJECT_CREATED') {
        return { detailType: 'Project Created', detail: { ...fields, status: 'CREATED' } };
      }
      if (item.eventType === 'PROJECT_COMPLETED') {
        const labeler = 'labeler' in data ? (data.labeler as Person | null | undefined) : undefined;
        return {
          detailType: 'Project Completed',
          detail: { ...fields, status: 'COMPLETED', ...optional('completedBy', summary(labeler)) },
        };
      }
      const reviewer =
        'reviewer' in data ? (data.reviewer as Person | null | undefined) : undefined;
      return {
        detailType: 'Project Reviewed',
        detail: { ...fields, status: 'REVIEWED', ...optional('reviewedBy', summary(reviewer)) },
      };
    }
    case 'labelEvent': {
      const { data } = item;
      return {
        detailType: 'Labels Updated',
        detail: {
          ...base,
          eventTime: data.timestamp,
          documentId: item.documentId,
          ...optional('documentName', data.document.name),
          ...optional('fileName', data.document.fileName),
          ...optional('teamId', item.teamId),
          ...optional('projectId', item.projectId),
          ...optional('isReviewDocument', data.isReviewDocument),
          ...optional('owner', summary(data.owner)),
          ...labelCountsOf(item),
        },
      };
    }
    case 'export':
      return {
        detailType: 'Export Delivered',
        detail: {
          ...base,
          eventTime: receivedAt,
          projectId: item.projectId,
          ...optional('documentId', item.documentId),
          ...optional('userId', item.data.userId),
        },
      };
    case 'rejected':
      return {
        detailType: 'Event Rejected',
        detail: { ...base, eventTime: receivedAt, reason: item.reason },
      };
    case 'unknownEvent':
    // Written by the reconciler, not by the worker; the reconciler publishes nothing.
    case 'syntheticStatusEvent':
      return undefined;
  }
}

/** Whether an item of this type is published at all, given the label setting. */
export function isPublished(
  item: Parameters<typeof detailTypeOf>[0] & { readonly projectId?: string },
  options: { publishLabelEvents: boolean },
): boolean {
  // The go-live check proves the path up to the table; consumers never see its event.
  if (isTestEvent(item)) return false;
  if (item.itemType === 'labelEvent') return options.publishLabelEvents;
  return detailTypeOf(item) !== undefined;
}

function summary(who: Person | null | undefined) {
  if (who == null) return undefined;
  return {
    id: who.id,
    ...optional('email', who.email),
    ...optional('username', who.username),
    ...optional('name', who.name),
  };
}

/**
 * `{ [name]: value }`, or nothing when the value is absent: details carry no undefined, and
 * a field Datasaur sent as `null` is one it did not give.
 */
function optional<Name extends string, Value>(
  name: Name,
  value: Value | null | undefined,
): { [Key in Name]?: Value } {
  return (value == null ? {} : { [name]: value }) as { [Key in Name]?: Value };
}

/** The JSON Schema (draft 4) of the whole event a rule receives, for the schema registry. */
export function eventJsonSchema(detailType: DetailType, source: string): Record<string, unknown> {
  const detailSchema: Record<string, unknown> = {
    ...z.toJSONSchema(DETAIL_SCHEMAS[detailType](), { target: 'draft-4' }),
  };
  // Only the root of a schema names its draft.
  delete detailSchema.$schema;
  return {
    $schema: 'http://json-schema.org/draft-04/schema#',
    title: detailType,
    type: 'object',
    required: ['version', 'id', 'detail-type', 'source', 'account', 'time', 'region', 'detail'],
    properties: {
      version: { type: 'string' },
      id: { type: 'string' },
      'detail-type': { type: 'string', enum: [detailType] },
      source: { type: 'string', enum: [source] },
      account: { type: 'string' },
      time: { type: 'string', format: 'date-time' },
      region: { type: 'string' },
      resources: { type: 'array', items: { type: 'string' } },
      detail: detailSchema,
    },
  };
}

/** A label event's counts: from its labels, or kept beside them when the labels are in S3. */
function labelCountsOf(item: LabelEventItem): { upserts: number; deletes: number } {
  if ('labelCounts' in item) {
    return { upserts: item.labelCounts.toUpsert, deletes: item.labelCounts.toDelete };
  }
  const { toUpsertList, toDeleteList } = item.data.labelUpdateList;
  return { upserts: toUpsertList.length, deletes: toDeleteList.length };
}
