/**
 * What one batch of the worker did to the table, counted per batch and published as one
 * metrics line (embedded metric format) instead of a log line per record.
 */
import type { RecordedEvent } from './event-store.ts';
import { totalWriteUnits } from './write-units.ts';

/**
 * CloudWatch namespace of the stack's own metrics: the default stack name. A deployed stack
 * publishes under its own name, so two stages in one account keep their metrics apart.
 */
export const METRICS_NAMESPACE = 'DatasaurWebhooks';

export const BATCH_FIGURES = [
  'LabelEventsStored',
  'ProjectEventsStored',
  'ExportsStored',
  'UnknownEventsStored',
  'Duplicates',
  'Rejected',
  'WriteUnits',
] as const;

export type BatchFigure = (typeof BATCH_FIGURES)[number];
export type BatchFigures = Record<BatchFigure, number>;

const STORED_BY_TYPE = {
  labelEvent: 'LabelEventsStored',
  projectEvent: 'ProjectEventsStored',
  // Written by the reconciliation, not the worker; a project event all the same.
  syntheticStatusEvent: 'ProjectEventsStored',
  export: 'ExportsStored',
  unknownEvent: 'UnknownEventsStored',
  rejected: 'Rejected',
} as const satisfies Record<RecordedEvent['item']['itemType'], BatchFigure>;

export function noFigures(): BatchFigures {
  return Object.fromEntries(BATCH_FIGURES.map((figure) => [figure, 0])) as BatchFigures;
}

/** Adds one recorded event: a duplicate counts as such, not as stored again. */
export function countRecorded(figures: BatchFigures, recorded: RecordedEvent): void {
  const figure = recorded.duplicate ? 'Duplicates' : STORED_BY_TYPE[recorded.item.itemType];
  figures[figure] += 1;
  figures.WriteUnits += totalWriteUnits(recorded.writes);
}
