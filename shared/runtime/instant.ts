/**
 * ISO 8601 instants as this product takes them, from Datasaur and from the command line:
 * `Date.parse` alone takes "1" (2001), "March 7, 2024", a time without a zone (read in the
 * machine's zone) and February 30th (March 2nd).
 */

/** A date, a time and a zone, as Datasaur writes them (`2023-11-17T09:02:45.258Z`). */
const DATE_TIME =
  /^(\d{4}|[+-]\d{6})-(\d{2})-(\d{2})T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/i;

/** A calendar date alone, `2026-11-23`: midnight UTC, as ECMAScript reads it. */
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True when year, month and day name a day of the calendar (no February 30th). */
function isCalendarDate(year: string, month: string, day: string): boolean {
  const [y, m, d] = [Number(year), Number(month), Number(day)];
  const date = new Date(Date.UTC(2000, m - 1, d));
  date.setUTCFullYear(y);
  return m >= 1 && m <= 12 && d >= 1 && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/** The time in ms of an ISO 8601 date and time with a zone, or undefined for anything else. */
export function parseIsoDateTime(value: string): number | undefined {
  const match = DATE_TIME.exec(value);
  if (
    match === null ||
    !isCalendarDate(match[1] as string, match[2] as string, match[3] as string)
  ) {
    return undefined;
  }
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : time;
}

/** As parseIsoDateTime, also taking a date alone (`2026-11-23`, its midnight UTC). */
export function parseIsoInstant(value: string): number | undefined {
  const date = DATE_ONLY.exec(value);
  if (date === null) return parseIsoDateTime(value);
  if (!isCalendarDate(date[1] as string, date[2] as string, date[3] as string)) return undefined;
  return Date.parse(`${value}T00:00:00Z`);
}
