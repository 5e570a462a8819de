/** The export queue as an ExportRequestSink: one SQS message per export request. */
import type { SQSClient, SQSClientConfig } from '@aws-sdk/client-sqs';
import { builtOnFirstUse } from '../runtime/first-use.ts';
import type { ExportRequestSink } from './export-trigger.ts';

/**
 * An SQS client, or a function that makes one when first needed: the worker sends an export
 * request only when a project reaches the configured status, a rare path, and passes
 * `lazySqsClient` so its cold starts do not load and configure the SQS client.
 */
export type SqsClientSource = SQSClient | (() => Promise<SQSClient>);

/** Loads `@aws-sdk/client-sqs` and creates the client on the first call, once per container. */
export function lazySqsClient(config: SQSClientConfig = {}): () => Promise<SQSClient> {
  return builtOnFirstUse(() =>
    import('@aws-sdk/client-sqs').then(({ SQSClient }) => new SQSClient(config)),
  );
}

export function createExportQueue(sqs: SqsClientSource, queueUrl: string): ExportRequestSink {
  return {
    async send(request) {
      const [client, { SendMessageCommand }] = await Promise.all([
        typeof sqs === 'function' ? sqs() : sqs,
        import('@aws-sdk/client-sqs'),
      ]);
      await client.send(
        new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(request) }),
      );
    },
  };
}
