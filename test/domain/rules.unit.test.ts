import { describe, expect, it } from 'vitest';
import {
  alreadyReportedIssue,
  casNotFoundIssue,
  casStatusIssue,
  duplicateCasIssue,
  duplicateInFileIssue,
  hasErrors,
  hasWarnings,
  issueSeverity,
  judgeRecord,
  noAllocationIssue,
  recordKey,
} from '../../src/domain/rules.ts';
import type { CasRecord, RecordIssue, Route } from '../../src/domain/types.ts';

type Evidence = NonNullable<CasRecord['evidence']>;

/** A student record with no issue at all; each test changes one thing (an undefined value leaves that field out, as the reader does). */
function base(over: { [K in keyof CasRecord]?: CasRecord[K] | undefined } = {}): CasRecord {
  const record: CasRecord = {
    index: 1,
    applicantId: 'APP-1',
    familyName: 'Barry',
    givenName: 'Gareth',
    nationality: 'AFG',
    countryOfBirth: 'GEO',
    dateOfBirth: { kind: 'full', value: '1995-03-10' },
    passportNumber: 'P1234567',
    courseTitle: 'Footballing Studies',
    courseId: 'FOOT3456',
    courseStartDate: '2013-12-26',
    latestAcceptanceDate: '2013-12-27',
    expectedCourseEndDate: '2014-12-28',
    addressCountries: [{ field: 'NonSponsorEducationInstitutionData/PartnerInstitutionDetails/AddressDetails/Country', value: 'AFG' }],
    applicantHasWorkPlacement: false,
    evidence: {
      seltRequired: true,
      englishLanguageLevel: 'B1',
      testProvider: 'IELTS',
      hasProgressionJustification: false,
    },
    raw: {},
  };
  const rec: Record<string, unknown> = { ...record, ...over };
  for (const [k, v] of Object.entries(rec)) if (v === undefined) delete rec[k];
  return rec as unknown as CasRecord;
}

function withEvidence(ev: Partial<Evidence>): CasRecord {
  return base({ evidence: { hasProgressionJustification: false, ...ev } });
}

/** A child-route record (no EvidenceDetails on that route) of a given birth date. */
function child(dob: CasRecord['dateOfBirth'], start = '2024-09-01'): CasRecord {
  const { evidence: _drop, ...rest } = base({
    dateOfBirth: dob,
    courseStartDate: start,
    latestAcceptanceDate: start,
    expectedCourseEndDate: '2025-07-15',
  });
  return rest;
}

const codes = (issues: RecordIssue[]) => issues.map((i) => i.code);
const judge = (rec: CasRecord, route: Route = 'student') => judgeRecord(rec, route);

describe('judgeRecord: a clean record', () => {
  it('has no issue on either route', () => {
    expect(judge(base())).toEqual([]);
    expect(judge(child({ kind: 'full', value: '2012-01-01' }), 'child')).toEqual([]);
  });
});

describe('E_COURSE_DATES', () => {
  it('fires when the end is the start day or before it', () => {
    expect(judge(base({ expectedCourseEndDate: '2013-12-26' }))).toEqual([
      {
        severity: 'ERROR',
        code: 'E_COURSE_DATES',
        field: 'CourseDetails/ExpectedCourseEndDate',
        message: 'ExpectedCourseEndDate (2013-12-26) is not after CourseStartDate (2013-12-26)',
      },
    ]);
    expect(judge(base({ expectedCourseEndDate: '2013-12-20' }))[0]?.message).toBe(
      'ExpectedCourseEndDate (2013-12-20) is not after CourseStartDate (2013-12-26)',
    );
  });

  it('does not fire when the end is the day after the start', () => {
    expect(judge(base({ expectedCourseEndDate: '2013-12-27' }))).toEqual([]);
  });

  it('fires when the latest acceptance date is before the start, not when it is the start day', () => {
    expect(judge(base({ latestAcceptanceDate: '2013-12-25' }))).toEqual([
      {
        severity: 'ERROR',
        code: 'E_COURSE_DATES',
        field: 'CourseDetails/LatestDateForAcceptanceOnCourse',
        message: 'LatestDateForAcceptanceOnCourse (2013-12-25) is before CourseStartDate (2013-12-26)',
      },
    ]);
    expect(judge(base({ latestAcceptanceDate: '2013-12-26' }))).toEqual([]);
    const { latestAcceptanceDate: _x, ...noLatest } = base();
    expect(judge(noLatest)).toEqual([]);
  });

  it('reports both problems of one record', () => {
    const issues = judge(base({ latestAcceptanceDate: '2013-12-01', expectedCourseEndDate: '2013-12-02' }));
    expect(issues.map((i) => i.field)).toEqual(['CourseDetails/ExpectedCourseEndDate', 'CourseDetails/LatestDateForAcceptanceOnCourse']);
  });
});

