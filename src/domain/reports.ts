/**
 * Student activity reports (spec section 9): the seven kinds, the status each needs, the
 * trigger date a due date counts from, and the record rules (E_CAS_NOT_FOUND, E_CAS_STATUS,
 * E_REPORT_DATE, W_ALREADY_REPORTED, W_LATE_REPORT). Pure: the store step asks here.
 */
import { isAfter, isIsoDate } from './dates.ts';
import { issueSeverity, MAX_YEAR, MIN_YEAR } from './rules.ts';
import type { CasStatus, RecordIssue, RecordIssueCode } from './types.ts';

export const REPORT_KINDS = [
  'NOT_ENROLLED',
  'STOPPED_ATTENDING',
  'WITHDRAWN',
  'SUSPENDED',
  'RESUMED',
  'COMPLETED_EARLY',
  'COURSE_CHANGED',
] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];

export function isReportKind(s: string): s is ReportKind {
  return (REPORT_KINDS as readonly string[]).includes(s);
}

/** The field each kind's due date counts from. */
const TRIGGER_FIELD: Record<ReportKind, string> = {
  NOT_ENROLLED: 'ExpectedEnrollmentDate',
  STOPPED_ATTENDING: 'LastContactDate',
  WITHDRAWN: 'EffectiveDate',
  SUSPENDED: 'StartDate',
  RESUMED: 'ReturnDate',
  COMPLETED_EARLY: 'CompletionDate',
  COURSE_CHANGED: 'EffectiveDate',
};

/** One report as read from a file (or given by a caller): the block's fields between CASNumber and Notes. */
export interface ReportInput {
  casNumber: string;
  kind: ReportKind;
  /** Field name -> value (dates YYYY-MM-DD, Reason, NewCourseCurriculumTitle). */
  fields: Record<string, string>;
  notes?: string | undefined;
}

export function triggerDate(r: Pick<ReportInput, 'kind' | 'fields'>): string {
  return r.fields[TRIGGER_FIELD[r.kind]] ?? '';
}

const CAS_FIELD = 'CASNumber';

function issue(code: RecordIssueCode, field: string | undefined, message: string): RecordIssue {
  const severity = issueSeverity(code);
  return field === undefined ? { severity, code, message } : { severity, code, field, message };
}

/** E_REPORT_DATE: every date within 1900-2199 and not after the day the file was received; a suspension's return after its start. */
export function reportDateIssues(r: ReportInput, receivedOn: string): RecordIssue[] {
  const out: RecordIssue[] = [];
  for (const [field, value] of Object.entries(r.fields)) {
    if (!field.endsWith('Date')) continue;
    const year = Number(value.slice(0, 4));
    if (!isIsoDate(value) || year < MIN_YEAR || year > MAX_YEAR)
      out.push(issue('E_REPORT_DATE', field, `${field} (${value}) is not a date within ${MIN_YEAR}-${MAX_YEAR}`));
    else if (field !== 'ExpectedReturnDate' && field !== 'NewCourseEndDate' && isAfter(value, receivedOn))
      out.push(issue('E_REPORT_DATE', field, `${field} (${value}) is after the day the file was received (${receivedOn})`));
  }
  const start = r.fields.StartDate;
  const back = r.fields.ExpectedReturnDate;
  if (r.kind === 'SUSPENDED' && start && back && !isAfter(back, start))
    out.push(issue('E_REPORT_DATE', 'ExpectedReturnDate', `ExpectedReturnDate (${back}) is not after StartDate (${start})`));
  return out;
}

/** Whether the CAS's status (and whether it is suspended now) allows this kind of report. */
export function reportStatusAllowed(kind: ReportKind, status: CasStatus, suspended: boolean): boolean {
  if (kind === 'NOT_ENROLLED') return status === 'ASSIGNED' || status === 'USED';
  if (status !== 'USED') return false;
  if (kind === 'SUSPENDED') return !suspended;
  if (kind === 'RESUMED') return suspended;
  return true;
}

function needs(kind: ReportKind): string {
  if (kind === 'NOT_ENROLLED') return 'an ASSIGNED or USED CAS';
  if (kind === 'SUSPENDED') return 'a USED CAS that is not suspended';
  if (kind === 'RESUMED') return 'a USED CAS that is suspended';
  return 'a USED CAS';
}

/** Also for another sponsor's CAS, with the same words. */
export function reportCasNotFoundIssue(casNumber: string): RecordIssue {
  return issue('E_CAS_NOT_FOUND', CAS_FIELD, `CAS ${casNumber} was not found for this sponsor`);
}

export function reportCasStatusIssue(casNumber: string, kind: ReportKind, status: CasStatus, suspended: boolean): RecordIssue {
  const state = status === 'USED' && suspended ? 'USED (suspended)' : status;
  return issue('E_CAS_STATUS', CAS_FIELD, `CAS ${casNumber} has status ${state}; a ${kind} report needs ${needs(kind)}`);
}

export function alreadyReportedIssue(casNumber: string, kind: ReportKind): RecordIssue {
  return issue('W_ALREADY_REPORTED', undefined, `This ${kind} report of CAS ${casNumber} is already stored; nothing was changed`);
}

export function lateReportIssue(kind: ReportKind, dueDate: string, receivedOn: string): RecordIssue {
  return issue('W_LATE_REPORT', undefined, `This ${kind} report was due by ${dueDate} and was received on ${receivedOn}`);
}

/** Whether a report of this kind is the same as one stored: same kind, fields and notes. */
export function sameReport(a: { kind: string; fields: Record<string, string>; notes: string | null }, b: ReportInput): boolean {
  if (a.kind !== b.kind || (a.notes ?? null) !== (b.notes ?? null)) return false;
  const ka = Object.keys(a.fields).sort();
  const kb = Object.keys(b.fields).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a.fields[k] === b.fields[k]);
}
