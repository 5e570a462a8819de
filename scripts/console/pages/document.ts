/** One document: its label events newest first, each with the labels it upserted and deleted. */
import { html } from 'hono/html';
import type { Page, View } from '../../../shared/store/queries.ts';
import { documentHref, eventHref, type Html, shortId, table, text } from '../html.ts';
import type { ConsoleSource } from '../source.ts';

export const LABEL_EVENTS_PER_PAGE = 25;

export function readDocument(
  source: ConsoleSource,
  documentId: string,
  cursor: string | undefined,
): Promise<Page> {
  return source.queries.documentLabels(
    documentId,
    { limit: LABEL_EVENTS_PER_PAGE, cursor },
    { newestFirst: true },
  );
}

type Label = Record<string, unknown>;

interface LabelEventData {
  readonly timestamp?: string;
  readonly document?: { readonly name?: string };
  readonly owner?: { readonly email?: string; readonly id?: string };
  readonly isReviewDocument?: boolean;
  readonly labelUpdateList?: { readonly toUpsertList?: Label[]; readonly toDeleteList?: Label[] };
}

/** Where a label sits: cell and token (and characters) from its start to its end. */
function span(label: Label): string {
  const at = (edge: 'start' | 'end') =>
    `cell ${text(label[`${edge}CellIndex`])}, token ${text(label[`${edge}TokenIndex`])}, char ${text(label[`${edge}CharIndex`])}`;
  return `${at('start')} to ${at('end')}`;
}

function who(label: Label): string {
  const userId = label.labeledByUserId;
  return [
    text(label.labeledBy),
    userId === undefined || userId === null ? '' : `user ${text(userId)}`,
  ]
    .filter((part) => part !== '')
    .join(', ');
}

function labels(caption: string, list: readonly Label[] | undefined): Html {
  return table({
    caption,
    headings: ['label', 'type', 'span', 'layer', 'who'],
    rows: (list ?? []).map((label) => [
      html`${text(label.labelSetItemId)}`,
      html`${text(label.type)}`,
      html`${span(label)}`,
      html`${text(label.layer)}`,
      html`${who(label)}`,
    ]),
    empty: `${caption}: none.`,
  });
}

export function documentBody(documentId: string, page: Page): Html {
  const first = page.items[0]?.data as LabelEventData | undefined;
  return html`
    <p>Document <code>${documentId}</code>${first?.document?.name ? html`, <strong>${first.document.name}</strong>` : ''}: ${page.items.length} label event(s) on this page, newest first.</p>
    ${page.items.length === 0 ? html`<p class="empty">No label event stored for this document.</p>` : ''}
    ${page.items.map((view: View) => {
      const data = (view.data ?? {}) as LabelEventData;
      const list = data.labelUpdateList;
      return html`<article class="label-event" aria-labelledby="label-${text(view.eventId)}">
        <h2 id="label-${text(view.eventId)}"><time>${text(data.timestamp)}</time> by ${text(data.owner?.email || data.owner?.id)}${data.isReviewDocument === true ? ' (review)' : ''}</h2>
        <p>${list?.toUpsertList?.length ?? 0} upserted, ${list?.toDeleteList?.length ?? 0} deleted ·
          <a href="${eventHref(view)}">event ${shortId(view.eventId)}</a></p>
        ${labels('Upserted', list?.toUpsertList)}
        ${labels('Deleted', list?.toDeleteList)}
      </article>`;
    })}
    ${
      page.cursor === undefined
        ? ''
        : html`<p><a rel="next" href="${documentHref(documentId, page.cursor)}">Older label events</a></p>`
    }`;
}
