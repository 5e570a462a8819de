/** One event: what was stored, its body pretty-printed, and where it went. */
import { html } from 'hono/html';
import { countedName } from '../../../shared/store/hourly-counts.ts';
import type { View } from '../../../shared/store/queries.ts';
import type { BodyObject } from '../../../shared/webhook/claim-check.ts';
import { documentHref, facts, type Html, pretty, projectHref, table, text } from '../html.ts';
import type { ConsoleSource, Publication } from '../source.ts';

export interface EventFigures {
  readonly view: View;
  /** The body as signed, when it is kept apart from the item (claim-checked). */
  readonly archivedBody?: string;
  readonly publications: Publication[] | undefined;
  readonly exports: View[];
}

export async function readEvent(
  source: ConsoleSource,
  eventId: string,
): Promise<EventFigures | undefined> {
  const view = await source.event(eventId);
  if (view === undefined) return undefined;
  const projectId = typeof view.projectId === 'string' ? view.projectId : undefined;
  const [archivedBody, publications, exports] = await Promise.all([
    view.bodyObject === undefined
      ? undefined
      : source.archivedBody(view.bodyObject as BodyObject).then((body) => body.toString('utf8')),
    source.publications(eventId),
    projectId === undefined ? { items: [] } : source.queries.exports({ projectId }, { limit: 100 }),
  ]);
  // The exports this event asked for: a status transition's (its time) or a pushed file's.
  const at = new Set([
    text((view.data as { timestamp?: string })?.timestamp),
    text(view.receivedAt),
  ]);
  return {
    view,
    publications,
    exports: exports.items.filter((item) => at.has(text(item.statusAt))),
    ...(archivedBody === undefined ? {} : { archivedBody }),
  };
}

/** The body as received: the rejected body as text, else the stored event, indented. */
function body(figures: EventFigures): Html {
  const { view, archivedBody } = figures;
  if (archivedBody !== undefined) {
    try {
      return pretty(JSON.parse(archivedBody));
    } catch {
      return html`<pre class="json">${archivedBody}</pre>`;
    }
  }
  if (view.itemType === 'rejected') {
    if (typeof view.body !== 'string') {
      return html`<p>Binary body (base64):</p><pre class="json">${text(view.bodyBase64)}</pre>`;
    }
    try {
      return pretty(JSON.parse(view.body));
    } catch {
      return html`<pre class="json">${view.body}</pre>`;
    }
  }
  if (view.itemType === 'export') return pretty(view.data);
  if (view.itemType === 'unknownEvent')
    return pretty({ eventType: view.eventType, ...(view.payload as object) });
  return pretty({ eventType: view.eventType, data: view.data });
}

export function eventBody(figures: EventFigures): Html {
  const { view, publications, exports } = figures;
  const projectId = typeof view.projectId === 'string' ? view.projectId : undefined;
  const documentId = typeof view.documentId === 'string' ? view.documentId : undefined;
  return html`
    ${facts([
      ['event id', html`<code>${text(view.eventId)}</code>`],
      ['type', countedName(view)],
      ['received', text(view.receivedAt)],
      [
        'project',
        projectId === undefined
          ? undefined
          : html`<a href="${projectHref(projectId)}">${projectId}</a>`,
      ],
      [
        'document',
        documentId === undefined
          ? undefined
          : html`<a href="${documentHref(documentId)}">${documentId}</a>`,
      ],
      ['team', text(view.teamId)],
      ['rejected because', text(view.reason)],
      [
        'file link',
        view.fileUrlRemovedBecause === undefined
          ? undefined
          : `removed from the body at ${text(view.fileUrlRemovedAt)}, once its export was ${text(view.fileUrlRemovedBecause)}: Datasaur's pre-signed link is a credential`,
      ],
    ])}
    <section aria-labelledby="went-heading">
      <h2 id="went-heading">Where it went</h2>
      <ul class="went">
        <li><strong>Stored</strong> in the table as ${text(view.itemType)}${view.bodyObject === undefined ? '' : ', its body in the archive bucket'}.</li>
        <li><strong>Published</strong>: ${
          publications === undefined
            ? 'not known to this console'
            : publications.length === 0
              ? 'not put on the bus'
              : publications
                  .map((publication) => `"${publication.detailType}" at ${publication.time}`)
                  .join(', ')
        }.</li>
        <li><strong>Export requested</strong>: ${exports.length === 0 ? 'no' : `yes, ${exports.length} (below)`}.</li>
      </ul>
      ${
        exports.length === 0
          ? ''
          : table({
              caption: 'Exports this event asked for',
              headings: ['trigger', 'status', 'requested', 'S3 key', 'bytes', 'sha256'],
              rows: exports.map((item) => [
                html`${text(item.trigger)}`,
                html`${text(item.status)}`,
                html`${text(item.requestedAt)}`,
                html`<code>${text(item.key)}</code>`,
                html`${text(item.bytes)}`,
                html`<code class="hash">${text(item.sha256)}</code>`,
              ]),
            })
      }
    </section>
    <section aria-labelledby="body-heading">
      <h2 id="body-heading">Body</h2>
      ${body(figures)}
    </section>`;
}
