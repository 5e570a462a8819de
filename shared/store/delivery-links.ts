/**
 * Datasaur's pre-signed export link is a credential until it expires. The export delivery's
 * event item (`itemType: "export"`, `data` as the `PUT` carried it) keeps it only while the
 * export it started still needs it: once that export is ARCHIVED or FAILED, `data.fileUrl` is
 * removed and the item says when and why (`fileUrlRemovedAt`, `fileUrlRemovedBecause`).
 */
import type { ExportItem, LinkRemovalReason } from './items.ts';
import { projectEventKey } from './keys.ts';
import { isConditionalCheckFailed, type TableDocuments } from './table-documents.ts';

/** The export statuses after which no attempt reads the link again. */
export type LinkEndingStatus = Extract<LinkRemovalReason, 'ARCHIVED' | 'FAILED'>;

/** Which delivery: its project, its first receipt and its event id (the item's key). */
export interface Delivery {
  readonly projectId: string;
  readonly receivedAt: string;
  readonly eventId: string;
}

/**
 * Removes the link from the delivery's event item; true when it was there. One conditional
 * write, so it is idempotent (the first removal's time and status stay) and never creates an
 * item. Nothing puts the link back: the event item is written once, only if absent, so a
 * redelivered `PUT` finds it there and leaves it as it is.
 */
export async function removeDeliveryLink(
  documents: TableDocuments,
  tableName: string,
  delivery: Delivery,
  status: LinkEndingStatus,
  removedAt: string,
): Promise<boolean> {
  try {
    await documents.update({
      TableName: tableName,
      Key: projectEventKey(delivery.projectId, delivery.receivedAt, delivery.eventId),
      UpdateExpression:
        'REMOVE #data.fileUrl SET fileUrlRemovedAt = :at, fileUrlRemovedBecause = :status',
      ConditionExpression: 'itemType = :export AND attribute_exists(#data.fileUrl)',
      ExpressionAttributeNames: { '#data': 'data' },
      ExpressionAttributeValues: {
        ':at': removedAt,
        ':status': status,
        ':export': 'export' satisfies ExportItem['itemType'],
      },
    });
    return true;
  } catch (error) {
    // Removed already, or no such delivery: nothing left to remove.
    if (isConditionalCheckFailed(error)) return false;
    throw error;
  }
}
