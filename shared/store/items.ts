/**
 * The items the table holds, and how an interpreted message becomes one. Pure: the event
 * store writes these, the project state is derived from them, the queries return them.
 */
import type { BodyObject } from '../webhook/claim-check.ts';
import type {
  BeforeUpdateLabelsEvent,
  ExportDelivery,
  Person,
  ProjectEvent,
  ProjectStatus,
} from '../webhook/events.ts';
import type { InterpretedMessage } from '../webhook/interpret.ts';
import {
  documentPartition,
  EVENT_SORT_PREFIX,
  feedKeys,
  labelEventKey,
  parseTimeAndEventId,
  projectEventKey,
  rejectedKey,
  type TableKey,
  unknownEventKey,
} from './keys.ts';
import { TABLE } from './table.ts';
import { itemSize, MAX_ITEM_BYTES } from './write-units.ts';

export const EXPORT_EVENT_TYPE = 'EXPORT_DELIVERY';

/**
 * Attributes every event item carries; GSI2 (the feed) projects the small ones. The event id
 * lives only at the end of the sort key, the receive time only in the feed sort key: label
 * events are the volume, and every byte repeated pushes more of them past 1 KB.
 */
type EventItemBase = TableKey & {
  readonly gsi2pk: string;
  readonly gsi2sk: string;
};

export type ProjectEventItem = EventItemBase & {
  readonly itemType: 'projectEvent';
  readonly eventType: ProjectEvent['eventType'];
  readonly projectId: string;
  readonly teamId: string;
  readonly data: ProjectEvent['data'];
};

export type ExportItem = EventItemBase & {
  readonly itemType: 'export';
  readonly eventType: typeof EXPORT_EVENT_TYPE;
  readonly projectId: string;
  readonly documentId?: string;
  readonly data: ExportDelivery;
};

export type LabelEventItem = EventItemBase & {
  readonly itemType: 'labelEvent';
  readonly eventType: BeforeUpdateLabelsEvent['eventType'];
  readonly documentId: string;
  readonly teamId?: string;
} & (
    | { readonly data: BeforeUpdateLabelsEvent['data'] }
    | {
        /** Everything but the label lists, which only the body in S3 holds. */
        readonly data: LabelEventSummary;
        readonly labelCounts: LabelCounts;
        readonly bodyObject: BodyObject;
      }
  );

/** The data of a label event without its label lists (and any field Datasaur adds). */
export type LabelEventSummary = Pick<
  BeforeUpdateLabelsEvent['data'],
  'timestamp' | 'document' | 'isReviewDocument' | 'owner' | 'team'
> &
  Record<string, unknown>;

/** How many labels a label event upserts and deletes. */
export interface LabelCounts {
  readonly toUpsert: number;
  readonly toDelete: number;
}

export type UnknownEventItem = EventItemBase & {
  readonly itemType: 'unknownEvent';
  readonly eventType: string;
  readonly expiresAt?: number;
} & ({ readonly payload: Record<string, unknown> } | { readonly bodyObject: BodyObject });

export type RejectedItem = EventItemBase & {
  readonly itemType: 'rejected';
  readonly reason: string;
  /**
   * `webhook`: a signed webhook (its signature checked by the ingest); `queue`: a queue
   * message that never passed the signature check. Only `webhook` bodies are replayed.
   * Absent on items stored before it was recorded.
   */
  readonly provenance?: InterpretedMessage['provenance'];
  /** The webhook's HTTP method, when it came as a webhook. */
  readonly method?: 'POST' | 'PUT';
  readonly expiresAt?: number;
} & (
    | {
        /** The raw body: text when it is valid UTF-8, else the bytes. */
        readonly body: string | Uint8Array;
      }
    | {
        /** The raw body is too large for an item: it stays in the archive bucket. */
        readonly bodyObject: BodyObject;
      }
  );

