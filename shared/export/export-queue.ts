/** The export queue as an ExportRequestSink: one SQS message per export request. */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { ExportRequestSink } from './export-trigger.ts';

export function createExportQueue(sqs: SQSClient, queueUrl: string): ExportRequestSink {
  return {
    async send(request) {
      await sqs.send(
        new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(request) }),
      );
    },
  };
}
