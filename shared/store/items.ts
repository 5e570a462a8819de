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
  eventIdInSortKey,
  feedKeys,
  labelEventKey,
  parseTimeAndEventId,
  projectEventKey,
  receivedAtOf,
  rejectedKey,
  type TableKey,
  unknownEventKey,
} from './keys.ts';
import { TABLE } from './table.ts';
import { itemSize, MAX_ITEM_BYTES } from './write-units.ts';

export const EXPORT_EVENT_TYPE = 'EXPORT_DELIVERY';

/**
 * Attributes every event item carries, so any client (the console, the AWS CLI, Python, the
 * table's stream) reads an item without our code: its type, its id and when it was received.
 * GSI2 (the feed) projects the small ones; GSI3 finds an item by `eventId`.
 */
type EventItemBase = TableKey & {
  readonly gsi2pk: string;
  readonly gsi2sk: string;
  readonly eventId: string;
  readonly receivedAt: string;
};

export type ProjectEventItem = EventItemBase & {
  readonly itemType: 'projectEvent';
  readonly eventType: ProjectEvent['eventType'];
  /** The event's own time, `data.timestamp`. */
  readonly eventTime: string;
  readonly projectId: string;
  readonly teamId: string;
  readonly data: ProjectEvent['data'];
};

export type ExportItem = EventItemBase & {
  readonly itemType: 'export';
  readonly eventType: typeof EXPORT_EVENT_TYPE;
  readonly projectId: string;
  readonly documentId?: string;
} & (
    | {
        /** The body's data as received, Datasaur's pre-signed link included. */
        readonly data: ExportDelivery;
        readonly fileUrlRemovedAt?: undefined;
        readonly fileUrlRemovedBecause?: undefined;
      }
    | {
        /**
         * The body's data as received but for `fileUrl`, removed (a credential) once the
         * export it started was over (see delivery-links.ts).
         */
        readonly data: WithoutLink<ExportDelivery>;
        readonly fileUrlRemovedAt: string;
        readonly fileUrlRemovedBecause: LinkRemovalReason;
      }
  );

/**
 * Why a delivery's link went: its export ended (`ARCHIVED`, `FAILED`), exports were off when
 * it was stored (`EXPORTS_OFF`: no export would ever read it), or `npm run migrate` rewrote a
 * delivery stored before links were removed (`MIGRATED`: its export request carries the link).
 */
export const LINK_REMOVAL_REASONS = ['ARCHIVED', 'FAILED', 'EXPORTS_OFF', 'MIGRATED'] as const;
export type LinkRemovalReason = (typeof LINK_REMOVAL_REASONS)[number];

/** The delivery item without its pre-signed link, saying when and why it went. */
export function withoutFileUrl(
  item: ExportItem,
  removedAt: string,
  because: LinkRemovalReason,
): ExportItem {
  const { fileUrl: _link, ...data } = item.data;
  return { ...item, data, fileUrlRemovedAt: removedAt, fileUrlRemovedBecause: because };
}

export type LabelEventItem = EventItemBase & {
  readonly itemType: 'labelEvent';
  readonly eventType: BeforeUpdateLabelsEvent['eventType'];
  /** The event's own time, `data.timestamp`. */
  readonly eventTime: string;
  readonly documentId: string;
  readonly teamId?: string;
  /** Its document's project, once the enrichment has learned it (with its GSI4 key). */
  readonly projectId?: string;
} & (
    | { readonly data: BeforeUpdateLabelsEvent['data'] }
    | {
        /** Everything but the label lists, which only the body in S3 holds. */
        readonly data: LabelEventSummary;
        readonly labelCounts: LabelCounts;
        readonly bodyObject: BodyObject;
      }
  );

