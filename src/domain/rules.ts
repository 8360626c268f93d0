/**
 * Record rules (spec section 5) that need nothing but the record itself, the duplicate
 * key, and the issues raised elsewhere (duplicates, allocation, graduate reports) so that
 * every message is written in one place.
 *
 * Messages are plain English for a sponsor's IT team. They may quote course dates, codes
 * and CAS numbers, but never a name, passport number or date of birth: messages end up
 * in logs.
 */
import { isValidCountryCode } from './countries.ts';
import { ageAt, isAfter, isBefore, parseIsoDate, partialDateEarliest } from './dates.ts';
import type { CasRecord, CasStatus, RecordIssue, RecordIssueCode, Route, Severity } from './types.ts';

const SELT_NOT_REQUIRED_REASONS: readonly string[] = Object.freeze([
  'HEI',
  'GIFTED',
  'T4SWITCH',
  'ENG_COUNTRY',
  'ENG_DEGREE',
  'ENG_VISA',
  'USA_HEI',
]);
const TEST_PROVIDERS: readonly string[] = Object.freeze(['IELTS', 'LANGCRT', 'PEARSON', 'PSI', 'TCLUK']);
const ENGLISH_LANGUAGE_LEVELS: readonly string[] = Object.freeze(['A1', 'A2', 'B1', 'B2', 'C1', 'C2']);

/**
 * Dates must fall within these years (spec section 7). The schema's xs:date allows any
 * year (99999999-06-30 is valid), which the database's date type cannot hold; no real
 * course or birth lies outside them.
 */
export const MIN_YEAR = 1900;
export const MAX_YEAR = 2199;

/** Child route: the applicant's age at CourseStartDate must be within [min, max] whole years. */
const CHILD_MIN_AGE = 4;
const CHILD_MAX_AGE = 17;
/** A work placement above this percentage of the course needs a justification. */
const WORK_PLACEMENT_THRESHOLD_PERCENT = 33;

const SEVERITY: Record<RecordIssueCode, Severity> = {
  E_DUPLICATE_IN_FILE: 'ERROR',
  E_DUPLICATE_CAS: 'ERROR',
  E_COURSE_DATES: 'ERROR',
  E_DATE_OF_BIRTH: 'ERROR',
  E_CHILD_AGE: 'ERROR',
  E_COUNTRY_CODE: 'ERROR',
  E_CODE_VALUE: 'ERROR',
  W_SELT_NOT_PROVIDED: 'WARNING',
  W_SELT_DETAILS: 'WARNING',
  W_PROGRESSION_NOT_PROVIDED: 'WARNING',
  W_WORK_PLACEMENT: 'WARNING',
  W_NO_ALLOCATION: 'WARNING',
  E_CAS_NOT_FOUND: 'ERROR',
  E_CAS_STATUS: 'ERROR',
  W_ALREADY_REPORTED: 'WARNING',
  E_FEES_PAID_MISSING: 'ERROR',
  W_NO_CHANGE: 'WARNING',
  E_REPORT_DATE: 'ERROR',
  W_LATE_REPORT: 'WARNING',
};

export function issueSeverity(code: RecordIssueCode): Severity {
  return SEVERITY[code];
}

/** A record with any error is refused. */
export function hasErrors(issues: readonly RecordIssue[]): boolean {
  return issues.some((i) => i.severity === 'ERROR');
}

export function hasWarnings(issues: readonly RecordIssue[]): boolean {
  return issues.some((i) => i.severity === 'WARNING');
}

function issue(code: RecordIssueCode, field: string | undefined, message: string): RecordIssue {
  return field === undefined ? { severity: SEVERITY[code], code, message } : { severity: SEVERITY[code], code, field, message };
}

/**
 * The duplicate key of an upload record: ApplicantID, CourseStartDate and the course,
 * which is CourseID when present, else CourseCurriculumTitle. The marker (`id`/`title`)
 * keeps a CourseID from ever matching a title that happens to read the same; the JSON
 * tuple keeps the parts from running into each other. Values compare exactly (they are
 * already trimmed).
 */
export function recordKey(rec: CasRecord): string {
  const course = rec.courseId !== undefined ? ['id', rec.courseId] : ['title', rec.courseTitle];
  return JSON.stringify([rec.applicantId, rec.courseStartDate, ...course]);
}

// ---------------------------------------------------------------------------------------
// Pure rules of one record

/** Every issue of one upload record that can be judged without the database, in spec order. */
export function judgeRecord(rec: CasRecord, route: Route): RecordIssue[] {
  return [
    ...courseDates(rec),
    ...dateOfBirth(rec, route),
    ...countryCodes(rec),
    ...codeValues(rec),
    ...seltNotProvided(rec, route),
    ...seltDetails(rec),
    ...progression(rec),
    ...workPlacement(rec),
  ];
}