/**
 * A status change the reconciler found in Datasaur's API and no webhook delivered: stored
 * beside the project's webhook events (same sort-key space, so the project derivation reads
 * it), but never mistaken for one: its own item type, `source: "reconcile"`, and the API
 * field its timestamp came from. See reconcile.ts.
 */
export type SyntheticStatusEventItem = EventItemBase & {
  readonly itemType: 'syntheticStatusEvent';
  /** The webhook it stands in for. */
  readonly eventType: ProjectEvent['eventType'];
  readonly source: typeof RECONCILE_SOURCE;
  readonly projectId: string;
  readonly teamId: string;
  readonly data: {
    readonly timestamp: string;
    readonly project: { readonly id: string; readonly name?: string; readonly tags?: string[] };
    readonly team: { readonly id: string; readonly name?: string };
  };
  /** Datasaur's `GqlProjectStatus` when the reconciler saw the project. */
  readonly datasaurStatus: string;
  /** The API field `data.timestamp` was taken from; `reconciledAt` when the API had none. */
  readonly timestampFrom: 'createdDate' | 'updatedDate' | 'completedDate' | 'reconciledAt';
  readonly reconciledAt: string;
};

export const RECONCILE_SOURCE = 'reconcile' as const;

/** Project events from webhooks and from the reconciler: what a project's status derives from. */
export type StatusEventItem = ProjectEventItem | SyntheticStatusEventItem;

export type EventItem =
  | ProjectEventItem
  | SyntheticStatusEventItem
  | ExportItem
  | LabelEventItem
  | UnknownEventItem
  | RejectedItem;

/** The project, derived from its events and export deliveries (see project-state.ts). */
export type ProjectItem = TableKey & {
  readonly itemType: 'project';
  readonly projectId: string;
  readonly name?: string;
  readonly tags?: readonly string[];
  readonly teamId?: string;
  readonly teamName?: string;
  readonly status?: ProjectStatus;
  readonly statusAt?: string;
  /** "reconcile" while the status shown was set by the reconciler and no webhook confirmed it. */
  readonly source?: typeof RECONCILE_SOURCE;
  readonly createdAt?: string;
  readonly completedAt?: string;
  readonly completedBy?: Person;
  readonly reviewedAt?: string;
  readonly reviewedBy?: Person;
  readonly lastEventAt: string;
  /** The newest export Datasaur pushed; its link stays on the export event item only. */
  readonly lastExport?: {
    readonly at: string;
    readonly documentId?: string;
    readonly userId?: string;
  };
  /** How many events and exports this item was derived from; guards against regressions. */
  readonly eventCount: number;
  readonly gsi1pk?: string;
  readonly gsi1sk?: string;
};

export type EventItemOptions = {
  /** Days after receipt when rejected and unknown items expire; undefined keeps them. */
  readonly rawTtlDays?: number;
};

/** The one item a message is stored as. */
export function eventItem(message: InterpretedMessage, options: EventItemOptions = {}): EventItem {
  const { eventId, receivedAt, interpretation } = message;
  const base = feedKeys(receivedAt);

  switch (interpretation.kind) {
    case 'projectEvent': {
      const { eventType, data } = interpretation.event;
      return {
        ...projectEventKey(data.project.id, data.timestamp, eventId),
        ...base,
        itemType: 'projectEvent',
        eventType,
        projectId: data.project.id,
        teamId: data.team.id,
        data,
      };
    }
    case 'export': {
      const { delivery } = interpretation;
      return {
        ...projectEventKey(delivery.projectId, receivedAt, eventId),
        ...base,
        itemType: 'export',
        eventType: EXPORT_EVENT_TYPE,
        projectId: delivery.projectId,
        ...(delivery.documentId === undefined ? {} : { documentId: delivery.documentId }),
        data: delivery,
      };
    }
    case 'labelEvent': {
      const { eventType, data } = interpretation.event;
      return {
        ...labelEventKey(data.document.id, data.timestamp, eventId),
        ...base,
        itemType: 'labelEvent',
        eventType,
        documentId: data.document.id,
        ...(data.team === undefined ? {} : { teamId: data.team.id }),
        data,
      };
    }
    case 'unknown':
      return {
        ...unknownEventKey(interpretation.eventTime, eventId),
        ...base,
        itemType: 'unknownEvent',
        eventType: interpretation.eventType,
        payload: interpretation.payload,
        ...expiry(receivedAt, options),
      };
    case 'rejected':
      return rejectedItem(message, interpretation.reason, options);
  }
}

