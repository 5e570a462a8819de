/**
 * The feed: every event newest first, filtered by type, team, project and time range (all in
 * the query string). Filters are applied to bounded reads of the feed index: a page reads at
 * most `MAX_ENTRIES_READ` entries and says so, so no filter turns into a scan.
 */
import { html } from 'hono/html';
import { countedName } from '../../../shared/store/hourly-counts.ts';
import { InvalidQueryError, type View } from '../../../shared/store/queries.ts';
import { EVENT_TYPE_NAMES } from '../event-types.ts';
import {
  documentHref,
  eventHref,
  type Html,
  href,
  projectHref,
  shortId,
  table,
  text,
} from '../html.ts';
import type { ConsoleSource } from '../source.ts';

export const FEED_PAGE_SIZE = 50;
/** Entries read per query when a filter may drop most of them. */
const FILTERED_READ_SIZE = 250;
const MAX_ENTRIES_READ = 2_000;
const DAY_MS = 24 * 3_600_000;

export interface FeedFilter {
  readonly type?: string;
  readonly team?: string;
  readonly project?: string;
  /** As given in the query string; the range defaults to the last 24 hours. */
  readonly from?: string;
  readonly to?: string;
  readonly cursor?: string;
}

export const FEED_PARAMETERS = ['type', 'team', 'project', 'from', 'to', 'cursor'] as const;

export interface FeedResult {
  readonly items: View[];
  readonly range: { readonly from: string; readonly to: string };
  readonly cursor?: string;
  readonly entriesRead: number;
}

export async function readFeed(
  source: ConsoleSource,
  filter: FeedFilter,
  now: Date,
): Promise<FeedResult> {
  const range = {
    from: filter.from || new Date(now.getTime() - DAY_MS).toISOString(),
    to: filter.to || now.toISOString(),
  };
  const filtered = Boolean(filter.type || filter.team || filter.project);
  const matches = (view: View) =>
    (!filter.type || countedName(view) === filter.type) &&
    (!filter.team || view.teamId === filter.team) &&
    (!filter.project || view.projectId === filter.project);
  const items: View[] = [];
  let cursor = filter.cursor || undefined;
  let entriesRead = 0;
  do {
    const page = await source.queries.feed(
      range,
      { limit: filtered ? FILTERED_READ_SIZE : FEED_PAGE_SIZE, cursor },
      { newestFirst: true },
    );
    entriesRead += page.items.length;
    items.push(...page.items.filter(matches));
    cursor = page.cursor;
  } while (
    filtered &&
    cursor !== undefined &&
    items.length < FEED_PAGE_SIZE &&
    entriesRead < MAX_ENTRIES_READ
  );
  return { items, range, entriesRead, ...(cursor && { cursor }) };
}

export function feedBody(filter: FeedFilter, result: FeedResult, refreshing: boolean): Html {
  const older =
    result.cursor === undefined
      ? undefined
      : href(['feed'], {
          type: filter.type || undefined,
          team: filter.team || undefined,
          project: filter.project || undefined,
          // The resolved range, so the next page reads the same partitions whatever the time.
          from: result.range.from,
          to: result.range.to,
          cursor: result.cursor,
        });
  return html`
    <form method="get" action="/feed" class="filters" aria-label="Filter the feed">
      <label>Type
        <select name="type">
          <option value="">any</option>
          ${EVENT_TYPE_NAMES.map(
            (name) =>
              html`<option value="${name}"${filter.type === name ? html` selected` : ''}>${name}</option>`,
          )}
        </select>
      </label>
      <label>Team <input name="team" value="${filter.team ?? ''}" size="10"></label>
      <label>Project <input name="project" value="${filter.project ?? ''}" size="14"></label>
      <label>From <input name="from" value="${filter.from ?? ''}" placeholder="2026-12-06T00:00:00Z" size="22"></label>
      <label>To <input name="to" value="${filter.to ?? ''}" placeholder="now" size="22"></label>
      <button type="submit">Show</button>
      <a href="/feed">Clear</a>
    </form>
    <div id="feed-results" ${refreshing ? html`data-refresh="5000"` : ''}>
      <p class="range" aria-live="polite">
        Received from <time>${result.range.from}</time> to <time>${result.range.to}</time>, newest first.
        ${refreshing ? html`<span class="refresh-state">Refreshing every 5 s.</span>` : ''}
        ${
          result.cursor !== undefined && result.items.length < FEED_PAGE_SIZE
            ? `Read ${result.entriesRead} events to find these; older ones are on the next page.`
            : ''
        }
      </p>
      ${table({
        id: 'feed',
        caption: 'Events received',
        headings: ['received', 'type', 'team', 'subject', 'event'],
        rows: result.items.map((view) => [
          html`<time>${text(view.receivedAt)}</time>`,
          html`${countedName(view)}`,
          html`${text(view.teamId)}`,
          subject(view),
          html`<a href="${eventHref(view)}">${shortId(view.eventId)}</a>`,
        ]),
        empty: 'No events in this range.',
      })}
      ${older === undefined ? '' : html`<p><a href="${older}" rel="next">Older events</a></p>`}
    </div>`;
}

function subject(view: View): Html {
  if (typeof view.projectId === 'string') {
    return html`project <a href="${projectHref(view.projectId)}">${view.projectId}</a>`;
  }
  if (typeof view.documentId === 'string') {
    return html`document <a href="${documentHref(view.documentId)}">${view.documentId}</a>`;
  }
  return html``;
}

/** The filter of a query string; an unknown type is a mistake worth saying. */
export function feedFilterOf(query: Record<string, string | undefined>): FeedFilter {
  const filter = Object.fromEntries(
    // Ids as given (an id may start or end with a space); times and cursors trimmed.
    FEED_PARAMETERS.map((name) => [
      name,
      (name === 'team' || name === 'project' ? query[name] : query[name]?.trim()) || undefined,
    ]),
  ) as FeedFilter;
  if (filter.type !== undefined && !EVENT_TYPE_NAMES.includes(filter.type)) {
    throw new InvalidQueryError(`type must be one of ${EVENT_TYPE_NAMES.join(', ')}`);
  }
  return filter;
}
