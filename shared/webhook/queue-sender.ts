/**
 * The SQS calls the functions make: `SendMessage` (the ingest, export requests) and
 * `ChangeMessageVisibility` (the exporter delays a retry), through the SDK's client
 * (`sdk-queue-sender.ts`) or the light one Lambda runs (`light-queue-sender.ts`). Types only
 * here, so a function using the light client does not load the SDK.
 */
export interface QueueSender {
  sendMessage(input: { QueueUrl: string; MessageBody: string }): Promise<{ MessageId?: string }>;
}

export interface QueueVisibility {
  changeMessageVisibility(input: {
    QueueUrl: string;
    ReceiptHandle: string;
    VisibilityTimeout: number;
  }): Promise<unknown>;
}