/** A body kept raw with the reason it could not be interpreted or stored. */
/** Long enough for a dozen schema issues, short enough to keep the item within its limit. */
const MAX_REASON_LENGTH = 2_000;

export function rejectedItem(
  message: InterpretedMessage,
  reason: string,
  options: EventItemOptions = {},
): RejectedItem {
  const { eventId, receivedAt, rawBody, bodyObject, provenance, method } = message;
  const text = rawBody.toString('utf8');
  const isText = Buffer.from(text, 'utf8').equals(rawBody);
  const base = {
    ...rejectedKey(receivedAt, eventId),
    ...feedKeys(receivedAt),
    itemType: 'rejected',
    provenance,
    ...(method === undefined ? {} : { method }),
    // A schema failure can list thousands of issues; the body keeps the whole story.
    reason: reason.length > MAX_REASON_LENGTH ? `${reason.slice(0, MAX_REASON_LENGTH)}…` : reason,
    ...expiry(receivedAt, options),
  } as const;
  const withBody = { ...base, body: isText ? text : new Uint8Array(rawBody) };
  if (bodyObject === undefined || itemSize(withBody) <= MAX_ITEM_BYTES) return withBody;
  return { ...base, bodyObject };
}

/**
 * The item of a claim-checked event too large for DynamoDB: every field the queries show,
 * the label counts, and where the whole body is. Undefined for items that cannot be
 * summarized (project events and exports are never that large unless malformed).
 */
export function archivedEventItem(
  item: EventItem,
  bodyObject: BodyObject,
): LabelEventItem | UnknownEventItem | undefined {
  if (item.itemType === 'labelEvent' && !('labelCounts' in item)) {
    const { labelUpdateList, ...data } = item.data as BeforeUpdateLabelsEvent['data'];
    const { data: _full, ...rest } = item;
    return {
      ...rest,
      data,
      labelCounts: {
        toUpsert: labelUpdateList.toUpsertList.length,
        toDelete: labelUpdateList.toDeleteList.length,
      },
      bodyObject,
    };
  }
  if (item.itemType === 'unknownEvent' && 'payload' in item) {
    const { payload: _payload, ...rest } = item;
    return { ...rest, bodyObject };
  }
  return undefined;
}

/**
 * The TTL attribute for raw items: epoch seconds `rawTtlDays` after receipt. Derived from
 * the event, not the clock, so a redelivery writes the same item.
 */
function expiry(receivedAt: string, options: EventItemOptions): { expiresAt?: number } {
  if (options.rawTtlDays === undefined) return {};
  const seconds = Math.floor(Date.parse(receivedAt) / 1000) + options.rawTtlDays * 24 * 3600;
  return { [TABLE.ttlAttribute]: seconds };
}

const LABEL_EVENT_TYPE: LabelEventItem['eventType'] = 'BEFORE_UPDATE_LABELS';

/**
 * The attributes an event item is stored with. A label event, the bulk of the traffic, keeps
 * nothing its keys already say (its type, document id and timestamp), so a 1 KB body stays
 * a 1 KB item: 2 write units with its feed entry instead of 3. `restoredItem` puts it back.
 */
export function storedItem(item: EventItem): Record<string, unknown> {
  if (item.itemType !== 'labelEvent') return { ...item };
  const { itemType, eventType, documentId, data, ...rest } = item;
  const { timestamp, document, ...details } = data;
  const { id, ...documentDetails } = document;
  return { ...rest, data: { ...details, document: documentDetails } };
}

