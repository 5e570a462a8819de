/** One event: what was stored, its body pretty-printed, and where it went. */

import { html } from 'hono/html';
import { shownUrl } from '../../../shared/export/download.ts';
import { countedName } from '../../../shared/store/hourly-counts.ts';
import type { View } from '../../../shared/store/queries.ts';
import type { BodyObject } from '../../../shared/webhook/claim-check.ts';
import {
  documentHref,
  eventHref,
  facts,
  type Html,
  notice,
  pretty,
  projectHref,
  table,
  text,
} from '../html.ts';
import type { ConsoleSource, Publication } from '../source.ts';

export interface EventFigures {
  readonly view: View;
  /** The other items with this id (a rejected body beside the event a replay stored). */
  readonly others: View[];
  /** The item a link asked for (`at`, `item`) when it is no longer stored. */
  readonly missing?: ItemWanted;
  /** The body as signed, when it is kept apart from the item (claim-checked). */
  readonly archivedBody?: string;
  readonly publications: Publication[] | undefined;
  readonly exports: View[];
}

/** Which of an id's items a link means: its receive time (`at`) and item type (`item`). */
export interface ItemWanted {
  readonly receivedAt?: string | undefined;
  readonly itemType?: string | undefined;
}

export async function readEvent(
  source: ConsoleSource,
  eventId: string,
  wanted: ItemWanted = {},
): Promise<EventFigures | undefined> {
  const items = await source.eventItems(eventId);
  const view = items.find((item) => isWanted(item, wanted)) ?? items[0];
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
    others: items.filter((item) => item !== view),
    publications,
    exports: exports.items.filter((item) => at.has(text(item.statusAt))),
    ...(isWanted(view, wanted) ? {} : { missing: wanted }),
    ...(archivedBody === undefined ? {} : { archivedBody }),
  };
}

/** Without `at` and `item`, any item will do: the first, a stored event. */
function isWanted(item: View, wanted: ItemWanted): boolean {
  return (
    (wanted.receivedAt === undefined || item.receivedAt === wanted.receivedAt) &&
    (wanted.itemType === undefined || item.itemType === wanted.itemType)
  );
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
  if (view.itemType === 'export') {
    // Datasaur's pre-signed link is a credential until its export ends: its host only.
    const data = view.data as Record<string, unknown> | undefined;
    const fileUrl = data?.fileUrl;
    return pretty(
      typeof fileUrl === 'string'
        ? { ...data, fileUrl: `${shownUrl(fileUrl)}/… (the rest left out: a pre-signed link)` }
        : data,
    );
  }
  if (view.itemType === 'unknownEvent')
    return pretty({ eventType: view.eventType, ...(view.payload as object) });
  return pretty({ eventType: view.eventType, data: view.data });
}

export function eventBody(figures: EventFigures): Html {
  const { view, others, missing, publications, exports } = figures;
  const projectId = typeof view.projectId === 'string' ? view.projectId : undefined;
  const documentId = typeof view.documentId === 'string' ? view.documentId : undefined;
  return html`
    ${
      missing === undefined
        ? ''
        : notice(
            `The item this link names (${[missing.itemType, missing.receivedAt && `received at ${missing.receivedAt}`].filter(Boolean).join(', ')}) is no longer stored: a replay that publishes a rejected body removes it. Shown instead: the ${text(view.itemType)} of this id, received at ${text(view.receivedAt)}.`,
          )
    }
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
        'also stored as',
        others.length === 0
          ? undefined
          : html`${others.map(
              (other, index) =>
                html`${index === 0 ? '' : '; '}<a href="${eventHref(other)}">${text(other.itemType)}, received at ${text(other.receivedAt)}</a>`,
            )}`,
      ],
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
