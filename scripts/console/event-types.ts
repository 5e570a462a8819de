/** The names the console shows and filters events by: the same names the hourly counts use. */
import {
  RECONCILED_COUNT,
  REJECTED_COUNT,
  UNKNOWN_COUNT,
} from '../../shared/store/hourly-counts.ts';
import { EXPORT_EVENT_TYPE } from '../../shared/store/items.ts';
import { KNOWN_EVENT_TYPES } from '../../shared/webhook/events.ts';

export const EVENT_TYPE_NAMES: readonly string[] = [
  ...KNOWN_EVENT_TYPES,
  EXPORT_EVENT_TYPE,
  UNKNOWN_COUNT,
  REJECTED_COUNT,
  RECONCILED_COUNT,
];