/** A delivery's data once its pre-signed link is removed: every other field as received. */
type WithoutLink<Data> = {
  readonly [Key in keyof Data as Key extends 'fileUrl' ? never : Key]: Data[Key];
} & { readonly fileUrl?: undefined };

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
  /** `data.timestamp` when the body has a valid one. */
  readonly eventTime?: string;
  readonly projectId?: string;
  readonly documentId?: string;
  readonly teamId?: string;
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
  /** The time the status took effect, `data.timestamp`. */
  readonly eventTime: string;
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
  /**
   * The API field `data.timestamp` was taken from; `reconciledAt` when the API had none and
   * the time of the reconcile run (the item's `receivedAt`) was used.
   */
  readonly timestampFrom: 'createdDate' | 'updatedDate' | 'completedDate' | 'reconciledAt';
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
  const base = { ...feedKeys(receivedAt, eventId), eventId, receivedAt };

  switch (interpretation.kind) {
    case 'projectEvent': {
      const { eventType, data } = interpretation.event;
      return {
        ...projectEventKey(data.project.id, data.timestamp, eventId),
        ...base,
        itemType: 'projectEvent',
        eventType,
        eventTime: data.timestamp,
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
        ...(delivery.documentId == null ? {} : { documentId: delivery.documentId }),
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
        eventTime: data.timestamp,
        documentId: data.document.id,
        ...(data.team == null ? {} : { teamId: data.team.id }),
        data,
      };
    }
    case 'unknown':
      return {
        ...unknownEventKey(interpretation.eventTime, eventId),
        ...base,
        itemType: 'unknownEvent',
        eventType: interpretation.eventType,
        ...(interpretation.eventTime === receivedAt ? {} : { eventTime: interpretation.eventTime }),
        ...idsNamedBy(interpretation.payload.data),
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
    ...feedKeys(receivedAt, eventId),
    itemType: 'rejected',
    eventId,
    receivedAt,
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

/** The ids an event's `data` names (`project.id`, `document.id`, `team.id`), as top-level attributes. */
export function idsNamedBy(data: unknown): {
  projectId?: string;
  documentId?: string;
  teamId?: string;
} {
  const named = (entity: string): string | undefined => {
    const value = isRecord(data) && isRecord(data[entity]) ? data[entity].id : undefined;
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const ids = { projectId: named('project'), documentId: named('document'), teamId: named('team') };
  return Object.fromEntries(Object.entries(ids).filter(([, id]) => id !== undefined));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * An item as read from the table (or the feed index), in the current layout. Event items
 * written before items described themselves (until migration step 1 of `npm run migrate`
 * rewrites them) get back what only their keys held: `eventId` (the end of `sk`),
 * `receivedAt` (the feed sort key), `eventTime` (the time in `sk`); a label event also its
 * item type, event type, document id, `data.timestamp` and `data.document.id`; a reconciler's
 * event its `receivedAt` from `reconciledAt`. Items already in the current layout come back
 * as the same object.
 */
export function restoredItem(stored: Record<string, unknown>): Record<string, unknown> {
  const { pk, sk, gsi2sk } = stored;
  if (
    typeof pk !== 'string' ||
    typeof sk !== 'string' ||
    typeof gsi2sk !== 'string' ||
    stored.eventId !== undefined
  ) {
    return stored;
  }
  const { reconciledAt, ...rest } = stored;
  const eventId = eventIdInSortKey(sk);
  const receivedAt = typeof reconciledAt === 'string' ? reconciledAt : receivedAtOf(gsi2sk);
  const timeInKey = sk.startsWith(EVENT_SORT_PREFIX)
    ? parseTimeAndEventId(sk.slice(EVENT_SORT_PREFIX.length)).time
    : undefined;
  const labelPrefix = documentPartition('');
  const strippedLabel = stored.itemType === undefined && pk.startsWith(labelPrefix);
  const itemType = strippedLabel ? 'labelEvent' : stored.itemType;
  const restored: Record<string, unknown> = {
    ...(strippedLabel && {
      itemType,
      eventType: LABEL_EVENT_TYPE,
      documentId: pk.slice(labelPrefix.length),
    }),
    ...rest,
    gsi2sk: receivedAt,
    eventId,
    receivedAt,
  };
  // Exports and rejected bodies have no time of their own; an unknown event's key holds its
  // receive time when its body had no timestamp.
  if (
    timeInKey !== undefined &&
    itemType !== 'export' &&
    !(itemType === 'unknownEvent' && timeInKey === receivedAt)
  ) {
    restored.eventTime = timeInKey;
  }
  if (itemType === 'unknownEvent' && isRecord(stored.payload)) {
    Object.assign(restored, idsNamedBy(stored.payload.data));
  }
  const data = stored.data;
  if (strippedLabel && isRecord(data)) {
    const document = isRecord(data.document) ? data.document : {};
    restored.data = {
      timestamp: timeInKey,
      ...data,
      document: { id: restored.documentId, ...document },
    };
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
  'LINK_EXPIRED',
  'DOWNLOAD_FAILED',
  'DOWNLOAD_STALLED',
  'DEADLINE',
  'DATASAUR_UNAVAILABLE',
  'ARCHIVE_WRITE_FAILED',
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
