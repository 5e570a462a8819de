/** The export queue as an ExportRequestSink: one SQS message per export request. */
import type { QueueSender } from '../webhook/queue-sender.ts';
import type { ExportRequestSink } from './export-trigger.ts';

/**
 * `sqs`: the light client the functions run (`lightQueueSender`), or the SDK's client for the
 * CLIs (`sdkQueueSender`).
 */
export function createExportQueue(sqs: QueueSender, queueUrl: string): ExportRequestSink {
  return {
    async send(request) {
      await sqs.sendMessage({ QueueUrl: queueUrl, MessageBody: JSON.stringify(request) });
    },
  };
}
