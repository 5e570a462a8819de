/**
 * The export queue the worker and the exporter send to, through the light client they run
 * in Lambda and through the SDK's client the CLIs use, against a real local queue.
 */
import { describe, expect, it } from 'vitest';
import { localQueueSender } from '../scripts/local/servers.ts';
import { createExportQueue } from '../shared/export/export-queue.ts';
import type { ExportRequest } from '../shared/export/export-trigger.ts';
import { sdkQueueSender } from '../shared/webhook/sdk-queue-sender.ts';
import { drainQueue, startedForTests, startLocalSqs } from './support/local-aws.ts';

const sqs = startedForTests(startLocalSqs);

describe('export queue', () => {
  it('sends each export request as one message, through the light client and the SDK’s', async () => {
    const { queueUrl } = await sqs.createQueues();
    const light = localQueueSender(sqs.server.endpoint);
    const requests: ExportRequest[] = [
      { kind: 'manual', projectId: 'p-1', requestedAt: '2026-12-06T12:00:00.000Z' },
      { kind: 'manual', projectId: 'p-2', requestedAt: '2026-12-06T12:00:01.000Z' },
    ];
    try {
      await createExportQueue(light, queueUrl).send(requests[0] as ExportRequest);
      await createExportQueue(sdkQueueSender(sqs.sqs), queueUrl).send(requests[1] as ExportRequest);
      const bodies = (await drainQueue(sqs.sqs, queueUrl)).map((message) =>
        JSON.parse(message.Body ?? ''),
      );
      expect(bodies).toEqual(expect.arrayContaining(requests));
      expect(bodies).toHaveLength(2);
    } finally {
      light.destroy();
    }
  });
});
