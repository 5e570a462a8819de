/** The home page: events per hour by type, rejected bodies today, exports, DLQs, reconciling. */
import { html } from 'hono/html';
import { type HourlyCount, hourOf, REJECTED_COUNT } from '../../../shared/store/hourly-counts.ts';
import type { ExportStatus } from '../../../shared/store/items.ts';
import type { Page, View } from '../../../shared/store/queries.ts';
import { EVENT_TYPE_NAMES } from '../event-types.ts';
import { type Html, href, projectHref, table, text } from '../html.ts';
import type { ConsoleSource, QueueDepth } from '../source.ts';

const HOUR_MS = 3_600_000;
/** Exports listed per status; more are counted as "at least". */
const EXPORTS_SHOWN = 100;

/** The hours of the last `hours` hours up to now's, oldest first. */
export function lastHours(now: Date, hours: number): string[] {
  return Array.from({ length: hours }, (_, index) =>
    hourOf(new Date(now.getTime() - (hours - 1 - index) * HOUR_MS).toISOString()),
  );
}

export interface OverviewFigures {
  readonly day: HourlyCount[];
  readonly week: HourlyCount[];
  readonly rejectedToday: number;
  /** WAITING: the export cannot start yet (`reasonCode`: no usable Datasaur credentials). */
  readonly waiting: Page;
  /** REQUESTED: asked of Datasaur, or downloading; not archived yet. */
  readonly requested: Page;
  readonly failed: Page;
  readonly deadLetters: QueueDepth[];
  readonly lastRun: View | undefined;
}

export async function readOverview(source: ConsoleSource, now: Date): Promise<OverviewFigures> {
  const weekHours = lastHours(now, 7 * 24);
  const dayHours = weekHours.slice(-24);
  const today = now.toISOString().slice(0, 10);
  const exportsOf = (status: ExportStatus) =>
    source.queries.exports({ status }, { limit: EXPORTS_SHOWN });
  const [week, waiting, requested, failed, deadLetters, runs] = await Promise.all([
    source.hourlyCounts.read(weekHours[0] as string, weekHours.at(-1) as string),
    exportsOf('WAITING'),
    exportsOf('REQUESTED'),
    exportsOf('FAILED'),
    source.deadLetterQueues(),
    source.queries.reconcileRuns({ limit: 1 }),
  ]);
  const day = week.filter((count) => count.hour >= (dayHours[0] as string));
  const rejectedToday = week
    .filter((count) => count.hour.startsWith(today))
    .reduce((sum, count) => sum + (count.counts[REJECTED_COUNT] ?? 0), 0);
  return {
    day,
    week,
    rejectedToday,
    waiting,
    requested,
    failed,
    deadLetters,
    lastRun: runs.items[0],
  };
}

/** `reconcileAction`: the form that runs a reconcile, beside the last run (empty if read-only). */
export function overviewBody(
  figures: OverviewFigures,
  now: Date,
  reconcileAction: Html | string = '',
): Html {
  const weekHours = lastHours(now, 7 * 24);
  const today = now.toISOString().slice(0, 10);
  return html`
    <section aria-labelledby="today-heading" class="cards">
      <h2 id="today-heading" class="visually-hidden">At a glance</h2>
      ${card(
        'Rejected bodies today',
        figures.rejectedToday,
        href(['feed'], { type: REJECTED_COUNT, from: `${today}T00:00:00.000Z` }),
      )}
      ${card('Exports waiting', countOf(figures.waiting, figures.requested), '#exports-waiting')}
      ${card('Exports failed', countOf(figures.failed), '#exports-failed')}
      ${figures.deadLetters.map((queue) =>
        card(
          `Dead-letter queue ${queue.name}`,
          typeof queue.depth === 'number' ? queue.depth : queue.depth.unavailable,
          '#dead-letters',
        ),
      )}
      ${card(
        'Last reconcile run',
        figures.lastRun === undefined
          ? 'none yet'
          : `${text(figures.lastRun.outcome)} at ${text(figures.lastRun.startedAt)}`,
        '#reconcile',
      )}
    </section>
    <section aria-labelledby="day-heading">
      <h2 id="day-heading">Events per hour, last 24 hours</h2>
      ${chart('day-chart', 'Events per hour by type over the last 24 hours', weekHours.slice(-24), figures.day)}
      ${totals('Events by type, last 24 hours', figures.day, weekHours.at(-24) as string, 'day-totals')}
    </section>
    <section aria-labelledby="week-heading">
      <h2 id="week-heading">Events per hour, last 7 days</h2>
      ${chart('week-chart', 'Events per hour by type over the last 7 days', weekHours, figures.week)}
      ${totals('Events by type, last 7 days', figures.week, weekHours[0] as string, 'week-totals')}
    </section>
    <section aria-labelledby="exports-heading">
      <h2 id="exports-heading">Exports waiting or failed</h2>
      <div id="exports-waiting">
        ${exportsTable('Exports waiting for working Datasaur credentials, not started yet', figures.waiting)}
        ${exportsTable('Exports requested, not archived yet', figures.requested)}
      </div>
      <div id="exports-failed">${exportsTable('Exports that failed', figures.failed)}</div>
    </section>
    <section aria-labelledby="dlq-heading" id="dead-letters">
      <h2 id="dlq-heading">Dead-letter queues</h2>
      ${table({
        caption: 'Messages waiting in each dead-letter queue (npm run redrive moves them back)',
        headings: ['queue', 'messages'],
        rows: figures.deadLetters.map((queue) => [
          html`${queue.name}`,
          html`${typeof queue.depth === 'number' ? queue.depth : queue.depth.unavailable}`,
        ]),
      })}
    </section>
    <section aria-labelledby="reconcile-heading" id="reconcile">
      <h2 id="reconcile-heading">Last reconcile run</h2>
      ${reconcileRun(figures.lastRun)}${reconcileAction}
    </section>`;
}

