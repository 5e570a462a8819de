/** Builds the SQS records the worker receives, as the ingest would have enqueued them. */
import { createHash } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { encodeEnvelope } from '../../shared/envelope-encoder.ts';
import { eventIdOf } from '../../shared/signature.ts';

export interface Delivery {
  readonly body: string | Buffer;
  readonly method?: 'POST' | 'PUT';
  /** ISO instant the ingest received it; one fixed time unless a test needs another. */
  readonly receivedAt?: string;
}

export const RECEIVED_AT = '2024-03-01T12:00:00.000Z';

/** The SQS record for one delivery; the same delivery always gives the same record. */
export function sqsRecord(delivery: Delivery): SQSRecord {
  const rawBody = Buffer.isBuffer(delivery.body) ? delivery.body : Buffer.from(delivery.body);
  const receivedAt = delivery.receivedAt ?? RECEIVED_AT;
  const messageBody = encodeEnvelope(rawBody, {
    eventId: eventIdOf(rawBody),
    receivedAt,
    method: delivery.method ?? 'POST',
    requestId: 'request-1',
    sourceIp: '203.0.113.7',
    userAgent: 'Datasaur',
  });
  return rawSqsRecord(messageBody, Date.parse(receivedAt));
}

/** A record carrying any message body, e.g. one no ingest wrote. */
export function rawSqsRecord(
  messageBody: string,
  sentAt: number = Date.parse(RECEIVED_AT),
): SQSRecord {
  return {
    messageId: createHash('sha256').update(messageBody).digest('hex').slice(0, 32),
    receiptHandle: 'receipt',
    body: messageBody,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(sentAt),
      SenderId: 'ingest',
      ApproximateFirstReceiveTimestamp: String(sentAt),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:datasaur-webhooks',
    awsRegion: 'us-east-1',
  };
}

export function sqsEvent(records: readonly SQSRecord[]): SQSEvent {
  return { Records: [...records] };
}

/** A logger that keeps test output quiet. */
export function quietLogger(): Logger {
  return new Logger({ logLevel: 'SILENT' });
}

/**
 * The whole table, sorted by key. Tests compare tables built in different ways, and a test
 * table holds a few hundred items, so a Scan is fine here (the product never scans).
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
  return items.sort((left, right) => (keyOf(left) < keyOf(right) ? -1 : 1));
}

/** The items a test reasons about: event and project items, without first-receipt markers. */
export function withoutReceipts(
  items: readonly Record<string, unknown>[],
): Record<string, unknown>[] {
  return items.filter((item) => item.itemType !== 'receipt');
}
