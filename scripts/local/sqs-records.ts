/**
 * The records Lambda's SQS event source delivers: turned from `ReceiveMessage` messages, so
 * the local worker calls its handler with the same shape it gets in AWS, or built directly
 * from webhook bodies as the ingest would have enqueued them (tests, benchmark).
 */
import { createHash } from 'node:crypto';
import type { Message, ReceiveMessageCommandInput } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import type { BodyWriter } from '../../shared/webhook/claim-check.ts';
import type { EnvelopeMetadata } from '../../shared/webhook/envelope.ts';
import { encodeEnvelope } from '../../shared/webhook/envelope-encoder.ts';
import { queueMessageFor } from '../../shared/webhook/ingest.ts';
import { eventIdOf } from '../../shared/webhook/signature.ts';

export interface QueueIdentity {
  readonly queueArn: string;
  readonly region: string;
}

/** Attributes Lambda always sets; the receive must ask for them (`MessageSystemAttributeNames: ['All']`). */
const REQUIRED_ATTRIBUTES = [
  'ApproximateReceiveCount',
  'SentTimestamp',
  'SenderId',
  'ApproximateFirstReceiveTimestamp',
] as const;

/** A receive asking for everything a record carries, as Lambda's poller does. */
export function receiveForRecords(
  queueUrl: string,
  options: { maxMessages: number; waitTimeSeconds: number },
): ReceiveMessageCommandInput {
  return {
    QueueUrl: queueUrl,
    MaxNumberOfMessages: options.maxMessages,
    WaitTimeSeconds: options.waitTimeSeconds,
    MessageSystemAttributeNames: ['All'],
    // local-aws-sqs reads only the older spelling of the same request.
    AttributeNames: ['All'],
    MessageAttributeNames: ['All'],
  };
}

export function toSqsRecord(message: Message, queue: QueueIdentity): SQSRecord {
  const attributes = message.Attributes ?? {};
  for (const name of REQUIRED_ATTRIBUTES) {
    if (attributes[name] === undefined) {
      throw new Error(`received message lacks the ${name} attribute`);
    }
  }
  return {
    messageId: present(message.MessageId, 'MessageId'),
    receiptHandle: present(message.ReceiptHandle, 'ReceiptHandle'),
    body: message.Body ?? '',
    attributes: {
      ...attributes,
      ApproximateReceiveCount: String(attributes.ApproximateReceiveCount),
      SentTimestamp: String(attributes.SentTimestamp),
      SenderId: String(attributes.SenderId),
      ApproximateFirstReceiveTimestamp: String(attributes.ApproximateFirstReceiveTimestamp),
    },
    messageAttributes: toRecordAttributes(message),
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes === undefined
      ? {}
      : { md5OfMessageAttributes: message.MD5OfMessageAttributes }),
    eventSource: 'aws:sqs',
    eventSourceARN: queue.queueArn,
    awsRegion: queue.region,
  };
}

/** Lambda spells message attributes in camel case, binary values as base64 text. */
function toRecordAttributes(message: Message): SQSMessageAttributes {
  const result: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    result[name] = {
      dataType: value.DataType ?? 'String',
      ...(value.StringValue === undefined ? {} : { stringValue: value.StringValue }),
      ...(value.BinaryValue === undefined
        ? {}
        : { binaryValue: Buffer.from(value.BinaryValue).toString('base64') }),
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map((bytes) =>
        Buffer.from(bytes).toString('base64'),
      ),
    };
  }
  return result;
}

function present<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new Error(`received message lacks ${name}`);
  return value;
}

export interface Delivery {
  readonly body: string | Buffer;
  readonly method?: 'POST' | 'PUT';
  /** ISO instant the ingest received it; one fixed time unless a test needs another. */
  readonly receivedAt?: string;
}

export const RECEIVED_AT = '2024-03-01T12:00:00.000Z';

/** The SQS record for one delivery; the same delivery always gives the same record. */
export function sqsRecord(delivery: Delivery): SQSRecord {
  const { rawBody, metadata } = deliveryParts(delivery);
  return rawSqsRecord(encodeEnvelope(rawBody, metadata), Date.parse(metadata.receivedAt));
}

/**
 * The SQS record for a delivery of any size, as the ingest enqueues it: a body too large to
 * travel inline is put in `bodies` first and the record carries its pointer.
 */
export async function claimCheckedSqsRecord(
  delivery: Delivery,
  bodies: BodyWriter,
): Promise<SQSRecord> {
  const { rawBody, metadata } = deliveryParts(delivery);
  const { messageBody } = await queueMessageFor(rawBody, metadata, bodies);
  return rawSqsRecord(messageBody, Date.parse(metadata.receivedAt));
}

function deliveryParts(delivery: Delivery): { rawBody: Buffer; metadata: EnvelopeMetadata } {
  const rawBody = Buffer.isBuffer(delivery.body) ? delivery.body : Buffer.from(delivery.body);
  return {
    rawBody,
    metadata: {
      eventId: eventIdOf(rawBody),
      receivedAt: delivery.receivedAt ?? RECEIVED_AT,
      method: delivery.method ?? 'POST',
      requestId: 'request-1',
      sourceIp: '203.0.113.7',
      userAgent: 'Datasaur',
    },
  };
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