/**
 * An item as read from the table (or the feed index) with what `storedItem` left out put
 * back in its place. Items stored whole come back unchanged.
 */
export function restoredItem(stored: Record<string, unknown>): Record<string, unknown> {
  const { pk, sk } = stored;
  const labelPrefix = documentPartition('');
  if (stored.itemType !== undefined || typeof pk !== 'string' || !pk.startsWith(labelPrefix)) {
    return stored;
  }
  const documentId = pk.slice(labelPrefix.length);
  const restored: Record<string, unknown> = {
    itemType: 'labelEvent',
    eventType: LABEL_EVENT_TYPE,
    documentId,
    ...stored,
  };
  const data = stored.data as { document?: Record<string, unknown> } | undefined;
  if (data !== undefined && typeof sk === 'string') {
    const { time: timestamp } = parseTimeAndEventId(sk.slice(EVENT_SORT_PREFIX.length));
    restored.data = { timestamp, ...data, document: { id: documentId, ...data.document } };
  }
  return restored;
}

/**
 * Where an archived export stands: waiting to start (`reasonCode` says why), requested from
 * Datasaur and downloading, kept in the bucket, or given up (`reasonCode` and `reason`).
 */
export const EXPORT_STATUSES = ['WAITING', 'REQUESTED', 'ARCHIVED', 'FAILED'] as const;
export type ExportStatus = (typeof EXPORT_STATUSES)[number];

/**
 * Why an export is WAITING or FAILED, machine-readable; `reason` says it for a human. Add a
 * code here and in docs/export-archiving.md, nowhere else.
 */
export const EXPORT_REASON_CODES = [
  // WAITING
  'CREDENTIALS_MISSING',
  'CREDENTIALS_INVALID',
  // FAILED
  'URL_REFUSED',
  'TOO_LARGE',
  'DATASAUR_FAILED',
  'FILE_NOT_READY',
  'DOWNLOAD_FAILED',
  'DOWNLOAD_STALLED',
  'DEADLINE',
  'DATASAUR_UNAVAILABLE',
] as const;
export type ExportReasonCode = (typeof EXPORT_REASON_CODES)[number];

/** What made the product archive an export. */
export type ExportTrigger = 'REVIEWED' | 'COMPLETED' | 'PUSHED' | 'MANUAL';

/**
 * An export archived (or being archived) in the bucket: one per project and trigger
 * (`exportArchiveKey`). Not an event: it sorts under `EXPORT#`, apart from the project's
 * events, and does not count towards the project item.
 */
export type ExportArchiveItem = TableKey & {
  readonly itemType: 'exportArchive';
  readonly projectId: string;
  readonly teamId: string;
  readonly trigger: ExportTrigger;
  /** When the status changed (transitions), Datasaur pushed the file, or the request was made. */
  readonly statusAt: string;
  readonly status: ExportStatus;
  readonly format?: string;
  readonly role?: 'LABELER' | 'REVIEWER';
  readonly exportId?: string;
  /**
   * Datasaur's pre-signed link to the file (a credential until it expires): kept so a retry
   * can resume, removed once the export is ARCHIVED or FAILED.
   */
  readonly fileUrl?: string;
  readonly fileUrlExpiredAt?: string;
  readonly requestedAt: string;
  readonly archivedAt?: string;
  readonly failedAt?: string;
  /** Set with `reason` on WAITING and FAILED, removed on REQUESTED and ARCHIVED. */
  readonly reasonCode?: ExportReasonCode;
  readonly reason?: string;
  readonly bucket: string;
  /** The object key in the bucket (where it is, or will be, once archived). */
  readonly key: string;
  readonly bytes?: number;
  readonly sha256?: string;
  /** Attempts so far, each one receive of the export request. */
  readonly attempts: number;
  /** The export request (queue message) working on it, until `leaseUntil`. */
  readonly claimedBy?: string;
  readonly leaseUntil?: string;
  readonly gsi1pk: string;
  readonly gsi1sk: string;
};
