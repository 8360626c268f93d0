import { describe, expect, it } from 'vitest';
import {
  allowedFrom,
  applicationDateAllowed,
  canDelete,
  canTransition,
  lateApplicationMessage,
  makesObsolete,
  refusalMessage,
  type PersonCourse,
} from '../../src/domain/lifecycle.ts';
import { CAS_STATUSES, type CasStatus } from '../../src/domain/types.ts';

/** The spec's list, written out independently of the table under test. */
const ALLOWED = new Set([
  'WORK_IN_PROGRESS>READY_TO_GO',
  'READY_TO_GO>WORK_IN_PROGRESS',
  'READY_TO_GO>ASSIGNED',
  'ASSIGNED>WITHDRAWN',
  'ASSIGNED>USED',
  'ASSIGNED>OBSOLETE',
  'ASSIGNED>EXPIRED',
  'ASSIGNED>CANCELLED',
  'EXPIRED>USED',
]);

describe('canTransition', () => {
  const pairs = CAS_STATUSES.flatMap((from) => CAS_STATUSES.map((to) => [from, to] as [CasStatus, CasStatus]));
  it.each(pairs)('%s -> %s', (from, to) => {
    expect(canTransition(from, to)).toBe(ALLOWED.has(`${from}>${to}`));
  });

  it('never goes back to an unassigned status once assigned, nor leaves a final status', () => {
    for (const final of ['WITHDRAWN', 'USED', 'OBSOLETE', 'CANCELLED'] as const) {
      expect(CAS_STATUSES.filter((to) => canTransition(final, to))).toEqual([]);
    }
    expect(canTransition('ASSIGNED', 'READY_TO_GO')).toBe(false);
    expect(canTransition('EXPIRED', 'ASSIGNED')).toBe(false);
  });
});

describe('allowedFrom', () => {
  it('derives where each operation may start from the table', () => {
    expect(allowedFrom('assign')).toEqual(['READY_TO_GO']);
    expect(allowedFrom('withdraw')).toEqual(['ASSIGNED']);
    expect(allowedFrom('expire')).toEqual(['ASSIGNED']);
    expect(allowedFrom('cancel')).toEqual(['ASSIGNED']);
    expect(allowedFrom('obsolete')).toEqual(['ASSIGNED']);
    expect(allowedFrom('delete')).toEqual(['WORK_IN_PROGRESS', 'READY_TO_GO']);
  });

  it('tries ASSIGNED before EXPIRED for use, the order the sweep moves a CAS in', () => {
    expect(allowedFrom('use')).toEqual(['ASSIGNED', 'EXPIRED']);
  });
});

describe('canDelete', () => {
  it('deletes only unassigned CAS', () => {
    expect(CAS_STATUSES.filter(canDelete)).toEqual(['WORK_IN_PROGRESS', 'READY_TO_GO']);
  });
});

describe('refusal messages', () => {
  it('name the CAS, its status and what would have been allowed', () => {
    expect(refusalMessage('withdraw', 'CAS E4G1AB2C34D5E6', 'USED')).toBe(
      'CAS E4G1AB2C34D5E6 cannot be withdrawn: it is USED; only a CAS that is ASSIGNED can be withdrawn',
    );
    expect(refusalMessage('use', 'CAS X', 'WITHDRAWN')).toBe(
      'CAS X cannot be used: it is WITHDRAWN; only a CAS that is ASSIGNED or EXPIRED can be used',
    );
    expect(refusalMessage('assign', 'CAS id 7', 'WORK_IN_PROGRESS')).toBe(
      'CAS id 7 cannot be assigned: it is WORK IN PROGRESS; only a CAS that is READY TO GO can be assigned',
    );
  });

  it('explain that an assigned CAS is never deleted, and suggest withdrawing a live one', () => {
    expect(refusalMessage('delete', 'CAS id 3', 'ASSIGNED')).toBe(
      'CAS id 3 cannot be deleted: it is ASSIGNED; only a CAS that is WORK IN PROGRESS or READY TO GO can be deleted (an assigned CAS is never deleted; withdraw it instead)',
    );
    expect(refusalMessage('delete', 'CAS id 3', 'EXPIRED')).toMatch(/\(a CAS that was ever assigned is never deleted\)$/);
  });

  it('give both dates for a late application', () => {
    expect(lateApplicationMessage('CAS X', '2027-09-02', '2027-09-01')).toBe(
      'CAS X cannot be used: the application date is after the expiry date (application 2027-09-02, expiry 2027-09-01)',
    );
  });
});

describe('applicationDateAllowed', () => {
  it('allows an application on or before the expiry date only', () => {
    expect(applicationDateAllowed('2027-08-31', '2027-09-01')).toBe(true);
    expect(applicationDateAllowed('2027-09-01', '2027-09-01')).toBe(true);
    expect(applicationDateAllowed('2027-09-02', '2027-09-01')).toBe(false);
    expect(applicationDateAllowed('2028-01-01', '2027-12-31')).toBe(false);
  });
});

describe('makesObsolete', () => {
  const used: PersonCourse = {
    passportNumber: 'A01234567',
    nationality: 'NGA',
    courseStartDate: '2027-09-20',
    expectedCourseEndDate: '2028-06-30',
  };
  const other = (o: Partial<PersonCourse>): PersonCourse => ({ ...used, ...o });

  it('catches the same person on an overlapping course', () => {
    expect(makesObsolete(used, other({ courseStartDate: '2027-10-01', expectedCourseEndDate: '2028-09-30' }))).toBe(true);
    expect(makesObsolete(used, other({ courseStartDate: '2027-01-01', expectedCourseEndDate: '2027-09-21' }))).toBe(true);
    // Contained in, and containing, the used course.
    expect(makesObsolete(used, other({ courseStartDate: '2027-11-01', expectedCourseEndDate: '2027-12-01' }))).toBe(true);
    expect(makesObsolete(used, other({ courseStartDate: '2026-01-01', expectedCourseEndDate: '2030-01-01' }))).toBe(true);
    expect(makesObsolete(used, used)).toBe(true);
  });

  it('leaves consecutive courses alone, including a hand-over day', () => {
    expect(makesObsolete(used, other({ courseStartDate: '2028-06-30', expectedCourseEndDate: '2029-06-30' }))).toBe(false);
    expect(makesObsolete(used, other({ courseStartDate: '2026-09-20', expectedCourseEndDate: '2027-09-20' }))).toBe(false);
    expect(makesObsolete(used, other({ courseStartDate: '2028-09-01', expectedCourseEndDate: '2029-06-30' }))).toBe(false);
  });

  it('needs both the passport number and the nationality to match', () => {
    expect(makesObsolete(used, other({ nationality: 'GHA' }))).toBe(false);
    expect(makesObsolete(used, other({ passportNumber: 'A01234568' }))).toBe(false);
  });
});