describe('E_DATE_OF_BIRTH', () => {
  it('fires for a full date after the start, not on the start day', () => {
    expect(judge(base({ dateOfBirth: { kind: 'full', value: '2013-12-27' } }))).toEqual([
      {
        severity: 'ERROR',
        code: 'E_DATE_OF_BIRTH',
        field: 'ApplicantData/DateOfBirth',
        message: 'DateOfBirth is after CourseStartDate (2013-12-26)',
      },
    ]);
    expect(judge(base({ dateOfBirth: { kind: 'full', value: '2013-12-26' } }))).toEqual([]);
  });

  it('judges a year or year-month on its earliest day', () => {
    expect(codes(judge(base({ dateOfBirth: { kind: 'year', value: '2014' } })))).toEqual(['E_DATE_OF_BIRTH']);
    expect(judge(base({ dateOfBirth: { kind: 'year', value: '2013' } }))).toEqual([]);
    expect(codes(judge(base({ dateOfBirth: { kind: 'yearMonth', value: '2014-01' } })))).toEqual(['E_DATE_OF_BIRTH']);
    expect(judge(base({ dateOfBirth: { kind: 'yearMonth', value: '2013-12' } }))).toEqual([]);
  });

  it('never puts the date of birth in the message', () => {
    const [i] = judge(base({ dateOfBirth: { kind: 'full', value: '2019-07-04' } }));
    expect(i?.message).not.toContain('2019');
  });

  it('is the only age error on the child route when the birth is after the start', () => {
    expect(codes(judge(child({ kind: 'full', value: '2025-01-01' }), 'child'))).toEqual(['E_DATE_OF_BIRTH']);
  });
});

describe('E_CHILD_AGE (child route, age at CourseStartDate 2024-09-01)', () => {
  const judgeChild = (dob: CasRecord['dateOfBirth']) => judge(child(dob), 'child');

  it('accepts exactly 4 and fires the day before the 4th birthday', () => {
    expect(judgeChild({ kind: 'full', value: '2020-09-01' })).toEqual([]);
    expect(judgeChild({ kind: 'full', value: '2020-09-02' })).toEqual([
      {
        severity: 'ERROR',
        code: 'E_CHILD_AGE',
        field: 'ApplicantData/DateOfBirth',
        message: 'The applicant is younger than 4 on CourseStartDate (2024-09-01); the Child route needs an age from 4 to 17',
      },
    ]);
  });

  it('accepts 17 up to the day before the 18th birthday and fires on it', () => {
    expect(judgeChild({ kind: 'full', value: '2006-09-02' })).toEqual([]);
    const issues = judgeChild({ kind: 'full', value: '2006-09-01' });
    expect(codes(issues)).toEqual(['E_CHILD_AGE']);
    expect(issues[0]?.message).toBe(
      'The applicant is older than 17 on CourseStartDate (2024-09-01); the Child route needs an age from 4 to 17',
    );
    expect(issues[0]?.message).not.toContain('2006');
  });

  it('judges a partial date on its earliest possible day', () => {
    // 2006 -> 2006-01-01: 18 on 2024-09-01.
    expect(codes(judgeChild({ kind: 'year', value: '2006' }))).toEqual(['E_CHILD_AGE']);
    expect(judgeChild({ kind: 'year', value: '2007' })).toEqual([]);
    // 2006-10 -> 2006-10-01: still 17 on 2024-09-01.
    expect(judgeChild({ kind: 'yearMonth', value: '2006-10' })).toEqual([]);
    expect(codes(judgeChild({ kind: 'yearMonth', value: '2006-09' }))).toEqual(['E_CHILD_AGE']);
    // 2020 -> 2020-01-01: 4 on 2024-09-01 (the latest day, 2020-12-31, would be 3).
    expect(judgeChild({ kind: 'year', value: '2020' })).toEqual([]);
    expect(codes(judgeChild({ kind: 'yearMonth', value: '2020-10' }))).toEqual(['E_CHILD_AGE']);
  });

  it('does not apply on the student route', () => {
    const rec = base({ dateOfBirth: { kind: 'full', value: '1950-01-01' } });
    expect(judge(rec, 'student')).toEqual([]);
    expect(codes(judge(base({ dateOfBirth: rec.dateOfBirth, evidence: undefined }), 'child'))).toEqual(['E_CHILD_AGE']);
  });
});

