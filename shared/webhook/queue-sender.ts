/**
 * SQS's `SendMessage`, all the ingest sends: the SDK's client (`sdk-queue-sender.ts`) or the
 * light one Lambda runs (`light-queue-sender.ts`). Types only here, so the ingest does
 * not load the SDK.
 */
export interface QueueSender {
  sendMessage(input: { QueueUrl: string; MessageBody: string }): Promise<{ MessageId?: string }>;
}
