/** Worker test helpers: SQS records as the ingest would enqueue them, a quiet logger, the table. */
import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import {
  createWorkerHandler,
  type WorkerHandler,
  type WorkerHandlerDependencies,
} from '../../functions/worker/handler.ts';
import { NO_ARCHIVE } from '../../scripts/local/no-archive.ts';
import {
  type EventItem,
  eventItem,
  type RejectedItem,
  rejectedItem,
} from '../../shared/store/items.ts';
import { HOURLY_COUNT_PREFIX } from '../../shared/store/keys.ts';
import { eventIdOf } from '../../shared/webhook/signature.ts';
import type { LocalDynamoDb } from './local-aws.ts';

// Built where the benchmark can use them too; tests keep importing them from here.
export {
  type Delivery,
  RECEIVED_AT,
  rawSqsRecord,
  sqsEvent,
  sqsRecord,
} from '../../scripts/local/sqs-records.ts';

import { webhookMessage } from '../../scripts/local/webhook-message.ts';

/** The item the worker stores for `body`, received as a webhook (a POST by default) at `receivedAt`. */
export function webhookEventItem(
  body: string | Buffer,
  receivedAt: string,
  method: 'POST' | 'PUT' = 'POST',
): EventItem {
  return eventItem(webhookMessage(body, receivedAt, method));
}

/**
 * The rejected item an older, stricter worker stored for a signed `rawBody` that today's
 * parses: what `replay rejected` recovers.
 */
export function rejectedEarlier(
  rawBody: Buffer,
  receivedAt: string,
  {
    method = 'POST',
    reason = 'an older, stricter schema',
  }: { method?: 'POST' | 'PUT'; reason?: string } = {},
): RejectedItem {
  return rejectedItem(
    {
      eventId: eventIdOf(rawBody),
      provenance: 'webhook',
      method,
      receivedAt,
      rawBody,
      interpretation: { kind: 'rejected', reason },
    },
    reason,
  );
}

/** A logger that keeps test output quiet. */
export function quietLogger(): Logger {
  return new Logger({ logLevel: 'SILENT' });
}

/**
 * The whole table but the hourly counters, sorted by key. Tests compare tables built in
 * different ways, and a test table holds a few hundred items, so a Scan is fine here (the
 * product never scans). The counters are left out: their shard follows how the records were
 * batched (test/hourly-counts.test.ts checks them).
 */
export async function tableContents(
  documents: DynamoDBDocumentClient,
  tableName: string,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(
      new ScanCommand({ TableName: tableName, ExclusiveStartKey: startKey, ConsistentRead: true }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  const keyOf = (item: Record<string, unknown>) => `${item.pk}\u0000${item.sk}`;
  return items
    .filter((item) => !String(item.pk).startsWith(HOURLY_COUNT_PREFIX))
    .sort((left, right) => (keyOf(left) < keyOf(right) ? -1 : 1));
}

/** The items a test reasons about: event and project items, without first-receipt markers. */
export function withoutReceipts(
  items: readonly Record<string, unknown>[],
): Record<string, unknown>[] {
  return items.filter((item) => item.itemType !== 'receipt');
}

/**
 * A new, empty table and a quiet worker handler writing to it through the real client; pass
 * `bodies` to read claim-checked bodies (none otherwise).
 */
export async function workerOnFreshTable(
  dynamoDb: LocalDynamoDb,
  options: Partial<
    Pick<
      WorkerHandlerDependencies,
      'concurrency' | 'bodies' | 'publisher' | 'publishLabelEvents' | 'exports' | 'documentProjects'
    >
  > = {},
): Promise<{ tableName: string; handler: WorkerHandler }> {
  const tableName = await dynamoDb.createTable();
  const handler = createWorkerHandler({
    documents: dynamoDb.documents,
    tableName,
    bodies: NO_ARCHIVE,
    logger: quietLogger(),
    ...options,
  });
  return { tableName, handler };
}