describe('E_COUNTRY_CODE', () => {
  it('checks Nationality, CountryOfBirth and every address Country, naming each field', () => {
    const rec = base({
      nationality: 'ZZZ',
      countryOfBirth: 'UKK',
      addressCountries: [
        { field: 'NonSponsorEducationInstitutionData/PartnerInstitutionDetails/AddressDetails/Country', value: 'GBR' },
        { field: 'WorkPlacementDetails/WorkPlacementAddress/Country', value: 'ABC' },
      ],
    });
    expect(judge(rec)).toEqual([
      {
        severity: 'ERROR',
        code: 'E_COUNTRY_CODE',
        field: 'ApplicantData/Nationality',
        message: 'Nationality (ZZZ) is not an ISO 3166-1 alpha-3 country code, a Home Office nationality code or "STATELESS"',
      },
      {
        severity: 'ERROR',
        code: 'E_COUNTRY_CODE',
        field: 'ApplicantData/CountryOfBirth',
        message: 'CountryOfBirth (UKK) is not an ISO 3166-1 alpha-3 country code or a Home Office code',
      },
      {
        severity: 'ERROR',
        code: 'E_COUNTRY_CODE',
        field: 'WorkPlacementDetails/WorkPlacementAddress/Country',
        message: 'Country (ABC) is not an ISO 3166-1 alpha-3 country code or a Home Office code',
      },
    ]);
  });

  it('accepts STATELESS as a nationality only', () => {
    expect(judge(base({ nationality: '"STATELESS"' }))).toEqual([]);
    expect(judge(base({ nationality: 'STATELESS' }))).toEqual([]);
    expect(codes(judge(base({ countryOfBirth: '"STATELESS"' })))).toEqual(['E_COUNTRY_CODE']);
  });

  it('accepts Home Office extras', () => {
    expect(judge(base({ nationality: 'GBO', countryOfBirth: 'XXK' }))).toEqual([]);
  });
});

describe('E_CODE_VALUE', () => {
  it('fires for a reason, level or provider outside its list', () => {
    const issues = judge(
      withEvidence({ seltRequired: true, englishLanguageLevel: 'B3', testProvider: 'TOEFL', reasonSeltNotRequired: 'NATIVE' }),
    );
    expect(issues).toEqual([
      {
        severity: 'ERROR',
        code: 'E_CODE_VALUE',
        field: 'EvidenceDetails/ReasonSELTNotRequired',
        message: 'ReasonSELTNotRequired (NATIVE) is not one of HEI, GIFTED, T4SWITCH, ENG_COUNTRY, ENG_DEGREE, ENG_VISA, USA_HEI',
      },
      {
        severity: 'ERROR',
        code: 'E_CODE_VALUE',
        field: 'EvidenceDetails/EnglishLanguageLevelAttained',
        message: 'EnglishLanguageLevelAttained (B3) is not one of A1, A2, B1, B2, C1, C2',
      },
      {
        severity: 'ERROR',
        code: 'E_CODE_VALUE',
        field: 'EvidenceDetails/TestProvider',
        message: 'TestProvider (TOEFL) is not one of IELTS, LANGCRT, PEARSON, PSI, TCLUK',
      },
    ]);
  });

  it('accepts every listed value and is case-sensitive', () => {
    for (const r of ['HEI', 'GIFTED', 'T4SWITCH', 'ENG_COUNTRY', 'ENG_DEGREE', 'ENG_VISA', 'USA_HEI']) {
      expect(judge(withEvidence({ seltRequired: false, reasonSeltNotRequired: r })), r).toEqual([]);
    }
    for (const p of ['IELTS', 'LANGCRT', 'PEARSON', 'PSI', 'TCLUK']) {
      for (const l of ['A1', 'A2', 'B1', 'B2', 'C1', 'C2']) {
        expect(judge(withEvidence({ seltRequired: true, testProvider: p, englishLanguageLevel: l }))).toEqual([]);
      }
    }
    expect(codes(judge(withEvidence({ seltRequired: true, testProvider: 'ielts', englishLanguageLevel: 'b1' })))).toEqual([
      'E_CODE_VALUE',
      'E_CODE_VALUE',
    ]);
  });
});

