/**
 * Turns messages from `ReceiveMessage` into the records Lambda's SQS event source delivers,
 * so the local worker calls its handler with the same shape it gets in AWS.
 */
import type { Message, ReceiveMessageCommandInput } from '@aws-sdk/client-sqs';
import type { SQSMessageAttributes, SQSRecord } from 'aws-lambda';

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
