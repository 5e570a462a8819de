/**
 * The console's page frame and the small pieces every page uses. Everything goes through
 * hono's `html` template, which escapes each value (`& < > " '`), so a value from a webhook
 * is text wherever it lands, attributes included; links are built from encoded parts only.
 */
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { View } from '../../shared/store/queries.ts';

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

const NAVIGATION = [
  ['/', 'Overview'],
  ['/feed', 'Feed'],
] as const;

export function page(options: {
  readonly title: string;
  readonly current?: string;
  readonly source: string;
  readonly body: Html;
  readonly actionsAllowed?: boolean;
}): Html {
  return html`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>${options.title} · Datasaur webhooks console</title>
    <link rel="stylesheet" href="/assets/uPlot.min.css">
    <link rel="stylesheet" href="/assets/console.css">
    <script src="/assets/uPlot.iife.min.js" defer></script>
    <script src="/assets/console.js" defer></script>
  </head>
  <body>
    <header>
      <nav aria-label="Console">
        <span class="brand">Datasaur webhooks</span>
        ${NAVIGATION.map(
          ([path, label]) =>
            html`<a href="${path}"${options.current === path ? html` aria-current="page"` : ''}>${label}</a>`,
        )}
        <form action="/feed" method="get" role="search" class="search">
          <label for="search-id">Event id</label>
          <input id="search-id" name="id" size="20" autocomplete="off" spellcheck="false">
          <button type="submit">Find</button>
        </form>
      </nav>
    </header>
    <main>
      <h1>${options.title}</h1>
      ${options.body}
    </main>
    <footer>${options.actionsAllowed ? 'Actions allowed (each asks for confirmation)' : 'Read-only'}. Reading the ${options.source}.</footer>
  </body>
</html>`;
}

/** A path with encoded segments and a query string of the defined parameters. */
export function href(
  segments: readonly string[],
  query: Readonly<Record<string, string | undefined>> = {},
): string {
  const path = `/${segments.map(encodeURIComponent).join('/')}`;
  const search = new URLSearchParams(
    Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined),
  ).toString();
  return search === '' ? path : `${path}?${search}`;
}

/**
 * A project's or a document's page names its id in the query string: an id comes from a
 * webhook and may be `.` or `..`, which browsers and servers drop from a path
 * (`/projects/..` is `/`), even percent-encoded.
 */
export const projectHref = (projectId: string) => href(['projects'], { id: projectId });
export const documentHref = (documentId: string, cursor?: string) =>
  href(['documents'], { id: documentId, cursor });

/**
 * An event's page, with the receive time and item type that pick this item when its id names
 * more than one (a rejected body beside the event a replay stored but could not publish).
 */
export function eventHref(view: View): string {
  const given = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return href(['events', text(view.eventId)], {
    at: given(view.receivedAt),
    item: given(view.itemType),
  });
}

/**
 * Characters that change how text around them is laid out or that cannot be seen: controls
 * and format characters (bidi embeddings, overrides and isolates, zero-width characters). An
 * id holding one could pass for another (`\u202E4202-lloryap` shows as "payroll-2024") or
 * turn a sentence around.
 */
const UNSEEN = /[\p{Cc}\p{Cf}]/gu;

/**
 * An id as a person should read it where they act on it (a page's title, a confirmation): as
 * it is when it is plain, else quoted with what cannot be seen written out (`"\u202E4202-…"`),
 * leading and trailing spaces included.
 */
export function shownId(value: string): string {
  if (value.search(UNSEEN) === -1 && value.trim() === value) return value;
  const written = value.replace(
    UNSEEN,
    (character) =>
      `\\u${(character.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`,
  );
  return `"${written}"`;
}

/** A value as text; objects as indented JSON. */
export function text(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

export function pretty(value: unknown): Html {
  return html`<pre class="json">${JSON.stringify(value, null, 2)}</pre>`;
}

/** The first characters of an event id, the whole of it in the title. */
export function shortId(eventId: unknown): Html {
  const id = text(eventId);
  return html`<code title="${id}">${id.slice(0, 12)}</code>`;
}

export function table(options: {
  readonly caption: string;
  readonly headings: readonly string[];
  readonly rows: readonly Html[][];
  readonly empty?: string;
  readonly id?: string;
}): Html {
  if (options.rows.length === 0) {
    return html`<p class="empty"${options.id ? html` id="${options.id}"` : ''}>${options.empty ?? 'Nothing yet.'}</p>`;
  }
  return html`<table${options.id ? html` id="${options.id}"` : ''}>
    <caption>${options.caption}</caption>
    <thead><tr>${options.headings.map((heading) => html`<th scope="col">${heading}</th>`)}</tr></thead>
    <tbody>${options.rows.map((cells) => html`<tr>${cells.map((cell) => html`<td>${cell}</td>`)}</tr>`)}</tbody>
  </table>`;
}

/** Definition list of label/value pairs, values rendered as text. */
export function facts(entries: readonly [string, Html | string | undefined][]): Html {
  return html`<dl class="facts">${entries
    .filter(([, value]) => value !== undefined && value !== '')
    .map(([name, value]) => html`<dt>${name}</dt><dd>${value}</dd>`)}</dl>`;
}

export function notice(message: string): Html {
  return html`<p class="notice" role="status">${message}</p>`;
}
