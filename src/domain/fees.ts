/**
 * Fees on a live CAS and sponsor notes (spec section 6): amounts in pence, the record
 * rules of the fee update file (E_FEES_PAID_MISSING, E_CAS_NOT_FOUND, E_CAS_STATUS,
 * W_NO_CHANGE), and what a note may hold. Pure: the store and the pipeline ask here.
 */
import { formatPence } from './result.ts';
import { hasErrors, issueSeverity } from './rules.ts';
import type { CasStatus, RecordIssue, RecordIssueCode, XmlObject } from './types.ts';

/** A CAS's fees in pence; null where the sponsor has not given the amount. */
export interface Fees {
  course: number | null;
  coursePaid: number | null;
  accommodationPaid: number | null;
  boardingPaid: number | null;
}

export type FeeKey = keyof Fees;

/** The BDT element of each amount (upload FinancialAndAccommodationDetails and update CASUpdate alike). */
export const FEE_ELEMENTS: Readonly<Record<FeeKey, string>> = Object.freeze({
  course: 'CourseFeesForFirstYearOnly',
  coursePaid: 'CourseFeesPaidToDate',
  accommodationPaid: 'AccommodationFeesPaidToDate',
  boardingPaid: 'BoardingFeesPaidToDate',
});

export const FEE_KEYS: readonly FeeKey[] = Object.freeze(['course', 'coursePaid', 'accommodationPaid', 'boardingPaid']);
const PAID_KEYS: readonly FeeKey[] = Object.freeze(['coursePaid', 'accommodationPaid', 'boardingPaid']);

const LABEL: Readonly<Record<keyof FeesInPounds, string>> = Object.freeze({
  courseFeesForFirstYearOnly: 'course fees (first year)',
  courseFeesPaidToDate: 'course fees paid',
  accommodationFeesPaidToDate: 'accommodation fees paid',
  boardingFeesPaidToDate: 'boarding fees paid',
});

/** PoundsSterlingType: below this many pence (1,000,000,000 GBP). */
const MAX_PENCE_EXCLUSIVE = 100_000_000_000;

/**
 * An xs:decimal amount in pounds (`5000`, `5000.5`, `+0.00`, `.50`) as pence, or undefined
 * when it is not a non-negative amount of whole pence below the schema's maximum.
 */
export function parsePounds(text: string): number | undefined {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text.trim());
  if (!m) return undefined;
  const whole = m[2] ?? '';
  const frac = m[3] ?? '';
  if (whole === '' && frac === '') return undefined;
  if (/[1-9]/.test(frac.slice(2))) return undefined;
  const digits = whole.replace(/^0+/, '');
  if (digits.length > 9) return undefined;
  const pence = Number(digits || '0') * 100 + Number(frac.slice(0, 2).padEnd(2, '0'));
  if (m[1] === '-' && pence !== 0) return undefined;
  return pence < MAX_PENCE_EXCLUSIVE ? pence : undefined;
}

/** Pence as pounds with two decimals (`500000` -> `5000.00`); null as null. */
export const pounds = (pence: number | null): string | null => (pence === null ? null : formatPence(pence));

/** The fees of an upload record's FinancialAndAccommodationDetails (its content, text trimmed). */
function feesOfUpload(details: XmlObject | undefined): Fees {
  const amount = (key: FeeKey) => {
    const v = details?.[FEE_ELEMENTS[key]];
    return typeof v === 'string' ? (parsePounds(v) ?? null) : null;
  };
  return {
    course: amount('course'),
    coursePaid: amount('coursePaid'),
    accommodationPaid: amount('accommodationPaid'),
    boardingPaid: amount('boardingPaid'),
  };
}

/** Fees as stored in jsonb, checked; undefined when `json` is not such an object. */
export function feesFromJson(json: unknown): Fees | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const o = json as Record<string, unknown>;
  const out = {} as Fees;
  for (const key of FEE_KEYS) {
    const v = o[key] ?? null;
    if (v !== null && !(Number.isSafeInteger(v) && (v as number) >= 0)) return undefined;
    out[key] = v as number | null;
  }
  return out;
}

/** A CAS's current fees: as last updated, else as uploaded. */
export function currentFees(updated: unknown, uploadData: unknown): Fees {
  const known = feesFromJson(updated);
  if (known) return known;
  const details = (uploadData as XmlObject | null)?.FinancialAndAccommodationDetails;
  return feesOfUpload(typeof details === 'object' && !Array.isArray(details) ? details : undefined);
}

function sameFees(a: Fees, b: Fees): boolean {
  return FEE_KEYS.every((k) => a[k] === b[k]);
}

/** What one update gives: amounts it leaves out stay as they are. */
export type FeeChange = { [K in FeeKey]?: number | undefined };

