/**
 * Pure helpers on calendar dates written `YYYY-MM-DD` (no time, no time zone).
 *
 * Dates are handled as (year, month, day) numbers, never through `Date` objects in a
 * local time zone, so results do not depend on where the process runs. Years of more
 * than four digits and negative years (both lexically valid `xs:date`) are accepted on
 * input; output is zero-padded to at least four digits.
 */
import type { PartialDate } from './types.ts';

interface DateParts {
  year: number;
  month: number;
  day: number;
}

const ISO_DATE = /^(-?\d{4,})-(\d{2})-(\d{2})$/;

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** The parts of a real calendar date, or null when `s` is not one (e.g. `2023-02-29`). */
export function parseIsoDate(s: string): DateParts | null {
  const m = ISO_DATE.exec(s);
  if (!m) return null;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  return { year, month, day };
}

export function isIsoDate(s: string): boolean {
  return parseIsoDate(s) !== null;
}

/** Parses or throws: an invalid date reaching the domain is a bug (the XSD guards input). */
function parts(s: string): DateParts {
  const p = parseIsoDate(s);
  if (!p) throw new Error(`Not a YYYY-MM-DD date: ${JSON.stringify(s)}`);
  return p;
}

function formatIsoDate(p: DateParts): string {
  const sign = p.year < 0 ? '-' : '';
  const year = String(Math.abs(p.year)).padStart(4, '0');
  return `${sign}${year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
}

/** -1 when a is before b, 0 when the same day, 1 when a is after b. */
export function compareDates(a: string, b: string): -1 | 0 | 1 {
  const x = parts(a);
  const y = parts(b);
  const d = x.year - y.year || x.month - y.month || x.day - y.day;
  return d < 0 ? -1 : d > 0 ? 1 : 0;
}

export function isBefore(a: string, b: string): boolean {
  return compareDates(a, b) < 0;
}

export function isAfter(a: string, b: string): boolean {
  return compareDates(a, b) > 0;
}

/**
 * Adds whole calendar months; a day that does not exist in the target month is clamped
 * to that month's last day (2027-08-31 + 6 months = 2028-02-29; 2027-01-31 + 1 = 2027-02-28).
 * Negative `months` subtract.
 */
export function addMonths(date: string, months: number): string {
  if (!Number.isInteger(months)) throw new Error(`months must be an integer, got ${months}`);
  const p = parts(date);
  const total = p.year * 12 + (p.month - 1) + months;
  const year = Math.floor(total / 12);
  const month = total - year * 12 + 1;
  return formatIsoDate({ year, month, day: Math.min(p.day, daysInMonth(year, month)) });
}

/** Adds whole days (negative subtracts). */
export function addDays(date: string, days: number): string {
  if (!Number.isInteger(days)) throw new Error(`days must be an integer, got ${days}`);
  const p = parts(date);
  // UTC arithmetic on whole days has no time-zone or DST effect. setUTCFullYear, unlike
  // Date.UTC, does not map years 0-99 to 1900-1999.
  const d = new Date(0);
  d.setUTCFullYear(p.year, p.month - 1, p.day);
  d.setTime(d.getTime() + days * 86_400_000);
  return formatIsoDate({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() });
}

/**
 * Age in whole years on date `at` of someone born on `birth`. A birthday is reached on
 * the day itself; someone born on 29 February reaches it on 1 March in other years (as
 * in UK law). When `birth` is after `at` the result is negative (or 0 within the year),
 * so callers judge "born after" separately.
 */
export function ageAt(birth: string, at: string): number {
  const b = parts(birth);
  const a = parts(at);
  let age = a.year - b.year;
  if (a.month < b.month || (a.month === b.month && a.day < b.day)) age -= 1;
  return age;
}

/** The earliest day a partial date can stand for: YYYY -> YYYY-01-01, YYYY-MM -> YYYY-MM-01. */
export function partialDateEarliest(d: PartialDate): string {
  switch (d.kind) {
    case 'full':
      parts(d.value);
      return d.value;
    case 'yearMonth':
      return formatIsoDate(parts(`${d.value}-01`));
    case 'year':
      return formatIsoDate(parts(`${d.value}-01-01`));
  }
}

/** The latest day a partial date can stand for: YYYY -> YYYY-12-31, YYYY-MM -> last day of month. */
export function partialDateLatest(d: PartialDate): string {
  switch (d.kind) {
    case 'full':
      parts(d.value);
      return d.value;
    case 'yearMonth': {
      const p = parts(`${d.value}-01`);
      return formatIsoDate({ ...p, day: daysInMonth(p.year, p.month) });
    }
    case 'year':
      return formatIsoDate(parts(`${d.value}-12-31`));
  }
}

interface DateRange {
  start: string;
  end: string;
}

/**
 * Whether two inclusive course periods overlap in time, with the strict rule
 * `startA < endB && startB < endA`. Consecutive courses are therefore NOT overlapping,
 * both when one ends the day before the other starts and when one ends on the very day
 * the other starts (a hand-over day is normal between consecutive courses, and the
 * OBSOLETE rule must leave CAS for consecutive courses untouched).
 */
export function rangesOverlap(a: DateRange, b: DateRange): boolean {
  return isBefore(a.start, b.end) && isBefore(b.start, a.end);
}

/** The UTC calendar date of an instant (the clock is a parameter, never read here). */
export function isoDateUtc(instant: Date): string {
  return formatIsoDate({
    year: instant.getUTCFullYear(),
    month: instant.getUTCMonth() + 1,
    day: instant.getUTCDate(),
  });
}
