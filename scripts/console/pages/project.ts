/** One project: its status and timeline, its events, its archived exports, its documents. */
import { html } from 'hono/html';
import { countedName } from '../../../shared/store/hourly-counts.ts';
import type { Page, View } from '../../../shared/store/queries.ts';
import { IndexNotDeployedError } from '../../../shared/store/table.ts';
import { PROJECT_STATUS_EVENTS } from '../../../shared/webhook/events.ts';
import { documentHref, eventHref, facts, type Html, shortId, table, text } from '../html.ts';
import type { ConsoleSource } from '../source.ts';

/** A project's events shown at most: Datasaur sends a handful per project. */
const HISTORY_LIMIT = 500;

/** Documents whose newest label event is shown at most. */
const DOCUMENTS_SHOWN = 20;

/** The project's newest label events read (GSI4) to find its documents: a bounded page. */
const LABEL_EVENTS_READ = 200;

export interface ProjectFigures {
  readonly project: View;
  readonly history: Page;
  readonly exports: Page;
  /**
   * Its documents, most recently labelled first, each with its newest label event (if any):
   * those whose label events the enrichment has filed under the project (GSI4), then those
   * its own events name (export deliveries).
   */
  readonly documents: { readonly documentId: string; readonly newest?: View }[];
  /** The project's label counters (the enrichment's), when it has any. */
  readonly labelCounts?: View;
  /** Short-lived download links of archived exports, by S3 key (a deployed stack's). */
  readonly downloads: ReadonlyMap<string, string>;
}

export async function readProject(
  source: ConsoleSource,
  projectId: string,
): Promise<ProjectFigures | undefined> {
  const [project, history, exports] = await Promise.all([
    source.queries.project(projectId),
    source.queries.projectHistory(projectId, { limit: HISTORY_LIMIT }),
    source.queries.exports({ projectId }, { limit: HISTORY_LIMIT }),
  ]);
  if (project === undefined) return undefined;
  const labelled = await projectLabelEvents(source, projectId);
  // Newest first, so its documents come most recently labelled first. The index holds the
  // keys and ids only: each document's newest label event is read whole below.
  const documentIds = [
    ...new Set(
      [...(labelled?.items ?? []), ...history.items]
        .map((view) => view.documentId)
        .filter((id): id is string => typeof id === 'string'),
    ),
  ].slice(0, DOCUMENTS_SHOWN);
  const documents = await Promise.all(
    documentIds.map(async (documentId) => {
      const { items } = await source.queries.documentLabels(
        documentId,
        { limit: 1 },
        { newestFirst: true },
      );
      return { documentId, ...(items[0] && { newest: items[0] }) };
    }),
  );
  const downloadUrl = source.downloadUrl;
  const archived = exports.items.filter(
    (item) =>
      item.status === 'ARCHIVED' && typeof item.bucket === 'string' && typeof item.key === 'string',
  );
  const downloads = new Map(
    downloadUrl === undefined
      ? []
      : await Promise.all(
          archived.map(
            async (item) =>
              [String(item.key), await downloadUrl(String(item.bucket), String(item.key))] as const,
          ),
        ),
  );
  return {
    project,
    history,
    exports,
    documents,
    downloads,
    ...(labelled?.counts && { labelCounts: labelled.counts }),
  };
}

/**
 * The project's newest label events, filed under it by the enrichment (GSI4), or undefined on
 * a table deployed without that index (`tableIndexes`).
 */
async function projectLabelEvents(
  source: ConsoleSource,
  projectId: string,
): Promise<(Page & { counts?: View }) | undefined> {
  try {
    return await source.queries.projectLabels(projectId, { limit: LABEL_EVENTS_READ });
  } catch (error) {
    if (error instanceof IndexNotDeployedError) return undefined;
    throw error;
  }
}

const eventTime = (view: View) =>
  text((view.data as { timestamp?: string } | undefined)?.timestamp ?? view.receivedAt);

function person(value: unknown): string {
  const who = value as { email?: string | null; id?: string } | null | undefined;
  return who == null ? '' : text(who.email || who.id);
}

