/**
 * When the product archives a project's export, decided in one place: the worker asks it for
 * every stored status event, and any other path that learns of a status transition (the
 * reconciler) asks it too, so both trigger the same exports.
 */
import { ConfigurationError, optionalEnv } from '../runtime/environment.ts';
import * as z from '../runtime/schema.ts';
import { builtOnFirstUse } from '../runtime/schema.ts';
import type { ProjectTransition, RecordedEvent } from '../store/event-store.ts';
import type { EventItem, ExportItem } from '../store/items.ts';
import { EVENT_SORT_PREFIX, parseTimeAndEventId } from '../store/keys.ts';
import { fileUrl, PROJECT_STATUS_EVENTS } from '../webhook/events.ts';

/** `exportOn`: which status transitions export; `off` exports nothing. */
export const EXPORT_ON_VALUES = ['REVIEWED', 'COMPLETED', 'both', 'off'] as const;
export type ExportOn = (typeof EXPORT_ON_VALUES)[number];

/**
 * Where export requests go and for which statuses, as the stack sets them on the functions
 * that ask for exports (`EXPORT_QUEUE_URL`, `EXPORT_ON`); undefined when exports are off.
 */
export function exportSettingsFromEnvironment():
  | { readonly queueUrl: string; readonly exportOn: Exclude<ExportOn, 'off'> }
  | undefined {
  const queueUrl = optionalEnv('EXPORT_QUEUE_URL', '');
  const value = optionalEnv('EXPORT_ON', 'off');
  const exportOn = EXPORT_ON_VALUES.find((candidate) => candidate === value);
  if (exportOn === undefined) {
    throw new ConfigurationError(
      `environment variable EXPORT_ON must be one of ${EXPORT_ON_VALUES.join(', ')}, got "${value}"`,
    );
  }
  return queueUrl === '' || exportOn === 'off' ? undefined : { queueUrl, exportOn };
}
export const DEFAULT_EXPORT_ON: ExportOn = 'REVIEWED';
export const DEFAULT_EXPORT_FORMAT = 'json_advanced';

export type { ProjectTransition };

/** What the export queue carries: one message asks for one archive. */
export const exportRequestSchema = builtOnFirstUse(() => {
  const instant = z.iso.datetime();
  return z.discriminatedUnion('kind', [
    /** A project reached the configured status. */
    z.object({
      kind: z.literal('transition'),
      projectId: z.string().check(z.minLength(1)),
      teamId: z.string().check(z.minLength(1)),
      status: z.enum(['COMPLETED', 'REVIEWED']),
      statusAt: instant,
    }),
    /**
     * Datasaur pushed an export (`PUT` with `fileUrl`); the worker stored it at `receivedAt` as
     * the event `eventId`, whose link the exporter removes once the export is over (absent from
     * requests queued before it was sent: their link stays).
     */
    z.object({
      kind: z.literal('delivery'),
      projectId: z.string().check(z.minLength(1)),
      fileUrl: fileUrl(),
      receivedAt: instant,
      eventId: z.optional(z.string().check(z.minLength(1))),
    }),
    /** `npm run export`: archive the project as it is now. */
    z.object({
      kind: z.literal('manual'),
      projectId: z.string().check(z.minLength(1)),
      requestedAt: instant,
    }),
  ]);
});
export type ExportRequest = z.infer<ReturnType<typeof exportRequestSchema>>;
export type TransitionExportRequest = Extract<ExportRequest, { kind: 'transition' }>;

/**
 * The export a stored status transition asks for, or undefined. Every status event of the
 * configured status is a transition (Datasaur sends one each time a reviewer or labeler
 * marks the project complete), so a later re-review exports again, while the same event
 * delivered again has the same `statusAt` and maps to the same export.
 */
export function exportRequestFor(
  transition: ProjectTransition,
  exportOn: ExportOn,
): TransitionExportRequest | undefined {
  const { status } = transition;
  if (status === PROJECT_STATUS_EVENTS.PROJECT_CREATED) return undefined;
  if (exportOn === 'off' || (exportOn !== 'both' && exportOn !== status)) return undefined;
  return {
    kind: 'transition',
    projectId: transition.projectId,
    teamId: transition.teamId,
    status,
    statusAt: transition.statusAt,
  };
}

/** The export queue's message limit (SQS: 256 KiB). */
export const MAX_EXPORT_REQUEST_BYTES = 262_144;

/**
 * Why the export request this item could ask for would never be accepted (by the request
 * schema or the queue's size limit), or undefined. Checked before the item is stored, for
 * every status event and pushed export whatever `exportOn` says: the setting may change.
 */
export function exportRequestProblem(item: EventItem): string | undefined {
  let request: unknown;
  if (item.itemType === 'export') {
    request = deliveryRequest(item);
  } else if (item.itemType === 'projectEvent') {
    const { projectId, teamId, data } = item;
    request = {
      kind: 'transition',
      projectId,
      teamId,
      status: 'REVIEWED',
      statusAt: data.timestamp,
    };
  } else {
    return undefined;
  }
  const parsed = exportRequestSchema().safeParse(request);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
      .join('; ');
    return `its export request would be refused: ${issues}`;
  }
  const size = Buffer.byteLength(JSON.stringify(parsed.data), 'utf8');
  return size > MAX_EXPORT_REQUEST_BYTES
    ? `its export request would be ${size} bytes, over the queue's ${MAX_EXPORT_REQUEST_BYTES}-byte message limit`
    : undefined;
}

/** Where export requests go: the export queue in AWS and in the local stack. */
export interface ExportRequestSink {
  send(request: ExportRequest): Promise<void>;
}

/** What a reconcile run does with a repaired transition: the export the webhook would have asked for. */
export function exportRepairedTransitions(
  queue: ExportRequestSink,
  exportOn: ExportOn,
): (transition: ProjectTransition) => Promise<void> {
  return async (transition) => {
    const request = exportRequestFor(transition, exportOn);
    if (request !== undefined) await queue.send(request);
  };
}

/**
 * The export a stored event asks for: a status event's transition through `exportRequestFor`
 * (a webhook the reconciler already stood in for belongs to the reconciled transition, so it
 * asks for the same export), an export Datasaur pushed (copied whenever exports are on,
 * before its link expires).
 */
export function exportRequestForRecorded(
  recorded: Pick<RecordedEvent, 'item' | 'transition'>,
  exportOn: ExportOn,
): ExportRequest | undefined {
  const { item, transition } = recorded;
  if (transition !== undefined) return exportRequestFor(transition, exportOn);
  if (item.itemType === 'export' && exportOn !== 'off') return deliveryRequest(item);
  return undefined;
}

/**
 * The export a pushed delivery asks for, from the item built from the body (which always
 * has its link); undefined for a stored item whose link is gone.
 */
function deliveryRequest(item: ExportItem): ExportRequest | undefined {
  if (item.data.fileUrl === undefined) return undefined;
  return {
    kind: 'delivery',
    projectId: item.projectId,
    fileUrl: item.data.fileUrl,
    // The first receipt, in the item's key: a redelivery maps to the same archive.
    receivedAt: parseTimeAndEventId(item.sk.slice(EVENT_SORT_PREFIX.length)).time,
    eventId: item.eventId,
  };
}
