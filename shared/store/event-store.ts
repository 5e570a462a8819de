/**
 * Writes interpreted messages to the table, idempotently and in any order: each event item
 * is put only if absent, and a project's item is re-derived from its events after each of
 * its events (see project-state.ts for why that converges).
 */
import type { PutCommandInput } from '@aws-sdk/lib-dynamodb';
import type { ProjectStatus } from '../webhook/events.ts';
import type { InterpretedMessage } from '../webhook/interpret.ts';
import { createDocumentProjects, withProject } from './document-projects.ts';
import { keyLimitProblem } from './item-limits.ts';
import {
  archivedEventItem,
  type EventItem,
  type EventItemOptions,
  type ExportItem,
  eventItem,
  type ProjectItem,
  rejectedItem,
  type StatusEventItem,
  type SyntheticStatusEventItem,
  withoutFileUrl,
} from './items.ts';
import {
  EVENT_SORT_PREFIX,
  feedKeys,
  PROJECT_SORT_KEY,
  projectEventKey,
  projectPartition,
  receiptKey,
} from './keys.ts';
import { deriveProject, transitionOfEvent } from './project-state.ts';
import { queryAll } from './query-all.ts';
import { isConditionalCheckFailed, type TableDocuments } from './table-documents.ts';
import { type Item, type ItemWrite, itemSize, MAX_ITEM_BYTES } from './write-units.ts';

export interface RecordedEvent {
  /** The event item as stored (a rejected item when DynamoDB could not take the parsed one). */
  readonly item: EventItem;
  /** True when the event item was already there: a redelivery. */
  readonly duplicate: boolean;
  /**
   * For a duplicate: true when the delivery that stored it came again (an SQS retry, a
   * redrive from the DLQ: its receive time is the stored one), false when Datasaur sent the
   * same body again (a later receive time).
   */
  readonly sameDelivery?: boolean;
  /** Every Put attempted, with the items as stored, for counting write units. */
  readonly writes: readonly ItemWrite[];
  /**
   * For a status event, the transition it belongs to once stored: what an export is keyed
   * by. A webhook the reconciler already stood in for belongs to the reconciled transition,
   * so it asks for the same export, not a second one.
   */
  readonly transition?: ProjectTransition;
}

/** A project's status transition as stored: the status and the time it took effect. */
export interface ProjectTransition {
  readonly projectId: string;
  readonly teamId: string;
  readonly status: ProjectStatus;
  readonly statusAt: string;
}

/** The event item (as the domain sees it) and the Put of its stored form. */
interface StoredEvent {
  readonly item: EventItem;
  readonly write: ItemWrite;
}

/** The event item as stored, before its project is refreshed. */
export type StoredEventOutcome = Pick<RecordedEvent, 'item' | 'duplicate'>;

export interface EventStore {
  /**
   * Stores the message's event item, then refreshes its project. `onEventStored` is told as
   * soon as the event item is stored (or found stored already), before the project's refresh.
   */
  record(
    message: InterpretedMessage,
    onEventStored?: (stored: StoredEventOutcome) => void,
  ): Promise<RecordedEvent>;
  /** Stores a reconciler's status event (put if absent) and re-derives its project. */
  recordSynthetic(item: SyntheticStatusEventItem): Promise<RecordedEvent>;
}

export interface EventStoreOptions extends EventItemOptions {
  /**
   * Why a later step (publishing, the export request) could never take this event, checked
   * before it is stored: such an event is stored as rejected with that reason on its first
   * receipt instead of being stored and then retried into the dead-letter queue.
   * @default every event admitted
   */
  readonly admit?: (item: EventItem) => string | undefined;
  /**
   * Label items carry their document's project when the table knows it (one GetItem per label
   * event), and a document never seen is recorded for the enrichment step to resolve.
   * @default off
   */
  readonly documentProjects?: boolean;
  /**
   * Whether an export delivery keeps Datasaur's pre-signed link until its export ends (the
   * exporter removes it then), or is stored without it (`EXPORTS_OFF`): with exports off no
   * export will ever read it. @default true
   */
  readonly keepExportLinks?: boolean;
}

