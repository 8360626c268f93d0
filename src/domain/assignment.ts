/**
 * The rules of assigning CAS: what an assignment's payment comes to (count x fee) and how
 * long an assigned CAS stays valid. Pure: the assignment engine (db/assign.ts) asks here, for
 * uploads and `cas-bdt assign` alike.
 */
import { addMonths, isoDateUtc } from './dates.ts';

/** What assigning `count` CAS costs, in pence: the fee of one CAS times the count. */
export function assignmentFee(feePence: number, count: number): number {
  if (!Number.isSafeInteger(feePence) || feePence < 0) throw new Error(`the fee must be whole pence, got ${feePence}`);
  if (!Number.isSafeInteger(count) || count < 0) throw new Error(`the count must be a whole number, got ${count}`);
  return feePence * count;
}

/** The expiry date of a CAS assigned at `now`: `validityMonths` calendar months after that day (UTC). */
export function casExpiry(now: Date, validityMonths: number): string {
  return addMonths(isoDateUtc(now), validityMonths);
}
