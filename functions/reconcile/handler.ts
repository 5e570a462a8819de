/**
 * Scheduled adapter around one reconcile run: takes the single-flight lease, runs, logs the
 * run and publishes its metrics. A run started while another holds the lease exits at once.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { CredentialsMissingError } from '../../shared/datasaur/credentials-secret.ts';
import { ReconcileInProgressError, withReconcileLease } from '../../shared/reconcile/lease.ts';
import {
  RECONCILE_METRICS,
  type ReconcileOptions,
  type ReconcileRun,
  reconcile,
} from '../../shared/reconcile/reconciler.ts';

export interface ReconcileHandlerDependencies {
  readonly options: () => Promise<ReconcileOptions>;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export type ReconcileSummary =
  | Pick<
      ReconcileRun,
      'runId' | 'outcome' | 'projectsChecked' | 'gapsFound' | 'repaired' | 'errors'
    >
  | { readonly outcome: 'skipped'; readonly heldBy: string; readonly heldUntil: string }
  | { readonly outcome: 'waiting'; readonly reason: string };

/** Past the function's own time limit, the lease of a run Lambda stopped is free again. */
const LEASE_MARGIN_SECONDS = 30;

export function createReconcileHandler(
  dependencies: ReconcileHandlerDependencies,
): (
  event: unknown,
  context: Pick<Context, 'awsRequestId' | 'getRemainingTimeInMillis'>,
) => Promise<ReconcileSummary> {
  const { logger, metrics } = dependencies;
  return async (_event, context) => {
    let run: ReconcileRun;
    try {
      const options = await dependencies.options();
      run = await withReconcileLease(
        {
          documents: options.documents,
          tableName: options.tableName,
          seconds: Math.ceil(context.getRemainingTimeInMillis() / 1000) + LEASE_MARGIN_SECONDS,
          holder: `reconcile function, request ${context.awsRequestId}`,
        },
        () => reconcile(options),
      );
    } catch (error) {
      if (error instanceof ReconcileInProgressError) {
        logger.warn('reconcile run skipped: another run holds the lease', {
          heldBy: error.heldBy,
          heldUntil: error.heldUntil,
        });
        return { outcome: 'skipped', heldBy: error.heldBy, heldUntil: error.heldUntil };
      }
      // Deployed before anyone filled the secret: nothing to reconcile yet, nothing failed.
      if (error instanceof CredentialsMissingError) {
        logger.warn('reconcile run skipped: the Datasaur credentials secret is empty', {
          reason: error.message,
        });
        return { outcome: 'waiting', reason: error.message };
      }
      // Nothing recorded (the credentials or the table could not be read): still a failed run.
      metrics.addMetric(RECONCILE_METRICS.failedRuns, MetricUnit.Count, 1);
      metrics.publishStoredMetrics();
      throw error;
    }
    metrics.addMetric(RECONCILE_METRICS.gapsFound, MetricUnit.Count, run.gapsFound);
    metrics.addMetric(RECONCILE_METRICS.repaired, MetricUnit.Count, run.repaired);
    metrics.addMetric(RECONCILE_METRICS.projectsChecked, MetricUnit.Count, run.projectsChecked);
    metrics.addMetric(
      RECONCILE_METRICS.failedRuns,
      MetricUnit.Count,
      run.outcome === 'failed' ? 1 : 0,
    );
    metrics.publishStoredMetrics();
    const summary = {
      runId: run.runId,
      outcome: run.outcome,
      projectsChecked: run.projectsChecked,
      gapsFound: run.gapsFound,
      repaired: run.repaired,
      errors: run.errors,
    };
    if (run.outcome === 'failed') logger.error('reconcile run failed', { ...summary });
    else if (run.gapsFound > 0) {
      logger.warn('reconcile run repaired missed webhooks', { ...summary, gaps: run.gaps });
    } else logger.info('reconcile run found no gap', { ...summary });
    return summary;
  };
}