describe('W_SELT_NOT_PROVIDED', () => {
  it('fires on the student route when EvidenceDetails is absent', () => {
    expect(judge(base({ evidence: undefined }))).toEqual([
      {
        severity: 'WARNING',
        code: 'W_SELT_NOT_PROVIDED',
        field: 'EvidenceDetails',
        message: 'EvidenceDetails is missing: say with SELTRequired whether a secure English language test is required',
      },
    ]);
  });

  it('fires on the student route when SELTRequired is absent', () => {
    const issues = judge(withEvidence({}));
    expect(codes(issues)).toEqual(['W_SELT_NOT_PROVIDED']);
    expect(issues[0]?.field).toBe('EvidenceDetails/SELTRequired');
  });

  it('does not fire on the child route', () => {
    expect(judge(base({ evidence: undefined, dateOfBirth: { kind: 'full', value: '2005-01-01' } }), 'child')).toEqual([]);
  });
});

describe('W_SELT_DETAILS', () => {
  it('fires per missing detail when SELTRequired is true', () => {
    expect(judge(withEvidence({ seltRequired: true }))).toEqual([
      {
        severity: 'WARNING',
        code: 'W_SELT_DETAILS',
        field: 'EvidenceDetails/EnglishLanguageLevelAttained',
        message: 'EnglishLanguageLevelAttained is required when SELTRequired is true',
      },
      {
        severity: 'WARNING',
        code: 'W_SELT_DETAILS',
        field: 'EvidenceDetails/TestProvider',
        message: 'TestProvider is required when SELTRequired is true',
      },
    ]);
    expect(judge(withEvidence({ seltRequired: true, englishLanguageLevel: 'C1' })).map((i) => i.field)).toEqual([
      'EvidenceDetails/TestProvider',
    ]);
    expect(judge(withEvidence({ seltRequired: true, testProvider: 'PSI' })).map((i) => i.field)).toEqual([
      'EvidenceDetails/EnglishLanguageLevelAttained',
    ]);
  });

  it('fires when SELTRequired is false without a reason', () => {
    expect(judge(withEvidence({ seltRequired: false }))).toEqual([
      {
        severity: 'WARNING',
        code: 'W_SELT_DETAILS',
        field: 'EvidenceDetails/ReasonSELTNotRequired',
        message: 'ReasonSELTNotRequired is required when SELTRequired is false',
      },
    ]);
    expect(judge(withEvidence({ seltRequired: false, reasonSeltNotRequired: 'HEI' }))).toEqual([]);
  });

  it('does not ask for a reason when SELTRequired is true, nor for test details when false', () => {
    expect(judge(withEvidence({ seltRequired: true, englishLanguageLevel: 'B2', testProvider: 'PEARSON' }))).toEqual([]);
    expect(judge(withEvidence({ seltRequired: false, reasonSeltNotRequired: 'GIFTED' }))).toEqual([]);
  });
});

describe('W_PROGRESSION_NOT_PROVIDED', () => {
  const selt = { seltRequired: false, reasonSeltNotRequired: 'ENG_COUNTRY' };

  it('does not fire unless PreviousUKStudy is true', () => {
    expect(judge(withEvidence({ ...selt, previousUkStudy: false }))).toEqual([]);
    expect(judge(withEvidence({ ...selt }))).toEqual([]);
  });

  it('fires for each missing level or comparison', () => {
    expect(judge(withEvidence({ ...selt, previousUkStudy: true }))).toEqual([
      {
        severity: 'WARNING',
        code: 'W_PROGRESSION_NOT_PROVIDED',
        field: 'EvidenceDetails/PreviousAcademicLevel',
        message: 'PreviousAcademicLevel is required when PreviousUKStudy is true',
      },
      {
        severity: 'WARNING',
        code: 'W_PROGRESSION_NOT_PROVIDED',
        field: 'EvidenceDetails/CurrentPreviousCourseLevelComparison',
        message: 'CurrentPreviousCourseLevelComparison is required when PreviousUKStudy is true',
      },
    ]);
    expect(judge(withEvidence({ ...selt, previousUkStudy: true, comparison: 'HIGHER' })).map((i) => i.field)).toEqual([
      'EvidenceDetails/PreviousAcademicLevel',
    ]);
  });

  it('wants a justification when the comparison is not HIGHER', () => {
    const prog = { ...selt, previousUkStudy: true, previousAcademicLevel: 'SCQF10' };
    expect(judge(withEvidence({ ...prog, comparison: 'HIGHER' }))).toEqual([]);
    expect(judge(withEvidence({ ...prog, comparison: 'SAME' }))).toEqual([
      {
        severity: 'WARNING',
        code: 'W_PROGRESSION_NOT_PROVIDED',
        field: 'EvidenceDetails/ProgressionJustification',
        message: 'ProgressionJustification is required when CurrentPreviousCourseLevelComparison is SAME (not HIGHER)',
      },
    ]);
    expect(codes(judge(withEvidence({ ...prog, comparison: 'LOWER' })))).toEqual(['W_PROGRESSION_NOT_PROVIDED']);
    expect(judge(withEvidence({ ...prog, comparison: 'LOWER', hasProgressionJustification: true }))).toEqual([]);
  });
});

