/**
 * Writes interpreted messages to the table, idempotently and in any order: each event item
 * is put only if absent, and a project's item is re-derived from its events after each of
 * its events (see project-state.ts for why that converges).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type PutCommandInput,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import type { InterpretedMessage } from './interpret.ts';
import {
  archivedEventItem,
  type EventItem,
  type EventItemOptions,
  type ExportItem,
  eventItem,
  type ProjectEventItem,
  type ProjectItem,
  rejectedItem,
} from './items.ts';
import { EVENT_SORT_PREFIX, PROJECT_SORT_KEY, projectPartition, receiptKey } from './keys.ts';
import { deriveProject } from './project-state.ts';
import { type Item, type ItemWrite, itemSize, MAX_ITEM_BYTES } from './write-units.ts';

export interface RecordedEvent {
  /** The event item as stored (a rejected item when DynamoDB could not take the parsed one). */
  readonly item: EventItem;
  /** True when the event item was already there: a redelivery. */
  readonly duplicate: boolean;
  /** Every Put attempted, for counting write units. */
  readonly writes: readonly ItemWrite[];
}

export interface EventStore {
  record(message: InterpretedMessage): Promise<RecordedEvent>;
}

export function createEventStore(
  documents: DynamoDBDocumentClient,
  tableName: string,
  options: EventItemOptions = {},
): EventStore {
  /** Puts unless present; a conditional failure (a duplicate) is an outcome, not an error. */
  async function put(input: Omit<PutCommandInput, 'TableName'>): Promise<ItemWrite> {
    const item: Item = input.Item ?? {};
    try {
      const output = await documents.send(new PutCommand({ ...input, TableName: tableName }));
      return output.Attributes === undefined ? { item } : { item, previous: output.Attributes };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return { item, conditionFailed: true };
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
    const stored = await documents.send(
      new GetCommand({
        TableName: tableName,
        Key: receiptKey(message.eventId),
        ConsistentRead: true,
      }),
    );
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
  ): Promise<ItemWrite & { item: EventItem }> {
    const firstReceived = keyedByReceiveTime(message)
      ? message
      : await asFirstReceived(message, writes);
    const fallback = rejectedItem(firstReceived, reason, options);
    return { ...(await putEventItem(fallback)), item: fallback };
  }

  /** Stores the event, falling back to a rejected item when DynamoDB cannot take it. */
  async function storeEvent(
    received: InterpretedMessage,
    writes: ItemWrite[],
  ): Promise<ItemWrite & { item: EventItem }> {
    const message = keyedByReceiveTime(received)
      ? await asFirstReceived(received, writes)
      : received;
    const item = eventItem(message, options);
    if (item.itemType === 'rejected') return { ...(await putEventItem(item)), item };
    if (itemSize(item) > MAX_ITEM_BYTES) {
      // A claim-checked body keeps its queryable fields here and the whole of it in S3.
      const archived =
        message.bodyObject === undefined ? undefined : archivedEventItem(item, message.bodyObject);
      if (archived !== undefined && itemSize(archived) <= MAX_ITEM_BYTES) {
        return { ...(await putEventItem(archived)), item: archived };
      }
      const reason = `the parsed body needs ${itemSize(item)} bytes, over DynamoDB's item limit`;
      return storeRejected(message, reason, writes);
    }
    try {
      return { ...(await putEventItem(item)), item };
    } catch (error) {
      // The payload itself is unacceptable (e.g. nested too deep): retrying cannot help.
      if (!(error instanceof Error) || error.name !== 'ValidationException') throw error;
      return storeRejected(message, `DynamoDB refused the item: ${error.message}`, writes);
    }
  }

  async function queryPartition(pk: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await documents.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': pk },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return items;
  }

  /** Re-derives the project item from every event it has now; see project-state.ts. */
  async function refreshProject(projectId: string): Promise<ItemWrite | undefined> {
    const items = await queryPartition(projectPartition(projectId));
    const existing = items.find((item) => item.sk === PROJECT_SORT_KEY) as unknown as
      | ProjectItem
      | undefined;
    const events = items.filter((item) =>
      String(item.sk).startsWith(EVENT_SORT_PREFIX),
    ) as unknown as (ProjectEventItem | ExportItem)[];
    // Derived from the same or a larger set already: the put would change nothing.
    if (existing !== undefined && existing.eventCount >= events.length) return undefined;
    return put({
      Item: deriveProject(projectId, events),
      ConditionExpression: 'attribute_not_exists(pk) OR eventCount <= :eventCount',
      ExpressionAttributeValues: { ':eventCount': events.length },
      ReturnValues: 'ALL_OLD',
    });
  }

  return {
    async record(message) {
      const writes: ItemWrite[] = [];
      const stored = await storeEvent(message, writes);
      writes.push(stored);
      // Refreshed even after a duplicate: the previous attempt may have died between the puts.
      if (stored.item.itemType === 'projectEvent' || stored.item.itemType === 'export') {
        const projectWrite = await refreshProject(stored.item.projectId);
        if (projectWrite !== undefined) writes.push(projectWrite);
      }
      return { item: stored.item, duplicate: stored.conditionFailed === true, writes };
    },
  };
}