export function applyFees(current: Fees, change: FeeChange): Fees {
  const out = { ...current };
  for (const key of FEE_KEYS) {
    const v = change[key];
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/** Fees as shown (JSON, result pages): pounds with two decimals, keyed by the BDT element names. */
export interface FeesInPounds {
  courseFeesForFirstYearOnly: string | null;
  courseFeesPaidToDate: string | null;
  accommodationFeesPaidToDate: string | null;
  boardingFeesPaidToDate: string | null;
}

const SHOWN: Readonly<Record<FeeKey, keyof FeesInPounds>> = Object.freeze({
  course: 'courseFeesForFirstYearOnly',
  coursePaid: 'courseFeesPaidToDate',
  accommodationPaid: 'accommodationFeesPaidToDate',
  boardingPaid: 'boardingFeesPaidToDate',
});

export function inPounds(f: Fees): FeesInPounds {
  return {
    courseFeesForFirstYearOnly: pounds(f.course),
    courseFeesPaidToDate: pounds(f.coursePaid),
    accommodationFeesPaidToDate: pounds(f.accommodationPaid),
    boardingFeesPaidToDate: pounds(f.boardingPaid),
  };
}

/** "course fees paid 5000.00 -> 7000.00; boarding fees paid (none) -> 0.00": the amounts that changed. */
export function describeFeeChange(before: FeesInPounds, after: FeesInPounds): string {
  const parts = FEE_KEYS.map((k) => SHOWN[k])
    .filter((k) => before[k] !== after[k])
    .map((k) => `${LABEL[k]} ${before[k] ?? '(none)'} -> ${after[k] ?? '(none)'}`);
  return parts.length ? parts.join('; ') : 'no change';
}

/** One line of the current fees, for people. */
export function describeFees(f: FeesInPounds): string {
  const given = (s: string | null) => s ?? '(not given)';
  return `course ${given(f.courseFeesForFirstYearOnly)} (first year); paid: course ${given(f.courseFeesPaidToDate)}, accommodation ${given(f.accommodationFeesPaidToDate)}, boarding ${given(f.boardingFeesPaidToDate)}`;
}

/** Only a live assigned CAS takes fee updates and notes. */
const FEE_STATUSES: readonly CasStatus[] = Object.freeze(['ASSIGNED', 'USED']);

const canUpdateFees = (status: CasStatus) => FEE_STATUSES.includes(status);
/** Notes go on the same CAS as fee updates. */
export const canAddNote = canUpdateFees;

const CAS_FIELD = 'CASNumber';

function issue(code: RecordIssueCode, field: string | undefined, message: string): RecordIssue {
  const severity = issueSeverity(code);
  return field === undefined ? { severity, code, message } : { severity, code, field, message };
}

function feesPaidMissingIssue(): RecordIssue {
  return issue(
    'E_FEES_PAID_MISSING',
    undefined,
    'The update gives no fees paid: at least one of CourseFeesPaidToDate, AccommodationFeesPaidToDate or BoardingFeesPaidToDate is needed',
  );
}

/** Also for another sponsor's CAS, with the same words: a sponsor never learns whether a number exists elsewhere. */
function feeCasNotFoundIssue(casNumber: string): RecordIssue {
  return issue('E_CAS_NOT_FOUND', CAS_FIELD, `CAS ${casNumber} was not found for this sponsor`);
}

function feeCasStatusIssue(casNumber: string, status: CasStatus): RecordIssue {
  return issue('E_CAS_STATUS', CAS_FIELD, `CAS ${casNumber} has status ${status}; fees can be updated only on an ASSIGNED or USED CAS`);
}

function noChangeIssue(casNumber: string): RecordIssue {
  return issue('W_NO_CHANGE', undefined, `The fees given are those CAS ${casNumber} already has; nothing was changed`);
}

/** The CAS a fee update names, as the store found it (undefined: not this sponsor's). */
interface FeeTarget {
  status: CasStatus;
  fees: Fees;
}

interface FeeJudgement {
  issues: RecordIssue[];
  /** The fees after the update, when it is accepted and changes something. */
  fees?: Fees;
}

/** One fee update judged on its own; every issue is reported, not just the first. */
export function judgeFeeUpdate(casNumber: string, change: FeeChange, target: FeeTarget | undefined): FeeJudgement {
  const issues: RecordIssue[] = [];
  if (PAID_KEYS.every((k) => change[k] === undefined)) issues.push(feesPaidMissingIssue());
  if (!target) issues.push(feeCasNotFoundIssue(casNumber));
  else if (!canUpdateFees(target.status)) issues.push(feeCasStatusIssue(casNumber, target.status));
  if (hasErrors(issues) || !target) return { issues };
  const after = applyFees(target.fees, change);
  if (sameFees(after, target.fees)) return { issues: [noChangeIssue(casNumber)] };
  return { issues, fees: after };
}

/** A sponsor note: at most this many characters. */
export const MAX_NOTE_CHARS = 2000;

const NOTE_CHAR = /[\x20-\x7E\xA0-\xFF\t\n\r]/;

/**
 * Why a note cannot be kept (the multi-line string type of the upload schema: printable
 * ISO-8859-1 and line breaks, 1 to 2,000 characters), or undefined when it can.
 */
export function noteProblem(text: string): string | undefined {
  if (text.trim() === '') return 'the note is empty';
  const chars = [...text];
  if (chars.length > MAX_NOTE_CHARS) return `the note has ${chars.length} characters; at most ${MAX_NOTE_CHARS} are kept`;
  const bad = chars.find((c) => !NOTE_CHAR.test(c));
  if (bad !== undefined) {
    const cp = bad.codePointAt(0)!;
    const shown = cp < 0x20 || (cp >= 0x7f && cp < 0xa0) ? '' : ` '${bad}'`;
    return `the note holds U+${cp.toString(16).toUpperCase().padStart(4, '0')}${shown}, which is outside the BDT character set (printable ISO-8859-1 and line breaks)`;
  }
  return undefined;
}

/** Refusal for a note on a CAS that is not live. */
export function noteStatusMessage(what: string, status: CasStatus): string {
  return `${what} has status ${status}; notes can be added only to an ASSIGNED or USED CAS`;
}