describe('W_WORK_PLACEMENT', () => {
  it('fires when there is a work placement but no percentage', () => {
    const expected = [
      {
        severity: 'WARNING',
        code: 'W_WORK_PLACEMENT',
        field: 'WorkPlacementDetails/WorkPlacementPercentage',
        message: 'WorkPlacementPercentage is required when ApplicantHasWorkPlacement is true',
      },
    ];
    expect(judge(base({ applicantHasWorkPlacement: true }))).toEqual(expected);
    expect(judge(base({ applicantHasWorkPlacement: true, workPlacement: { hasJustification: true } }))).toEqual(expected);
    expect(judge(base({ applicantHasWorkPlacement: false }))).toEqual([]);
  });

  it('wants a justification above 33 percent, not at 33', () => {
    const wp = (percentage: number, hasJustification: boolean) =>
      base({ applicantHasWorkPlacement: true, workPlacement: { percentage, hasJustification } });
    expect(judge(wp(33, false))).toEqual([]);
    expect(judge(wp(34, false))).toEqual([
      {
        severity: 'WARNING',
        code: 'W_WORK_PLACEMENT',
        field: 'WorkPlacementDetails/WorkPlacementJustificationText',
        message: 'WorkPlacementJustificationText is required when WorkPlacementPercentage (34) is above 33',
      },
    ]);
    expect(judge(wp(34, true))).toEqual([]);
    expect(judge(wp(100, true))).toEqual([]);
    expect(judge(wp(0, false))).toEqual([]);
  });

  it('applies the justification rule whatever ApplicantHasWorkPlacement says', () => {
    const rec = base({ applicantHasWorkPlacement: false, workPlacement: { percentage: 50, hasJustification: false } });
    expect(codes(judge(rec))).toEqual(['W_WORK_PLACEMENT']);
  });
});

describe('all issues of a record are reported', () => {
  it('lists errors and warnings together, in spec order', () => {
    const rec = base({
      expectedCourseEndDate: '2013-01-01',
      nationality: 'QQQ',
      applicantHasWorkPlacement: true,
      evidence: { seltRequired: true, testProvider: 'NOPE', previousUkStudy: true, hasProgressionJustification: false },
    });
    const issues = judge(rec);
    expect(codes(issues)).toEqual([
      'E_COURSE_DATES',
      'E_COUNTRY_CODE',
      'E_CODE_VALUE',
      'W_SELT_DETAILS',
      'W_PROGRESSION_NOT_PROVIDED',
      'W_PROGRESSION_NOT_PROVIDED',
      'W_WORK_PLACEMENT',
    ]);
    expect(hasErrors(issues)).toBe(true);
    expect(hasWarnings(issues)).toBe(true);
  });

  it('never mentions the name or passport number', () => {
    const rec = base({
      expectedCourseEndDate: '2013-01-01',
      latestAcceptanceDate: '2013-01-01',
      nationality: 'QQQ',
      countryOfBirth: 'QQQ',
      dateOfBirth: { kind: 'full', value: '2014-02-03' },
      applicantHasWorkPlacement: true,
      evidence: undefined,
    });
    const text = judge(rec)
      .map((i) => i.message)
      .join('\n');
    expect(text).not.toMatch(/Barry|Gareth|P1234567|2014-02-03/);
  });
});

