/**
 * The Basic Compliance Assessment computed live (spec section 10): the window, the
 * date-effective thresholds (one table), and how a rate is judged. Pure.
 */
import { addDays, addMonths, compareDates } from './dates.ts';
import { dueDate, type Nation } from './working-days.ts';

export type RateState = 'pass' | 'at risk' | 'fail' | 'too few';

/** Thresholds in whole percent, each from the date it takes effect; the last one whose date is on or before the date judged applies. */
const THRESHOLDS: readonly { from: string; refusalBelow: number; enrolmentAtLeast: number; completionAtLeast: number }[] = [
  { from: '0001-01-01', refusalBelow: 10, enrolmentAtLeast: 90, completionAtLeast: 85 },
  { from: '2026-06-01', refusalBelow: 5, enrolmentAtLeast: 95, completionAtLeast: 85 },
];

/** A rate over fewer cases than this is too few to judge. */
const MIN_CASES = 50;
/** Within this many percentage points of its threshold, a passing rate is at risk. */
const AT_RISK_POINTS = 2;

export function thresholdsOn(date: string) {
  let t = THRESHOLDS[0]!;
  for (const row of THRESHOLDS) if (compareDates(row.from, date) <= 0) t = row;
  return t;
}

/** The 12 months ending on `asOf`, both days included. */
export function windowOf(asOf: string): { from: string; to: string } {
  return { from: addDays(addMonths(asOf, -12), 1), to: asOf };
}

export interface Rate {
  /** numerator / denominator, null when the denominator is 0. */
  rate: number | null;
  numerator: number;
  denominator: number;
  /** In percent: refusal must stay below it, enrolment and completion reach it. */
  threshold: number;
  state: RateState;
}

/**
 * Judges numerator/denominator against a threshold in percent, exactly (whole-number
 * arithmetic, no rounding): `below` for the refusal rate, otherwise at least.
 */
export function judge(numerator: number, denominator: number, threshold: number, below: boolean): Rate {
  const rate = denominator === 0 ? null : numerator / denominator;
  let state: RateState;
  const pct = numerator * 100; // compared with threshold * denominator
  if (denominator < MIN_CASES) state = 'too few';
  else if (below) state = pct >= threshold * denominator ? 'fail' : pct >= (threshold - AT_RISK_POINTS) * denominator ? 'at risk' : 'pass';
  else state = pct < threshold * denominator ? 'fail' : pct < (threshold + AT_RISK_POINTS) * denominator ? 'at risk' : 'pass';
  return { rate, numerator, denominator, threshold, state };
}

/** The counts behind one sponsor's rates, as the store aggregates them. */
export interface ComplianceCounts {
  refused: number;
  decided: number;
  /** Granted in the window, course started. */
  grantedStarted: number;
  /** Of those, reported NOT_ENROLLED. */
  notEnrolled: number;
  /** Enrolled students whose course end date falls in the window. */
  ending: number;
  /** Of those, reported WITHDRAWN or STOPPED_ATTENDING. */
  notCompleted: number;
  /** Reports received in the window after their due date. */
  lateReports: number;
}

export interface Compliance {
  sponsorLicenceNumber: string;
  asOf: string;
  window: { from: string; to: string };
  refusal: Rate;
  enrolment: Rate;
  completion: Rate;
  lateReports: number;
  missingReports: { casNumber: string; courseStartDate: string; dueDate: string }[];
}

export function assess(licence: string, asOf: string, c: ComplianceCounts, missing: Compliance['missingReports']): Compliance {
  const t = thresholdsOn(asOf);
  return {
    sponsorLicenceNumber: licence,
    asOf,
    window: windowOf(asOf),
    refusal: judge(c.refused, c.decided, t.refusalBelow, true),
    enrolment: judge(c.grantedStarted - c.notEnrolled, c.grantedStarted, t.enrolmentAtLeast, false),
    completion: judge(c.ending - c.notCompleted, c.ending, t.completionAtLeast, false),
    lateReports: c.lateReports,
    missingReports: missing,
  };
}

/**
 * The latest course start date whose NOT_ENROLLED report is overdue on `asOf` (its due
 * date, start + 10 working days, is before asOf). Due dates never decrease as the start
 * date grows, so every earlier start is overdue too: one date bounds the store's query.
 */
export function overdueStartCutoff(asOf: string, nation: Nation): string {
  let d = addDays(asOf, -1);
  while (compareDates(dueDate(d, nation), asOf) >= 0) d = addDays(d, -1);
  return d;
}