export function createEventStore(
  documents: TableDocuments,
  tableName: string,
  options: EventStoreOptions = {},
): EventStore {
  const documentProjects = options.documentProjects
    ? createDocumentProjects(documents, tableName)
    : undefined;

  /** The item with its document's project, when known (label items only). */
  async function withKnownProject(item: EventItem, writes: ItemWrite[]): Promise<EventItem> {
    if (documentProjects === undefined || item.itemType !== 'labelEvent') return item;
    const projectId = await documentProjects.projectOf(
      { id: item.documentId, originId: item.data.document.originId ?? undefined },
      item.teamId,
      item.receivedAt,
      writes,
    );
    return projectId === undefined ? item : withProject(item, projectId);
  }

  /** Puts unless present; a conditional failure (a duplicate) is an outcome, not an error. */
  async function put(input: Omit<PutCommandInput, 'TableName'>): Promise<ItemWrite> {
    const item: Item = input.Item ?? {};
    try {
      const output = await documents.put({ ...input, TableName: tableName });
      return output.Attributes === undefined ? { item } : { item, previous: output.Attributes };
    } catch (error) {
      if (isConditionalCheckFailed(error)) return { item, conditionFailed: true };
      throw error;
    }
  }

  const putEventItem = (item: EventItem) =>
    put({ Item: item, ConditionExpression: 'attribute_not_exists(pk)' });

  /**
   * The message as first received: the same body delivered again (a Datasaur retry, not an
   * SQS redelivery) carries a later receive time, and an item keyed by it would be stored
   * twice. The first receipt of each eventId is recorded once and every delivery uses it.
   */
  async function asFirstReceived(
    message: InterpretedMessage,
    writes: ItemWrite[],
  ): Promise<InterpretedMessage> {
    const receipt = {
      ...receiptKey(message.eventId),
      itemType: 'receipt',
      receivedAt: message.receivedAt,
    };
    const write = await put({ Item: receipt, ConditionExpression: 'attribute_not_exists(pk)' });
    writes.push(write);
    if (write.conditionFailed !== true) return message;
    const stored = await documents.get({
      TableName: tableName,
      Key: receiptKey(message.eventId),
      ConsistentRead: true,
    });
    const receivedAt = stored.Item?.receivedAt;
    if (typeof receivedAt !== 'string' || receivedAt === message.receivedAt) return message;
    const { interpretation } = message;
    return {
      ...message,
      receivedAt,
      interpretation:
        interpretation.kind === 'unknown' && interpretation.eventTime === message.receivedAt
          ? { ...interpretation, eventTime: receivedAt }
          : interpretation,
    };
  }

  /**
   * The synthetic event as the first run that repaired this gap wrote it. Its id is the same
   * for every run repairing the same gap, but its time comes from the API's view, which may
   * change between two concurrent runs: the first time is recorded once and every run uses it.
   */
  async function asFirstReconciled(
    item: SyntheticStatusEventItem,
    writes: ItemWrite[],
  ): Promise<SyntheticStatusEventItem> {
    const { eventId } = item;
    const receipt = {
      ...receiptKey(eventId),
      itemType: 'receipt',
      receivedAt: item.receivedAt,
      eventTime: item.eventTime,
    };
    const write = await put({ Item: receipt, ConditionExpression: 'attribute_not_exists(pk)' });
    writes.push(write);
    if (write.conditionFailed !== true) return item;
    const stored = await documents.get({
      TableName: tableName,
      Key: receiptKey(eventId),
      ConsistentRead: true,
    });
    const { receivedAt, eventTime } = stored.Item ?? {};
    if (typeof receivedAt !== 'string' || typeof eventTime !== 'string') return item;
    return {
      ...item,
      ...projectEventKey(item.projectId, eventTime, eventId),
      ...feedKeys(receivedAt, eventId),
      receivedAt,
      eventTime,
      data: { ...item.data, timestamp: eventTime },
    };
  }

  /** True when the item's key would include the receive time. */
  function keyedByReceiveTime(message: InterpretedMessage): boolean {
    const { interpretation } = message;
    return (
      interpretation.kind === 'export' ||
      interpretation.kind === 'rejected' ||
      (interpretation.kind === 'unknown' && interpretation.eventTime === message.receivedAt)
    );
  }

  /** Stores `message` as a rejected item, keyed by its first receipt. */
  async function storeRejected(
    message: InterpretedMessage,
    reason: string,
    writes: ItemWrite[],
  ): Promise<StoredEvent> {
    const firstReceived = keyedByReceiveTime(message)
      ? message
      : await asFirstReceived(message, writes);
    const fallback = rejectedItem(firstReceived, reason, options);
    return { write: await putEventItem(fallback), item: fallback };
  }

  /** Stores the event, falling back to a rejected item when DynamoDB cannot take it. */
  async function storeEvent(
    received: InterpretedMessage,
    writes: ItemWrite[],
  ): Promise<StoredEvent> {
    const message = keyedByReceiveTime(received)
      ? await asFirstReceived(received, writes)
      : received;
    const interpreted = eventItem(message, options);
    // Before the document's project is looked up: that lookup writes the document's own item.
    const tooLong = interpreted.itemType === 'rejected' ? undefined : keyLimitProblem(interpreted);
    if (tooLong !== undefined) return storeRejected(message, tooLong, writes);
    const parsed = await withKnownProject(interpreted, writes);
    if (parsed.itemType === 'rejected') return { write: await putEventItem(parsed), item: parsed };
    // Again with the project's index keys a label item may have gained.
    const refusal = keyLimitProblem(parsed) ?? options.admit?.(parsed);
    if (refusal !== undefined) return storeRejected(message, refusal, writes);
    const item =
      parsed.itemType === 'export' && options.keepExportLinks === false
        ? // Its receive time, not the clock: a redelivery writes the same item.
          withoutFileUrl(parsed, parsed.receivedAt, 'EXPORTS_OFF')
        : parsed;
    const size = itemSize(item);
    if (size > MAX_ITEM_BYTES) {
      // A claim-checked body keeps its queryable fields here and the whole of it in S3.
      const archived =
        message.bodyObject === undefined ? undefined : archivedEventItem(item, message.bodyObject);
      if (archived !== undefined && itemSize(archived) <= MAX_ITEM_BYTES) {
        return { write: await putEventItem(archived), item: archived };
      }
      const reason = `the parsed body needs ${size} bytes, over DynamoDB's item limit`;
      return storeRejected(message, reason, writes);
    }
    try {
      return { write: await putEventItem(item), item };
    } catch (error) {
      // The payload itself is unacceptable (e.g. nested too deep): retrying cannot help.
      if (!(error instanceof Error) || error.name !== 'ValidationException') throw error;
      return storeRejected(message, `DynamoDB refused the item: ${error.message}`, writes);
    }
  }

  function queryPartition(pk: string): Promise<Record<string, unknown>[]> {
    return queryAll(documents, {
      TableName: tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': pk },
      ConsistentRead: true,
    });
  }

  /**
   * Re-derives the project item from every event it has now (see project-state.ts), and
   * returns the transition of the status event `sk` when one is given.
   */
  async function refreshProject(
    projectId: string,
    sk?: string,
  ): Promise<{ write?: ItemWrite; transition?: ProjectTransition }> {
    const items = await queryPartition(projectPartition(projectId));
    const existing = items.find((item) => item.sk === PROJECT_SORT_KEY) as unknown as
      | ProjectItem
      | undefined;
    const events = items.filter((item) =>
      String(item.sk).startsWith(EVENT_SORT_PREFIX),
    ) as unknown as (StatusEventItem | ExportItem)[];
    const found = sk === undefined ? undefined : transitionOfEvent(events, sk);
    const transition: ProjectTransition | undefined = found && {
      projectId,
      teamId: found.teamId,
      status: found.status,
      statusAt: found.time,
    };
    // Derived from the same or a larger set already: the put would change nothing.
    if (existing !== undefined && existing.eventCount >= events.length) {
      return transition === undefined ? {} : { transition };
    }
    const write = await put({
      Item: deriveProject(projectId, events),
      ConditionExpression: 'attribute_not_exists(pk) OR eventCount <= :eventCount',
      ExpressionAttributeValues: { ':eventCount': events.length },
      ReturnValues: 'ALL_OLD',
    });
    return transition === undefined ? { write } : { write, transition };
  }

  /** Refreshes the project of a stored project event, export or synthetic status event. */
  async function recordedWithProject(
    stored: StoredEvent,
    writes: ItemWrite[],
  ): Promise<RecordedEvent> {
    writes.push(stored.write);
    const recorded = {
      item: stored.item,
      duplicate: stored.write.conditionFailed === true,
      writes,
    };
    const { item } = stored;
    if (
      item.itemType !== 'projectEvent' &&
      item.itemType !== 'export' &&
      item.itemType !== 'syntheticStatusEvent'
    ) {
      return recorded;
    }
    // Refreshed even after a duplicate: the previous attempt may have died between the puts.
    const refreshed = await refreshProject(
      item.projectId,
      item.itemType === 'export' ? undefined : item.sk,
    );
    if (refreshed.write !== undefined) writes.push(refreshed.write);
    return refreshed.transition === undefined
      ? recorded
      : { ...recorded, transition: refreshed.transition };
  }

  return {
    async recordSynthetic(item) {
      const writes: ItemWrite[] = [];
      const first = await asFirstReconciled(item, writes);
      return recordedWithProject({ write: await putEventItem(first), item: first }, writes);
    },
    async record(message, onEventStored) {
      const writes: ItemWrite[] = [];
      const stored = await storeEvent(message, writes);
      onEventStored?.({ item: stored.item, duplicate: stored.write.conditionFailed === true });
      const recorded = await recordedWithProject(stored, writes);
      if (!recorded.duplicate) return recorded;
      // Read only for a duplicate, a rare path: the stored receive time says whose it is.
      const { Item } = await documents.get({
        TableName: tableName,
        Key: { pk: stored.item.pk, sk: stored.item.sk },
        ProjectionExpression: 'receivedAt',
        ConsistentRead: true,
      });
      return { ...recorded, sameDelivery: Item?.receivedAt === message.receivedAt };
    },
  };
}