describe('recordKey', () => {
  it('uses CourseID when present, the title otherwise', () => {
    expect(recordKey(base())).toBe('["APP-1","2013-12-26","id","FOOT3456"]');
    expect(recordKey(base({ courseId: undefined }))).toBe('["APP-1","2013-12-26","title","Footballing Studies"]');
  });

  it('is equal for the same key and differs when any part differs', () => {
    expect(recordKey(base({ familyName: 'Other', courseTitle: 'Other title' }))).toBe(recordKey(base()));
    expect(recordKey(base({ applicantId: 'APP-2' }))).not.toBe(recordKey(base()));
    expect(recordKey(base({ courseStartDate: '2014-01-01' }))).not.toBe(recordKey(base()));
    expect(recordKey(base({ courseId: 'FOOT3457' }))).not.toBe(recordKey(base()));
  });

  it('cannot be fooled by a CourseID equal to a title, or by separators inside values', () => {
    expect(recordKey(base({ courseId: 'X' }))).not.toBe(recordKey(base({ courseId: undefined, courseTitle: 'X' })));
    expect(recordKey(base({ applicantId: 'A","2013-12-26' }))).not.toBe(recordKey(base({ applicantId: 'A' })));
  });
});

describe('severity helpers', () => {
  it('maps E_ codes to ERROR and W_ codes to WARNING', () => {
    expect(issueSeverity('E_COURSE_DATES')).toBe('ERROR');
    expect(issueSeverity('E_CAS_NOT_FOUND')).toBe('ERROR');
    expect(issueSeverity('W_NO_ALLOCATION')).toBe('WARNING');
    expect(issueSeverity('W_ALREADY_REPORTED')).toBe('WARNING');
  });

  it('tells errors from warnings', () => {
    expect(hasErrors([])).toBe(false);
    expect(hasWarnings([])).toBe(false);
    expect(hasErrors([noAllocationIssue()])).toBe(false);
    expect(hasWarnings([noAllocationIssue()])).toBe(true);
    expect(hasErrors([duplicateInFileIssue(1)])).toBe(true);
    expect(hasWarnings([duplicateInFileIssue(1)])).toBe(false);
  });
});

describe('issues raised outside the pure rules', () => {
  it('builds the duplicate and allocation issues', () => {
    expect(duplicateInFileIssue(3)).toEqual({
      severity: 'ERROR',
      code: 'E_DUPLICATE_IN_FILE',
      field: 'ApplicantData/ApplicantID',
      message: 'Same ApplicantID, CourseStartDate and course as record 3 of this file',
    });
    expect(duplicateCasIssue('E4G0AA0A00A0A1')).toMatchObject({ severity: 'ERROR', code: 'E_DUPLICATE_CAS' });
    expect(duplicateCasIssue('E4G0AA0A00A0A1').message).toContain('CAS E4G0AA0A00A0A1');
    expect(duplicateCasIssue(null).message).toContain('an assigned or used CAS');
    expect(noAllocationIssue()).toEqual({
      severity: 'WARNING',
      code: 'W_NO_ALLOCATION',
      message: 'The CAS is ready to go but was not assigned: the sponsor has no unused CAS allocation left',
    });
  });

  it('builds the graduate report issues', () => {
    expect(casNotFoundIssue('E4G0AA0A00A0A2')).toEqual({
      severity: 'ERROR',
      code: 'E_CAS_NOT_FOUND',
      field: 'BulkReportingCASGraduation/CASNumber',
      message: 'CAS E4G0AA0A00A0A2 was not found for this sponsor',
    });
    expect(casStatusIssue('E4G0AA0A00A0A1', 'ASSIGNED')).toEqual({
      severity: 'ERROR',
      code: 'E_CAS_STATUS',
      field: 'BulkReportingCASGraduation/CASNumber',
      message: 'CAS E4G0AA0A00A0A1 has status ASSIGNED; only a USED CAS can be reported as graduated',
    });
    expect(alreadyReportedIssue('E4G0AA0A00A0A1', '2024-07-01')).toMatchObject({
      severity: 'WARNING',
      code: 'W_ALREADY_REPORTED',
      message: 'CAS E4G0AA0A00A0A1 was already reported as graduated on 2024-07-01; nothing was changed',
    });
    expect(alreadyReportedIssue('E4G0AA0A00A0A1').message).toBe(
      'CAS E4G0AA0A00A0A1 was already reported as graduated; nothing was changed',
    );
  });
});
