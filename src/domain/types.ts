/** Shared domain vocabulary: statuses, routes, codes and the shape of one BDT record. */

export const CAS_STATUSES = [
  'WORK_IN_PROGRESS',
  'READY_TO_GO',
  'ASSIGNED',
  'WITHDRAWN',
  'USED',
  'OBSOLETE',
  'EXPIRED',
  'CANCELLED',
] as const;
export type CasStatus = (typeof CAS_STATUSES)[number];

/** The statuses a CAS can have once it has been assigned (the ones an export shows). */
export const ASSIGNED_STATUSES: readonly CasStatus[] = ['ASSIGNED', 'USED', 'WITHDRAWN', 'CANCELLED', 'EXPIRED', 'OBSOLETE'];

export const ROUTES = ['student', 'child'] as const;
export type Route = (typeof ROUTES)[number];

export const LICENCE_STATUSES = ['active', 'suspended', 'revoked', 'expired', 'surrendered'] as const;
export type LicenceStatus = (typeof LICENCE_STATUSES)[number];

export const LICENCE_PATTERN = /^[A-Z0-9]{8}[0-9X]$/;

export const FILE_TYPES = ['UPLOAD_GENERAL', 'UPLOAD_CHILD', 'GRADUATE_REPORT', 'UPDATE_FEES', 'REPORT', 'UNKNOWN'] as const;
export type FileType = (typeof FILE_TYPES)[number];
export type FileOutcome = 'ACCEPTED' | 'REJECTED';

/** What a file's records came to (results.md, Summary). */
export interface Counts {
  records: number;
  created: number;
  amended: number;
  assigned: number;
  readyToGo: number;
  workInProgress: number;
  rejected: number;
  reported: number;
  /** Fee update files only. */
  updated?: number;
}

export type RecordOutcome = 'CREATED' | 'AMENDED' | 'REJECTED' | 'REPORTED' | 'UPDATED';

export type FileErrorCode =
  | 'E_FILE_TOO_LARGE'
  | 'E_NOT_WELL_FORMED'
  | 'E_DUPLICATE_FILE_ID'
  | 'E_ENCODING'
  | 'E_DOCTYPE_FORBIDDEN'
  | 'E_UNKNOWN_FILE_TYPE'
  | 'E_SCHEMA'
  | 'E_SPONSOR_MISMATCH'
  | 'E_LICENCE_NOT_ACTIVE'
  | 'E_ROUTE_NOT_LICENSED'
  | 'E_HEADER_INCONSISTENT'
  | 'E_LIMIT'
  /** The name is not UTF-8, holds control characters or is too long (spec section 3). */
  | 'E_FILE_NAME'
  /** The file failed with unexpected errors and was set aside; the operator has been alerted. */
  | 'E_INTERNAL'
  /** A zip that cannot be read, holds no .xml file, or is over its limits (spec section 4a). */
  | 'E_ZIP_CORRUPT'
  | 'E_ZIP_EMPTY'
  | 'E_ZIP_LIMIT'
  /** One entry of a zip refused (listed in container.result.xml only). */
  | 'E_ZIP_ENTRY';

export type RecordIssueCode =
  | 'E_DUPLICATE_IN_FILE'
  | 'E_DUPLICATE_CAS'
  | 'E_COURSE_DATES'
  | 'E_DATE_OF_BIRTH'
  | 'E_CHILD_AGE'
  | 'E_COUNTRY_CODE'
  | 'E_CODE_VALUE'
  | 'W_SELT_NOT_PROVIDED'
  | 'W_SELT_DETAILS'
  | 'W_PROGRESSION_NOT_PROVIDED'
  | 'W_WORK_PLACEMENT'
  | 'W_NO_ALLOCATION'
  | 'E_CAS_NOT_FOUND'
  | 'E_CAS_STATUS'
  | 'W_ALREADY_REPORTED'
  | 'E_FEES_PAID_MISSING'
  | 'W_NO_CHANGE'
  | 'E_REPORT_DATE'
  | 'W_LATE_REPORT';

/** A file-level failure: the whole file is REJECTED with these. */
export interface FileError {
  code: FileErrorCode;
  message: string;
  line?: number;
  column?: number;
  /** E_SCHEMA: the field's path from the record, e.g. `CAS[3]/ApplicantData/FamilyName`. */
  field?: string;
  /** E_SCHEMA: the ApplicantID of the record the field is in, when it could be read. */
  applicantId?: string;
}

export type Severity = 'ERROR' | 'WARNING';

/** One problem with one record. `field` is relative to the CAS element. */
export interface RecordIssue {
  severity: Severity;
  code: RecordIssueCode;
  field?: string;
  message: string;
}

/** A date of birth as the file gives it: full (YYYY-MM-DD), year-month (YYYY-MM) or year (YYYY). */
export interface PartialDate {
  kind: 'full' | 'yearMonth' | 'year';
  value: string;
}

/**
 * An XML element's content as read from a record: text is a string (already trimmed),
 * children are nested objects, repeated children are arrays. Empty elements are ''.
 */
export type XmlValue = string | XmlObject | XmlValue[];
export interface XmlObject {
  [name: string]: XmlValue;
}

/** One upload `CAS` element, the fields the rules and the store need, all text trimmed. */
export interface CasRecord {
  /** 1-based position of the CAS element in the file. */
  index: number;
  applicantId: string;
  familyName: string;
  givenName?: string;
  nationality: string;
  countryOfBirth: string;
  dateOfBirth: PartialDate;
  passportNumber: string;
  courseTitle: string;
  courseId?: string;
  /** YYYY-MM-DD */
  courseStartDate: string;
  latestAcceptanceDate?: string;
  expectedCourseEndDate: string;
  /** Every Country element of every address in the record, with its field path. */
  addressCountries: { field: string; value: string }[];
  applicantHasWorkPlacement: boolean;
  workPlacement?: { percentage?: number; hasJustification: boolean };
  /** Absent when EvidenceDetails is absent (always absent on the child route). */
  evidence?: {
    seltRequired?: boolean;
    reasonSeltNotRequired?: string;
    englishLanguageLevel?: string;
    testProvider?: string;
    previousUkStudy?: boolean;
    previousAcademicLevel?: string;
    comparison?: string;
    hasProgressionJustification: boolean;
  };
  /** The whole trimmed element, stored as the CAS's BDT fields. */
  raw: XmlObject;
}

/** One graduate notification entry. */
export interface GraduateRecord {
  index: number;
  report: string;
  casNumber: string;
}
