/**
 * The whole local stack end to end, as `npm run load` drives it: a stack on free ports in a
 * temporary folder, signed project lifecycles sent with a number in flight, and the feed
 * followed until every acknowledged event is queryable.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLocalConfig } from '../local/config.ts';
import { runLoad } from '../local/load-run.ts';
import { localDynamoDb } from '../local/servers.ts';
import { startLocalStack } from '../local/stack.ts';

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
  const dataDir = mkdtempSync(join(tmpdir(), 'datasaur-bench-'));
  const secret = randomBytes(24).toString('hex');
  const config = readLocalConfig({
    ...process.env,
    PORT: '0',
    DYNAMODB_PORT: '0',
    SQS_PORT: '0',
    DATA_DIR: dataDir,
    DATASAUR_WEBHOOK_SECRET: secret,
    LOG_LEVEL: 'SILENT',
  });
  let fatal: string | undefined;
  const stack = await startLocalStack(config, {
    log: () => {},
    onFatal: (reason) => {
      fatal = reason;
    },
  });
  const documents = localDynamoDb(stack.dynamoDbEndpoint);
  try {
    const report = await runLoad({
      url: stack.webhookUrl,
      secret,
      documents,
      tableName: config.tableName,
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
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
