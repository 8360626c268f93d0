/**
 * Working days (spec section 9): a report is due 10 working days after its trigger date,
 * skipping Saturdays, Sundays and the bank holidays of one UK nation. The holidays come from
 * a maintained library (date-holidays: moved and one-off bank holidays included), never
 * from a table written here. Pure: no clock, no I/O; each nation-year is computed once.
 */
import { createRequire } from 'node:module';
import type HolidaysLib from 'date-holidays';
import { addDays, parseIsoDate } from './dates.ts';

export const NATIONS = ['england-and-wales', 'scotland', 'northern-ireland'] as const;
export type Nation = (typeof NATIONS)[number];

export function isNation(s: string): s is Nation {
  return (NATIONS as readonly string[]).includes(s);
}

/** The library's region code of each nation (Wales shares England's bank holidays). */
const REGION: Record<Nation, string> = { 'england-and-wales': 'ENG', scotland: 'SCT', 'northern-ireland': 'NIR' };

/** Working days from the trigger date to the due date. */
const REPORT_WORKING_DAYS = 10;

const cache = new Map<string, ReadonlySet<string>>();

let holidaysLib: typeof HolidaysLib | undefined;

/**
 * The library, loaded at its first use (its CommonJS build, which has the same data): its
 * 1.4 MB of code stays out of every command that computes no due date, `process` of an upload included.
 */
function Holidays(): typeof HolidaysLib {
  return (holidaysLib ??= createRequire(import.meta.url)('date-holidays') as typeof HolidaysLib);
}

/** The nation's bank holidays in one year, as YYYY-MM-DD. */
export function bankHolidays(nation: Nation, year: number): ReadonlySet<string> {
  const key = `${nation}:${year}`;
  let set = cache.get(key);
  if (!set) {
    const lib = new (Holidays())('GB', REGION[nation]);
    set = new Set((lib.getHolidays(year) || []).filter((h) => h.type === 'public' || h.type === 'bank').map((h) => h.date.slice(0, 10)));
    cache.set(key, set);
  }
  return set;
}

/** Monday to Friday and not a bank holiday of the nation. */
export function isWorkingDay(date: string, nation: Nation): boolean {
  const p = parseIsoDate(date);
  if (!p) throw new RangeError(`not a date: ${date}`);
  const weekday = new Date(Date.UTC(p.year, p.month - 1, p.day)).getUTCDay();
  if (weekday === 0 || weekday === 6) return false;
  return !bankHolidays(nation, p.year).has(date);
}

/** The date `n` working days after `date` (the day itself does not count). */
export function addWorkingDays(date: string, n: number, nation: Nation): string {
  let d = date;
  for (let left = n; left > 0;) {
    d = addDays(d, 1);
    if (isWorkingDay(d, nation)) left--;
  }
  return d;
}

/** A report's due date: its trigger date plus 10 working days in the nation. */
export function dueDate(triggerDate: string, nation: Nation): string {
  return addWorkingDays(triggerDate, REPORT_WORKING_DAYS, nation);
}