/** The year of a YYYY-MM-DD date, or NaN. */
const yearOf = (date: string) => parseIsoDate(date)?.year ?? Number.NaN;
const inRange = (date: string) => {
  const y = yearOf(date);
  return y >= MIN_YEAR && y <= MAX_YEAR;
};
const RANGE = `the years ${MIN_YEAR} to ${MAX_YEAR}`;

function courseDates(rec: CasRecord): RecordIssue[] {
  const fields: [string, string, string | undefined][] = [
    ['CourseStartDate', 'CourseDetails/CourseStartDate', rec.courseStartDate],
    ['LatestDateForAcceptanceOnCourse', 'CourseDetails/LatestDateForAcceptanceOnCourse', rec.latestAcceptanceDate],
    ['ExpectedCourseEndDate', 'CourseDetails/ExpectedCourseEndDate', rec.expectedCourseEndDate],
  ];
  const outOfRange = fields.filter((f): f is [string, string, string] => f[2] !== undefined && !inRange(f[2]));
  if (outOfRange.length) {
    // The order of dates that cannot be real says nothing more: one issue per such date.
    return outOfRange.map(([name, field, value]) => issue('E_COURSE_DATES', field, `${name} (${value}) is outside ${RANGE}`));
  }
  const out: RecordIssue[] = [];
  const start = rec.courseStartDate;
  if (!isAfter(rec.expectedCourseEndDate, start)) {
    out.push(
      issue(
        'E_COURSE_DATES',
        'CourseDetails/ExpectedCourseEndDate',
        `ExpectedCourseEndDate (${rec.expectedCourseEndDate}) is not after CourseStartDate (${start})`,
      ),
    );
  }
  if (rec.latestAcceptanceDate !== undefined && isBefore(rec.latestAcceptanceDate, start)) {
    out.push(
      issue(
        'E_COURSE_DATES',
        'CourseDetails/LatestDateForAcceptanceOnCourse',
        `LatestDateForAcceptanceOnCourse (${rec.latestAcceptanceDate}) is before CourseStartDate (${start})`,
      ),
    );
  }
  return out;
}

/**
 * A partial date of birth is judged on the earliest day it can stand for: it is "after"
 * the course start only when every day it could mean is, and the child's age is the
 * lowest it could be. When the birth is after the start, E_CHILD_AGE is not raised as
 * well: there is no age to speak of, and one error tells the sponsor what to fix.
 */
function dateOfBirth(rec: CasRecord, route: Route): RecordIssue[] {
  const field = 'ApplicantData/DateOfBirth';
  const earliest = partialDateEarliest(rec.dateOfBirth);
  const start = rec.courseStartDate;
  // The date itself is never quoted: it is personal data, and messages reach logs.
  if (!inRange(earliest)) return [issue('E_DATE_OF_BIRTH', field, `DateOfBirth is outside ${RANGE}`)];
  // A course start that cannot be real is reported by the course date rule; no age follows from it.
  if (!inRange(start)) return [];
  if (isAfter(earliest, start)) {
    return [issue('E_DATE_OF_BIRTH', field, `DateOfBirth is after CourseStartDate (${start})`)];
  }
  if (route !== 'child') return [];
  const age = ageAt(earliest, start);
  if (age < CHILD_MIN_AGE) {
    return [
      issue(
        'E_CHILD_AGE',
        field,
        `The applicant is younger than ${CHILD_MIN_AGE} on CourseStartDate (${start}); the Child route needs an age from ${CHILD_MIN_AGE} to ${CHILD_MAX_AGE}`,
      ),
    ];
  }
  if (age > CHILD_MAX_AGE) {
    return [
      issue(
        'E_CHILD_AGE',
        field,
        `The applicant is older than ${CHILD_MAX_AGE} on CourseStartDate (${start}); the Child route needs an age from ${CHILD_MIN_AGE} to ${CHILD_MAX_AGE}`,
      ),
    ];
  }
  return [];
}

function countryCodes(rec: CasRecord): RecordIssue[] {
  const out: RecordIssue[] = [];
  const fields: { field: string; value: string; nationality: boolean }[] = [
    { field: 'ApplicantData/Nationality', value: rec.nationality, nationality: true },
    { field: 'ApplicantData/CountryOfBirth', value: rec.countryOfBirth, nationality: false },
    ...rec.addressCountries.map((c) => ({ ...c, nationality: false })),
  ];
  for (const f of fields) {
    if (isValidCountryCode(f.value, { allowStateless: f.nationality })) continue;
    const name = f.field.slice(f.field.lastIndexOf('/') + 1);
    const extra = f.nationality ? ', a Home Office nationality code or "STATELESS"' : ' or a Home Office code';
    out.push(issue('E_COUNTRY_CODE', f.field, `${name} (${f.value}) is not an ISO 3166-1 alpha-3 country code${extra}`));
  }
  return out;
}

