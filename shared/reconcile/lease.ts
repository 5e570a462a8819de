/**
 * Single flight for the reconciler: a run first takes a lease, one item in the table written
 * only if no other run holds an unexpired one, and gives it back when it ends. A run that
 * dies keeps the lease only until it expires, so the next scheduled run is never blocked for
 * long. Written with PutItem alone: the reconciler may add to the table but never delete.
 */
import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { reconcileLeaseKey } from '../store/keys.ts';
import { TABLE } from '../store/table.ts';

/** Another run holds the lease: this one must not start. */
export class ReconcileInProgressError extends Error {
  override readonly name = 'ReconcileInProgressError';
  constructor(
    readonly heldBy: string,
    readonly heldUntil: string,
  ) {
    super(`another reconcile run (${heldBy}) holds the lease until ${heldUntil}`);
  }
}

export interface LeaseOptions {
  readonly documents: DynamoDBDocumentClient;
  readonly tableName: string;
  /** How long the lease lasts if the run never gives it back: the run's own time limit. */
  readonly seconds: number;
  /** Who takes it, for the message another run prints. @default a random id */
  readonly holder?: string;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

/** The lease item gone from the table a day after its last use (the table's TTL). */
const LEASE_ITEM_TTL_SECONDS = 86_400;

/**
 * Runs `work` holding the reconcile lease, and gives it back however `work` ends.
 * Throws `ReconcileInProgressError` without calling `work` when another run holds it.
 */
export async function withReconcileLease<Result>(
  options: LeaseOptions,
  work: () => Promise<Result>,
): Promise<Result> {
  const now = options.now ?? (() => new Date());
  const holder = options.holder ?? randomUUID();
  const key = reconcileLeaseKey();
  const write = (
    leaseUntilSeconds: number,
    condition: Omit<PutCommand['input'], 'TableName' | 'Item'>,
  ) =>
    options.documents.send(
      new PutCommand({
        TableName: options.tableName,
        Item: {
          ...key,
          itemType: 'reconcileLease',
          holder,
          leaseUntil: leaseUntilSeconds,
          [TABLE.ttlAttribute]: leaseUntilSeconds + LEASE_ITEM_TTL_SECONDS,
        },
        ...condition,
      }),
    );

  const takenAt = Math.floor(now().getTime() / 1000);
  try {
    await write(takenAt + options.seconds, {
      ConditionExpression: 'attribute_not_exists(pk) OR leaseUntil <= :now',
      ExpressionAttributeValues: { ':now': takenAt },
    });
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    const { Item } = await options.documents.send(
      new GetCommand({ TableName: options.tableName, Key: key, ConsistentRead: true }),
    );
    throw new ReconcileInProgressError(
      String(Item?.holder ?? 'unknown'),
      new Date(Number(Item?.leaseUntil ?? takenAt) * 1000).toISOString(),
    );
  }

  const release = async () => {
    try {
      // Only our own lease: if it expired and another run took it, that one keeps it.
      await write(Math.floor(now().getTime() / 1000), {
        ConditionExpression: 'holder = :holder',
        ExpressionAttributeValues: { ':holder': holder },
      });
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  };
  let result: Result;
  try {
    result = await work();
  } catch (error) {
    // The run's own error is the one to report; a lease not given back expires anyway.
    await release().catch(() => undefined);
    throw error;
  }
  await release();
  return result;
}
