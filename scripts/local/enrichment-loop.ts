/**
 * The local stand-in for the scheduled enrichment function: one pass every few seconds, never
 * two at once, each pass's outcome logged when it did something or failed.
 */
import { createDatasaurClient } from '../../shared/datasaur/client.ts';
import { runEnrichment } from '../../shared/enrich/enrich.ts';
import { describeError } from '../../shared/runtime/errors.ts';
import { sdkTableDocuments } from '../../shared/store/sdk-table-documents.ts';
import type { LocalEnrichmentConfig } from './config.ts';
import { localDynamoDb } from './servers.ts';

/** Between two local passes: label events are listed by project within this (plus a pass). */
export const LOCAL_ENRICHMENT_INTERVAL_MS = 10_000;

export interface EnrichmentLoop {
  stop(): Promise<void>;
}

export function startEnrichmentLoop(options: {
  readonly config: LocalEnrichmentConfig;
  readonly dynamoDbEndpoint: string;
  readonly tableName: string;
  readonly log: (line: string) => void;
}): EnrichmentLoop {
  const documents = localDynamoDb(options.dynamoDbEndpoint);
  const datasaur = createDatasaurClient({
    baseUrl: options.config.apiUrl,
    credentials: { clientId: options.config.clientId, clientSecret: options.config.clientSecret },
  });
  let running: Promise<void> | undefined;
  const pass = async () => {
    try {
      const summary = await runEnrichment({
        documents: sdkTableDocuments(documents),
        tableName: options.tableName,
        datasaur,
      });
      if (summary.error !== undefined) options.log(`enrichment: ${summary.error}`);
      if (summary.resolved + summary.filled + summary.finished > 0) {
        options.log(
          `enrichment: ${summary.resolved} document(s) resolved, ${summary.filled} label event(s) filled in, ${summary.finished} document(s) finished, ${summary.apiCalls} Datasaur request(s)`,
        );
      }
    } catch (error) {
      options.log(`enrichment failed: ${describeError(error)}`);
    }
  };
  const timer = setInterval(() => {
    if (running !== undefined) return;
    running = pass().finally(() => {
      running = undefined;
    });
  }, LOCAL_ENRICHMENT_INTERVAL_MS);
  return {
    async stop() {
      clearInterval(timer);
      await running;
      documents.destroy();
    },
  };
}
