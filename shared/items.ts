/**
 * The items the table holds, and how an interpreted message becomes one. Pure: the event
 * store writes these, the project state is derived from them, the queries return them.
 */
import type { BodyObject } from './claim-check.ts';
import type {
  BeforeUpdateLabelsEvent,
  ExportDelivery,
  Person,
  ProjectEvent,
  ProjectStatus,
} from './events.ts';
import type { InterpretedMessage } from './interpret.ts';
import {
  feedKeys,
  labelEventKey,
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
 * and receive time live only in the feed sort key (`<receivedAt>#<eventId>`): label events
 * are the volume, and two more attributes would push a seed-sized one past 1 KB.
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
  readonly lastExport?: {
    readonly fileUrl: string;
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
  const base = feedKeys(receivedAt, eventId);

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
  const { eventId, receivedAt, rawBody, bodyObject } = message;
  const text = rawBody.toString('utf8');
  const isText = Buffer.from(text, 'utf8').equals(rawBody);
  const base = {
    ...rejectedKey(receivedAt, eventId),
    ...feedKeys(receivedAt, eventId),
    itemType: 'rejected',
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
