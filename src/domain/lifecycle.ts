/**
 * The CAS lifecycle (spec README section 1 and 6): which status changes are allowed,
 * what each operation may start from, the refusal messages, and the OBSOLETE rule.
 * Pure: the store asks this table, and its conditional UPDATEs use `allowedFrom`.
 */
import { compareDates, rangesOverlap } from './dates.ts';
import type { CasStatus } from './types.ts';

/** Every allowed status change; anything not listed is refused. */
const TRANSITIONS: Readonly<Record<CasStatus, readonly CasStatus[]>> = Object.freeze({
  WORK_IN_PROGRESS: ['READY_TO_GO'],
  READY_TO_GO: ['WORK_IN_PROGRESS', 'ASSIGNED'],
  ASSIGNED: ['WITHDRAWN', 'USED', 'OBSOLETE', 'EXPIRED', 'CANCELLED'],
  EXPIRED: ['USED'],
  WITHDRAWN: [],
  USED: [],
  OBSOLETE: [],
  CANCELLED: [],
});

export function canTransition(from: CasStatus, to: CasStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Unassigned CAS may be deleted; a CAS that was ever assigned never is. */
export const DELETABLE: readonly CasStatus[] = ['WORK_IN_PROGRESS', 'READY_TO_GO'];

export function canDelete(status: CasStatus): boolean {
  return DELETABLE.includes(status);
}

/** The operations that change a CAS's status after upload, and the status each leads to. */
export const OPERATION_TARGET = {
  assign: 'ASSIGNED',
  withdraw: 'WITHDRAWN',
  use: 'USED',
  obsolete: 'OBSOLETE',
  expire: 'EXPIRED',
  cancel: 'CANCELLED',
} as const satisfies Record<string, CasStatus>;

export type Operation = keyof typeof OPERATION_TARGET | 'delete';

/** The statuses an operation may start from, derived from the table. */
export function allowedFrom(op: Operation): CasStatus[] {
  if (op === 'delete') return [...DELETABLE];
  const to = OPERATION_TARGET[op];
  return (Object.keys(TRANSITIONS) as CasStatus[]).filter((from) => canTransition(from, to));
}

const VERB: Record<Operation, string> = {
  assign: 'assigned',
  withdraw: 'withdrawn',
  use: 'used',
  obsolete: 'made obsolete',
  expire: 'expired',
  cancel: 'cancelled',
  delete: 'deleted',
};

/** A status as people read it: READY_TO_GO -> READY TO GO. */
export const human = (s: string) => s.replaceAll('_', ' ');

/** How an operator names a CAS: its internal id or its number. */
export type CasRef = { id: number } | { casNumber: string };

export function describeRef(ref: CasRef): string {
  return 'id' in ref ? `CAS id ${ref.id}` : `CAS ${ref.casNumber}`;
}

function orList(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

/**
 * Why `op` is refused for a CAS in status `from`, in words an operator can act on,
 * e.g. "CAS E4G... cannot be withdrawn: it is USED; only a CAS that is ASSIGNED can be withdrawn".
 */
export function refusalMessage(op: Operation, what: string, from: CasStatus): string {
  const allowed = allowedFrom(op).map(human);
  const only = allowed.length ? `; only a CAS that is ${orList(allowed)} can be ${VERB[op]}` : '';
  const hint =
    op !== 'delete' || canDelete(from)
      ? ''
      : from === 'ASSIGNED'
        ? ' (an assigned CAS is never deleted; withdraw it instead)'
        : ' (a CAS that was ever assigned is never deleted)';
  return `${what} cannot be ${VERB[op]}: it is ${human(from)}${only}${hint}`;
}

/** A visa application may use a CAS only on or before its expiry date (YYYY-MM-DD). */
export function applicationDateAllowed(applicationDate: string, expiresOn: string): boolean {
  return compareDates(applicationDate, expiresOn) <= 0;
}

export function lateApplicationMessage(what: string, applicationDate: string, expiresOn: string): string {
  return `${what} cannot be used: the application date is after the expiry date (application ${applicationDate}, expiry ${expiresOn})`;
}

/** The course of a CAS and the person it is for, as the OBSOLETE rule sees them. */
export interface PersonCourse {
  passportNumber: string;
  nationality: string;
  courseStartDate: string;
  expectedCourseEndDate: string;
}

/**
 * Whether using `used` makes the ASSIGNED CAS `other` OBSOLETE: the same person
 * (passport number and nationality) and course dates that overlap. Consecutive courses
 * (one ends the day the next starts, or earlier) are untouched.
 */
export function makesObsolete(used: PersonCourse, other: PersonCourse): boolean {
  return (
    used.passportNumber === other.passportNumber &&
    used.nationality === other.nationality &&
    rangesOverlap(
      { start: used.courseStartDate, end: used.expectedCourseEndDate },
      { start: other.courseStartDate, end: other.expectedCourseEndDate },
    )
  );
}
