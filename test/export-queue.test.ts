/**
 * The export queue the worker sends to, through an SQS client it makes on the first export
 * request (its cold starts do not load the SQS client), against a real local queue.
 */
import { describe, expect, it } from 'vitest';
import { LOCAL_CLIENT_CONFIG } from '../scripts/local/servers.ts';
import { createExportQueue, lazySqsClient } from '../shared/export/export-queue.ts';
import type { ExportRequest } from '../shared/export/export-trigger.ts';
import { drainQueue, startedForTests, startLocalSqs } from './support/local-aws.ts';

const sqs = startedForTests(startLocalSqs);

describe('export queue', () => {
  it('sends each export request as one message through a client made once, on the first send', async () => {
    const { queueUrl } = await sqs.createQueues();
    const makeClient = lazySqsClient({ ...LOCAL_CLIENT_CONFIG, endpoint: sqs.server.endpoint });
    const queue = createExportQueue(makeClient, queueUrl);
    const requests: ExportRequest[] = [
      { kind: 'manual', projectId: 'p-1', requestedAt: '2026-12-06T12:00:00.000Z' },
      { kind: 'manual', projectId: 'p-2', requestedAt: '2026-12-06T12:00:01.000Z' },
    ];
    for (const request of requests) await queue.send(request);

    const client = await makeClient();
    expect(await makeClient()).toBe(client);
    try {
      const bodies = (await drainQueue(sqs.sqs, queueUrl)).map((message) =>
        JSON.parse(message.Body ?? ''),
      );
      expect(bodies).toEqual(expect.arrayContaining(requests));
      expect(bodies).toHaveLength(2);
    } finally {
      client.destroy();
    }
  });
});