/** Code lists compare exactly (case-sensitive), as the guidance spells them. */
function codeValues(rec: CasRecord): RecordIssue[] {
  const ev = rec.evidence;
  if (!ev) return [];
  const checks: { name: string; value: string | undefined; allowed: readonly string[] }[] = [
    { name: 'ReasonSELTNotRequired', value: ev.reasonSeltNotRequired, allowed: SELT_NOT_REQUIRED_REASONS },
    { name: 'EnglishLanguageLevelAttained', value: ev.englishLanguageLevel, allowed: ENGLISH_LANGUAGE_LEVELS },
    { name: 'TestProvider', value: ev.testProvider, allowed: TEST_PROVIDERS },
  ];
  const out: RecordIssue[] = [];
  for (const c of checks) {
    if (c.value === undefined || c.allowed.includes(c.value)) continue;
    out.push(issue('E_CODE_VALUE', `EvidenceDetails/${c.name}`, `${c.name} (${c.value}) is not one of ${c.allowed.join(', ')}`));
  }
  return out;
}

/** Student route only: the child route has no EvidenceDetails at all. */
function seltNotProvided(rec: CasRecord, route: Route): RecordIssue[] {
  if (route !== 'student') return [];
  if (!rec.evidence) {
    return [
      issue(
        'W_SELT_NOT_PROVIDED',
        'EvidenceDetails',
        'EvidenceDetails is missing: say with SELTRequired whether a secure English language test is required',
      ),
    ];
  }
  if (rec.evidence.seltRequired === undefined) {
    return [
      issue(
        'W_SELT_NOT_PROVIDED',
        'EvidenceDetails/SELTRequired',
        'SELTRequired is missing: say whether a secure English language test is required',
      ),
    ];
  }
  return [];
}

/** One warning per missing element, so each names the field to add. */
function seltDetails(rec: CasRecord): RecordIssue[] {
  const ev = rec.evidence;
  if (!ev) return [];
  const out: RecordIssue[] = [];
  if (ev.seltRequired === true) {
    if (ev.englishLanguageLevel === undefined) {
      out.push(
        issue(
          'W_SELT_DETAILS',
          'EvidenceDetails/EnglishLanguageLevelAttained',
          'EnglishLanguageLevelAttained is required when SELTRequired is true',
        ),
      );
    }
    if (ev.testProvider === undefined) {
      out.push(issue('W_SELT_DETAILS', 'EvidenceDetails/TestProvider', 'TestProvider is required when SELTRequired is true'));
    }
  } else if (ev.seltRequired === false && ev.reasonSeltNotRequired === undefined) {
    out.push(
      issue('W_SELT_DETAILS', 'EvidenceDetails/ReasonSELTNotRequired', 'ReasonSELTNotRequired is required when SELTRequired is false'),
    );
  }
  return out;
}

/**
 * A missing comparison raises its own warning; ProgressionJustification is asked for only
 * when a comparison is given and is not HIGHER (an absent comparison is not "not HIGHER").
 */
function progression(rec: CasRecord): RecordIssue[] {
  const ev = rec.evidence;
  if (!ev || ev.previousUkStudy !== true) return [];
  const out: RecordIssue[] = [];
  if (ev.previousAcademicLevel === undefined) {
    out.push(
      issue(
        'W_PROGRESSION_NOT_PROVIDED',
        'EvidenceDetails/PreviousAcademicLevel',
        'PreviousAcademicLevel is required when PreviousUKStudy is true',
      ),
    );
  }
  if (ev.comparison === undefined) {
    out.push(
      issue(
        'W_PROGRESSION_NOT_PROVIDED',
        'EvidenceDetails/CurrentPreviousCourseLevelComparison',
        'CurrentPreviousCourseLevelComparison is required when PreviousUKStudy is true',
      ),
    );
  } else if (ev.comparison !== 'HIGHER' && !ev.hasProgressionJustification) {
    out.push(
      issue(
        'W_PROGRESSION_NOT_PROVIDED',
        'EvidenceDetails/ProgressionJustification',
        `ProgressionJustification is required when CurrentPreviousCourseLevelComparison is ${ev.comparison} (not HIGHER)`,
      ),
    );
  }
  return out;
}

