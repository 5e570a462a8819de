/**
 * A reconcile pass by hand: the reconciler under the same lease as the deployed one (so a run
 * by hand never overlaps a scheduled run), repaired transitions sent for export.
 * `npm run reconcile` and the console's reconcile action both call `reconcileByHand`.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { createExportQueue } from '../../shared/export/export-queue.ts';
import { type ExportOn, exportRepairedTransitions } from '../../shared/export/export-trigger.ts';
import { withReconcileLease } from '../../shared/reconcile/lease.ts';
import {
  type ReconcileOptions,
  type ReconcileRun,
  reconcile,
} from '../../shared/reconcile/reconciler.ts';
import type { ProjectTransition } from '../../shared/store/event-store.ts';
import { sdkQueueSender } from '../../shared/webhook/sdk-queue-sender.ts';

/** A run by hand holds the lease this long at most (the deployed function's limit is 5 min). */
export const HAND_LEASE_SECONDS = 900;

export interface ReconcileByHandOptions extends ReconcileOptions {
  /** Who runs it, for the message a concurrent run shows. */
  readonly holder: string;
}

/**
 * One reconcile pass. A dry run writes nothing, so it may overlap; a repairing run takes the
 * lease first and throws `ReconcileInProgressError` (without checking anything) when it is held.
 */
export function reconcileByHand(options: ReconcileByHandOptions): Promise<ReconcileRun> {
  const { holder, ...reconcileOptions } = options;
  if (options.dryRun === true) return reconcile(reconcileOptions);
  return withReconcileLease(
    {
      documents: options.documents,
      tableName: options.tableName,
      seconds: HAND_LEASE_SECONDS,
      holder,
    },
    () => reconcile(reconcileOptions),
  );
}

/** Repaired transitions ask for their export on this queue, as the worker's webhooks do. */
export function exportOnQueue(
  sqs: SQSClient,
  queueUrl: string,
  exportOn: ExportOn,
): (transition: ProjectTransition) => Promise<void> {
  return exportRepairedTransitions(createExportQueue(sdkQueueSender(sqs), queueUrl), exportOn);
}

/** One line: what the run checked, found and repaired. */
export function runSummary(run: ReconcileRun): string {
  const { compared } = run;
  return (
    `${run.dryRun ? 'dry run: ' : ''}${run.projectsChecked} projects checked in ${run.pages} page(s)` +
    ` (${run.projectsOutsideWindow} outside the ${run.lookbackDays}-day window):` +
    ` ${compared.missing} missing, ${compared.behind} behind, ${compared.ahead} ahead, ${compared.matching} matching`
  );
}
