/**
 * Scheduled adapter around one enrichment pass: runs it, logs what it did and publishes its
 * figures. Single flight comes from the function's reserved concurrency of 1 (infra), not
 * from here. A pass stopped by its request budget succeeded; one stopped by Datasaur, by
 * malformed or refused credentials, or by the table failed; one that found the credentials
 * secret still empty is waiting, not failing.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { DatasaurClient } from '../../shared/datasaur/client.ts';
import { CredentialsMissingError } from '../../shared/datasaur/credentials-secret.ts';
import {
  ENRICH_METRICS,
  type EnrichOptions,
  type EnrichSummary,
  runEnrichment,
} from '../../shared/enrich/enrich.ts';

export interface EnrichHandlerDependencies {
  readonly options: () => Promise<EnrichOptions>;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export type EnrichOutcome =
  | (EnrichSummary & { readonly outcome: 'succeeded' | 'failed' })
  | { readonly outcome: 'waiting'; readonly reason: string };

export function createEnrichHandler(
  dependencies: EnrichHandlerDependencies,
): (event: unknown) => Promise<EnrichOutcome> {
  const { logger, metrics } = dependencies;
  return async () => {
    let summary: EnrichSummary;
    let credentialsMissing: CredentialsMissingError | undefined;
    try {
      const options = await dependencies.options();
      // The pass turns a Datasaur error into its summary: remember an empty secret to tell
      // "not set up yet" from "Datasaur failed".
      const datasaur: DatasaurClient = {
        baseUrl: options.datasaur.baseUrl,
        async request(operation, variables) {
          try {
            return await options.datasaur.request(operation, variables);
          } catch (error) {
            if (error instanceof CredentialsMissingError) credentialsMissing = error;
            throw error;
          }
        },
      };
      summary = await runEnrichment({ ...options, datasaur });
    } catch (error) {
      // The table (or the configuration) failed: nothing of the pass is reported but this.
      metrics.addMetric(ENRICH_METRICS.failedRuns, MetricUnit.Count, 1);
      metrics.publishStoredMetrics();
      throw error;
    }
    if (credentialsMissing !== undefined && summary.resolved === 0) {
      logger.warn('enrichment waiting: the Datasaur credentials secret is empty', {
        reason: credentialsMissing.message,
        pending: summary.pending,
      });
      metrics.addMetric(ENRICH_METRICS.failedRuns, MetricUnit.Count, 0);
      metrics.publishStoredMetrics();
      return { outcome: 'waiting', reason: credentialsMissing.message };
    }
    const failed = summary.stoppedBy === 'datasaur' || summary.stoppedBy === 'credentials';
    metrics.addMetric(ENRICH_METRICS.failedRuns, MetricUnit.Count, failed ? 1 : 0);
    metrics.addMetric(ENRICH_METRICS.documentsResolved, MetricUnit.Count, summary.resolved);
    metrics.addMetric(ENRICH_METRICS.labelEventsFilled, MetricUnit.Count, summary.filled);
    metrics.addMetric(ENRICH_METRICS.datasaurRequests, MetricUnit.Count, summary.apiCalls);
    metrics.publishStoredMetrics();
    const result = { ...summary, outcome: failed ? ('failed' as const) : ('succeeded' as const) };
    if (failed) logger.error('enrichment pass failed', { ...result });
    else if (summary.skippedProjects.length > 0) {
      logger.warn('enrichment pass skipped projects whose cabinets Datasaur did not give', {
        ...result,
      });
    } else if (summary.resolved + summary.filled + summary.finished > 0) {
      logger.info('enrichment pass', { ...result });
    } else logger.debug('enrichment pass found nothing to do', { ...result });
    return result;
  };
}