/** The justification rule applies to any percentage given, whatever ApplicantHasWorkPlacement says. */
function workPlacement(rec: CasRecord): RecordIssue[] {
  const wp = rec.workPlacement;
  const out: RecordIssue[] = [];
  if (rec.applicantHasWorkPlacement && wp?.percentage === undefined) {
    out.push(
      issue(
        'W_WORK_PLACEMENT',
        'WorkPlacementDetails/WorkPlacementPercentage',
        'WorkPlacementPercentage is required when ApplicantHasWorkPlacement is true',
      ),
    );
  }
  if (wp?.percentage !== undefined && wp.percentage > WORK_PLACEMENT_THRESHOLD_PERCENT && !wp.hasJustification) {
    out.push(
      issue(
        'W_WORK_PLACEMENT',
        'WorkPlacementDetails/WorkPlacementJustificationText',
        `WorkPlacementJustificationText is required when WorkPlacementPercentage (${wp.percentage}) is above ${WORK_PLACEMENT_THRESHOLD_PERCENT}`,
      ),
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Issues raised outside the pure rules (they need the file or the database)

/**
 * Whether W_PROGRESSION_NOT_PROVIDED depends on what the store knows of the person: a
 * student-route record that does not say whether there was earlier UK study.
 */
export function progressionNeedsHistory(rec: CasRecord, route: Route): boolean {
  return route === 'student' && rec.evidence?.previousUkStudy === undefined;
}

/**
 * W_PROGRESSION_NOT_PROVIDED when PreviousUKStudy is absent but the same person (passport
 * number and nationality) already has a USED CAS, any sponsor's: the earlier UK study the
 * file does not declare (as the SMS warns, knowing the person).
 */
export function progressionFromHistoryIssue(): RecordIssue {
  return issue(
    'W_PROGRESSION_NOT_PROVIDED',
    'EvidenceDetails/PreviousUKStudy',
    'PreviousUKStudy is not given, but this person (passport number and nationality) has already studied in the UK on a CAS that was used: ' +
      'give PreviousUKStudy, PreviousAcademicLevel and CurrentPreviousCourseLevelComparison (and ProgressionJustification unless the new course is HIGHER)',
  );
}

/** E_DUPLICATE_IN_FILE: `earlierIndex` is the 1-based position of the earlier CAS element. */
export function duplicateInFileIssue(earlierIndex: number): RecordIssue {
  return issue(
    'E_DUPLICATE_IN_FILE',
    'ApplicantData/ApplicantID',
    `Same ApplicantID, CourseStartDate and course as record ${earlierIndex} of this file`,
  );
}

/** E_DUPLICATE_CAS: the sponsor already has an ASSIGNED or USED CAS with the same key. */
export function duplicateCasIssue(casNumber: string | null): RecordIssue {
  const which = casNumber ? `CAS ${casNumber}` : 'an assigned or used CAS';
  return issue(
    'E_DUPLICATE_CAS',
    'ApplicantData/ApplicantID',
    `Same ApplicantID, CourseStartDate and course as ${which}, which is already assigned or used; withdraw it first or change the course details`,
  );
}

/** W_NO_ALLOCATION: READY_TO_GO but no unused allocation was left to assign it. */
export function noAllocationIssue(): RecordIssue {
  return issue('W_NO_ALLOCATION', undefined, 'The CAS is ready to go but was not assigned: the sponsor has no unused CAS allocation left');
}

const GRADUATE_CAS_FIELD = 'BulkReportingCASGraduation/CASNumber';

/**
 * E_CAS_NOT_FOUND: also for another sponsor's CAS, with the same words, so that a
 * sponsor cannot learn whether a number exists elsewhere.
 */
export function casNotFoundIssue(casNumber: string): RecordIssue {
  return issue('E_CAS_NOT_FOUND', GRADUATE_CAS_FIELD, `CAS ${casNumber} was not found for this sponsor`);
}

/**
 * E_CAS_NOT_FOUND for a number whose check character does not match: no CAS can have it,
 * and the sponsor is told it is mistyped rather than merely unknown.
 */
export function casCheckCharIssue(casNumber: string): RecordIssue {
  return issue(
    'E_CAS_NOT_FOUND',
    GRADUATE_CAS_FIELD,
    `CAS ${casNumber} is not a valid CAS number: its last character (the check character) does not match the others, so it is probably mistyped`,
  );
}

/** E_CAS_STATUS: only a USED CAS can be reported graduated. */
export function casStatusIssue(casNumber: string, status: CasStatus): RecordIssue {
  return issue('E_CAS_STATUS', GRADUATE_CAS_FIELD, `CAS ${casNumber} has status ${status}; only a USED CAS can be reported as graduated`);
}

/** W_ALREADY_REPORTED: nothing changes. `graduatedOn` is the date recorded earlier, when known. */
export function alreadyReportedIssue(casNumber: string, graduatedOn?: string): RecordIssue {
  const when = graduatedOn ? ` on ${graduatedOn}` : '';
  return issue('W_ALREADY_REPORTED', GRADUATE_CAS_FIELD, `CAS ${casNumber} was already reported as graduated${when}; nothing was changed`);
}