function card(label: string, value: string | number, link: string): Html {
  return html`<a class="card" href="${link}"><span class="label">${label}</span><span class="value">${value}</span></a>`;
}

/** Items of the pages; "+" when one has more than it shows. */
function countOf(...pages: Page[]): string {
  const shown = pages.reduce((sum, page) => sum + page.items.length, 0);
  return `${shown}${pages.some((page) => page.cursor !== undefined) ? '+' : ''}`;
}

/** The chart's data travels in an attribute (escaped, never executed) for console.js. */
function chart(id: string, label: string, hours: readonly string[], counts: HourlyCount[]): Html {
  const byHour = new Map(counts.map((count) => [count.hour, count.counts]));
  const names = EVENT_TYPE_NAMES.filter((name) =>
    counts.some((count) => (count.counts[name] ?? 0) > 0),
  );
  const data = {
    hours: hours.map((hour) => Date.parse(`${hour}:00:00.000Z`) / 1000),
    series: names.map((name) => ({
      name,
      values: hours.map((hour) => byHour.get(hour)?.[name] ?? 0),
    })),
  };
  return html`<figure class="chart" id="${id}" data-chart="${JSON.stringify(data)}" role="img" aria-label="${label}">
    ${names.length === 0 ? html`<p class="empty">No events in this period.</p>` : ''}
  </figure>`;
}

function totals(caption: string, counts: HourlyCount[], fromHour: string, id: string): Html {
  const sums = new Map<string, number>();
  for (const count of counts) {
    for (const [name, value] of Object.entries(count.counts)) {
      sums.set(name, (sums.get(name) ?? 0) + value);
    }
  }
  const from = `${fromHour}:00:00.000Z`;
  return table({
    id,
    caption,
    headings: ['type', 'events'],
    rows: [...sums]
      .sort(([left], [right]) => (left < right ? -1 : 1))
      .map(([name, sum]) => [
        html`<a href="${href(['feed'], { type: name, from })}">${name}</a>`,
        html`<span data-type="${name}">${sum}</span>`,
      ]),
    empty: 'No events in this period.',
  });
}

function exportsTable(caption: string, page: Page): Html {
  return table({
    caption: `${caption}${page.cursor === undefined ? '' : ` (the newest ${page.items.length})`}`,
    headings: ['requested', 'project', 'trigger', 'status', 'attempts', 'reason'],
    rows: page.items.map((item) => [
      html`${text(item.requestedAt)}`,
      html`<a href="${projectHref(text(item.projectId))}">${text(item.projectId)}</a>`,
      html`${text(item.trigger)}`,
      html`${text(item.status)}`,
      html`${text(item.attempts)}`,
      html`${item.reasonCode === undefined ? '' : `${text(item.reasonCode)}: `}${text(item.reason)}`,
    ]),
    empty: `${caption}: none.`,
  });
}

function reconcileRun(run: View | undefined): Html {
  if (run === undefined)
    return html`<p class="empty">No reconcile run yet (npm run reconcile).</p>`;
  const compared = (run.compared ?? {}) as Record<string, number>;
  return table({
    caption: 'The newest reconcile run',
    headings: ['started', 'outcome', 'projects checked', 'missing', 'behind', 'repaired', 'errors'],
    rows: [
      [
        html`${text(run.startedAt)}`,
        html`${text(run.outcome)}${run.dryRun === true ? ' (dry run)' : ''}`,
        html`${text(run.projectsChecked)}`,
        html`${text(compared.missing)}`,
        html`${text(compared.behind)}`,
        html`${text(run.repaired)}`,
        html`${((run.errors as string[] | undefined) ?? []).join('; ')}`,
      ],
    ],
  });
}
