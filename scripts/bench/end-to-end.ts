/**
 * The whole local stack end to end, as `npm run load` drives it: a stack on free ports in a
 * temporary folder, signed project lifecycles sent with a number in flight, and the feed
 * followed until every acknowledged event is queryable.
 */
import { runLoad } from '../local/load-run.ts';
import { localDynamoDb } from '../local/servers.ts';
import { startThrowawayStack } from '../local/throwaway-stack.ts';

export interface EndToEndResult {
  readonly sent: number;
  readonly concurrency: number;
  readonly persisted: number;
  readonly lost: number;
  readonly allQueryableSeconds: number;
  readonly eventsPerSecond: number;
  readonly ingestLatencyMs: { readonly p50: number; readonly p99: number };
  readonly timeToQueryableMs: { readonly p50: number; readonly p99: number };
}

export async function benchEndToEnd(options: {
  events: number;
  concurrency: number;
}): Promise<EndToEndResult> {
  let fatal: string | undefined;
  const stack = await startThrowawayStack({
    log: () => {},
    onFatal: (reason) => {
      fatal = reason;
    },
  });
  const documents = localDynamoDb(stack.dynamoDbEndpoint);
  try {
    const report = await runLoad({
      url: stack.webhookUrl,
      secret: stack.secret,
      documents,
      tableName: stack.tableName,
      events: options.events,
      concurrency: options.concurrency,
      // Every request a new event: the bench measures throughput, the load test duplicates.
      duplicateShare: 0,
      seed: 1,
    });
    if (fatal !== undefined) throw new Error(`the local stack failed: ${fatal}`);
    return {
      sent: report.sent,
      concurrency: options.concurrency,
      persisted: report.persisted,
      lost: report.lost,
      allQueryableSeconds: report.allQueryableSeconds,
      eventsPerSecond: report.eventsPerSecond,
      ingestLatencyMs: report.ingestLatencyMs,
      timeToQueryableMs: report.timeToQueryableMs,
    };
  } finally {
    documents.destroy();
    await stack.dispose();
  }
}
