/** Scheduled adapter around one reconcile run: logs it and publishes its metrics. */
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
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

export type ReconcileSummary = Pick<
  ReconcileRun,
  'runId' | 'outcome' | 'projectsChecked' | 'gapsFound' | 'repaired' | 'errors'
>;

export function createReconcileHandler(
  dependencies: ReconcileHandlerDependencies,
): () => Promise<ReconcileSummary> {
  const { logger, metrics } = dependencies;
  return async () => {
    let run: ReconcileRun;
    try {
      run = await reconcile(await dependencies.options());
    } catch (error) {
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
