/**
 * Scheduled adapter around the resume check: the stack's schedule invokes the exporter with
 * `{"action": "resumeWaitingExports"}`; the exports WAITING for credentials are queued again
 * once the credentials work, and their count is emitted (`ExportsWaiting`) for the alarm.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ResumeResult } from '../../shared/export/resume.ts';
import { EXPORTS_WAITING_METRIC } from './handler.ts';

/** The input the schedule sends. */
export const RESUME_EVENT = { action: 'resumeWaitingExports' } as const;

export function isResumeEvent(event: unknown): boolean {
  return (event as { action?: unknown } | null)?.action === RESUME_EVENT.action;
}

export interface ResumeHandlerDependencies {
  readonly resume: () => Promise<ResumeResult>;
  readonly logger: Logger;
  /** Where `ExportsWaiting` goes. @default not emitted */
  readonly metrics?: Metrics;
}

export function createResumeHandler(dependencies: ResumeHandlerDependencies) {
  const { logger, metrics } = dependencies;
  return async (): Promise<ResumeResult> => {
    const result = await dependencies.resume();
    if (metrics !== undefined) {
      metrics.addMetric(EXPORTS_WAITING_METRIC, MetricUnit.Count, result.waiting);
      metrics.publishStoredMetrics();
    }
    if (result.queued > 0) logger.info('waiting exports queued again', { ...result });
    else if (result.credentials === 'UNAVAILABLE') {
      logger.error('could not check the Datasaur credentials: exports still waiting', {
        ...result,
      });
    } else if (result.waiting > 0) {
      logger.warn('exports still waiting for credentials', { ...result });
    }
    return result;
  };
}