export function projectBody({
  project,
  history,
  exports,
  documents,
  downloads,
  labelCounts,
}: ProjectFigures): Html {
  const transitions = history.items.filter(
    (view) => view.itemType === 'projectEvent' || view.itemType === 'syntheticStatusEvent',
  );
  return html`
    <section aria-labelledby="status-heading">
      <h2 id="status-heading">Status</h2>
      ${facts([
        ['project id', text(project.projectId)],
        ['name', text(project.name)],
        [
          'status',
          html`<strong>${text(project.status)}</strong>${project.source === 'reconcile' ? ' (set by the reconciler; no webhook confirmed it)' : ''}`,
        ],
        ['since', text(project.statusAt)],
        ['team', text(project.teamName ?? project.teamId)],
        ['tags', text((project.tags as string[] | undefined)?.join(', '))],
        ['completed by', person(project.completedBy)],
        ['reviewed by', person(project.reviewedBy)],
        ['events', text(project.eventCount)],
        ['last event', text(project.lastEventAt)],
        [
          'label events',
          labelCounts === undefined
            ? undefined
            : html`${text(labelCounts.labelEventCount)} on ${text(labelCounts.documentCount)} documents (counted ${text(labelCounts.countedAt)})`,
        ],
      ])}
    </section>
    <section aria-labelledby="timeline-heading">
      <h2 id="timeline-heading">Timeline</h2>
      <ol class="timeline">
        ${transitions.map((view) => {
          const reconciled = view.itemType === 'syntheticStatusEvent';
          const status =
            PROJECT_STATUS_EVENTS[view.eventType as keyof typeof PROJECT_STATUS_EVENTS] ??
            text(view.eventType);
          return html`<li class="${reconciled ? 'reconciled' : 'webhook'}">
            <time>${eventTime(view)}</time>
            <strong>${status}</strong>
            <span class="origin">${
              reconciled
                ? `reconciled: Datasaur said ${text(view.datasaurStatus)} (time from ${text(view.timestampFrom)}), no webhook arrived`
                : 'webhook'
            }</span>
            <a href="${eventHref(view)}">${shortId(view.eventId)}</a>
          </li>`;
        })}
      </ol>
      ${transitions.length === 0 ? html`<p class="empty">No status events stored.</p>` : ''}
    </section>
    <section aria-labelledby="events-heading">
      <h2 id="events-heading">Events</h2>
      ${table({
        caption: `Events and export deliveries, oldest first${history.cursor === undefined ? '' : ` (the first ${history.items.length})`}`,
        headings: ['time', 'type', 'received', 'by', 'event'],
        rows: history.items.map((view) => {
          const data = (view.data ?? {}) as Record<string, unknown>;
          return [
            html`<time>${eventTime(view)}</time>`,
            html`${countedName(view)}`,
            html`<time>${text(view.receivedAt)}</time>`,
            html`${person(data.labeler ?? data.reviewer)}`,
            html`<a href="${eventHref(view)}">${shortId(view.eventId)}</a>`,
          ];
        }),
      })}
    </section>
    <section aria-labelledby="exports-heading">
      <h2 id="exports-heading">Exports</h2>
      ${table({
        caption: 'Exports archived into the bucket',
        headings: [
          'trigger',
          'status',
          'requested',
          'archived',
          'S3 key',
          'bytes',
          'sha256',
          'reason',
        ],
        rows: exports.items.map((item) => [
          html`${text(item.trigger)} at ${text(item.statusAt)}`,
          html`${text(item.status)}`,
          html`${text(item.requestedAt)}`,
          html`${text(item.archivedAt)}`,
          downloads.has(text(item.key))
            ? html`<a href="${downloads.get(text(item.key))}" download><code>${text(item.bucket)}/${text(item.key)}</code></a>`
            : html`<code>${text(item.bucket)}/${text(item.key)}</code>`,
          html`${text(item.bytes)}`,
          html`<code class="hash">${text(item.sha256)}</code>`,
          html`${text(item.reason)}`,
        ]),
        empty: 'No export archived for this project.',
      })}
    </section>
    <section aria-labelledby="documents-heading">
      <h2 id="documents-heading">Label activity of its documents</h2>
      <p>A label event names its document, not its project: the documents here are those the enrichment has learned belong to this project, most recently labelled first, then those its export deliveries name.</p>
      ${table({
        caption: 'Documents and their newest label event',
        headings: ['document', 'newest label event', 'by', 'upserted', 'deleted'],
        rows: documents.map(({ documentId, newest }) => {
          const data = (newest?.data ?? {}) as {
            timestamp?: string;
            owner?: { email?: string; id?: string };
            labelUpdateList?: { toUpsertList?: unknown[]; toDeleteList?: unknown[] };
          };
          return [
            html`<a href="${documentHref(documentId)}">${documentId}</a>`,
            newest === undefined
              ? html`none stored`
              : html`<a href="${eventHref(newest)}">${text(data.timestamp)}</a>`,
            html`${person(data.owner)}`,
            html`${text(data.labelUpdateList?.toUpsertList?.length)}`,
            html`${text(data.labelUpdateList?.toDeleteList?.length)}`,
          ];
        }),
        empty: 'No document named yet.',
      })}
      <form method="get" action="/documents" class="inline">
        <label for="document-id">Open a document by id</label>
        <input id="document-id" name="id" size="36">
        <button type="submit">Open</button>
      </form>
    </section>`;
}
