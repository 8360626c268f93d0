/** Dates outside the years 1900-2199 are record errors (spec section 7), so no schema-valid date reaches the database. */
import { describe, expect, it } from 'vitest';
import { judgeRecord } from '../../src/domain/rules.ts';
import type { CasRecord } from '../../src/domain/types.ts';

function record(over: Partial<CasRecord> = {}): CasRecord {
  return {
    index: 1,
    applicantId: 'APP-1',
    familyName: 'Barry',
    nationality: 'AFG',
    countryOfBirth: 'GEO',
    dateOfBirth: { kind: 'full', value: '1995-03-10' },
    passportNumber: 'P1234567',
    courseTitle: 'Footballing Studies',
    courseStartDate: '2013-12-26',
    expectedCourseEndDate: '2014-12-28',
    addressCountries: [],
    applicantHasWorkPlacement: false,
    evidence: { seltRequired: true, englishLanguageLevel: 'B1', testProvider: 'IELTS', hasProgressionJustification: false },
    raw: {},
    ...over,
  };
}

const errors = (r: CasRecord, route: 'student' | 'child' = 'student') =>
  judgeRecord(r, route)
    .filter((i) => i.severity === 'ERROR')
    .map((i) => [i.code, i.field]);

describe('date ranges', () => {
  it('refuses an ExpectedCourseEndDate of 99999999-06-30 with E_COURSE_DATES (it would fail in PostgreSQL)', () => {
    const issues = judgeRecord(record({ expectedCourseEndDate: '99999999-06-30' }), 'student');
    expect(issues.map((i) => [i.code, i.field])).toContainEqual(['E_COURSE_DATES', 'CourseDetails/ExpectedCourseEndDate']);
    expect(issues.find((i) => i.code === 'E_COURSE_DATES')!.message).toContain('outside the years 1900 to 2199');
  });

  it('refuses a course start or latest acceptance date outside 1900-2199, and nothing else follows from it', () => {
    expect(errors(record({ courseStartDate: '1899-12-31' }))).toEqual([['E_COURSE_DATES', 'CourseDetails/CourseStartDate']]);
    expect(errors(record({ latestAcceptanceDate: '2200-01-01' }))).toEqual([
      ['E_COURSE_DATES', 'CourseDetails/LatestDateForAcceptanceOnCourse'],
    ]);
    expect(errors(record({ courseStartDate: '12013-12-26', expectedCourseEndDate: '12014-12-28' }), 'child')).toEqual([
      ['E_COURSE_DATES', 'CourseDetails/CourseStartDate'],
      ['E_COURSE_DATES', 'CourseDetails/ExpectedCourseEndDate'],
    ]);
  });

  it('accepts the first and the last day of the range', () => {
    expect(errors(record({ dateOfBirth: { kind: 'full', value: '1900-01-01' }, expectedCourseEndDate: '2199-12-31' }))).toEqual([]);
  });

  it('refuses a date of birth outside 1900-2199 (full, year-month or year) with E_DATE_OF_BIRTH, never quoting it', () => {
    for (const dob of [
      { kind: 'full', value: '1899-12-31' },
      { kind: 'yearMonth', value: '0001-01' },
      { kind: 'year', value: '1850' },
    ] as const) {
      const issues = judgeRecord(record({ dateOfBirth: dob }), 'student');
      expect(issues.map((i) => i.code)).toEqual(['E_DATE_OF_BIRTH']);
      expect(issues[0]!.message).not.toContain(dob.value);
    }
  });
});
