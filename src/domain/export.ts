/** What the export XML says of one CAS a sponsor assigned: the person, the course, its current status and dates. */
import type { Fees } from './fees.ts';
import type { CasStatus } from './types.ts';

/** The export schemas a sponsor may choose, as in the SMS: 2.1.1 (the default, with Graduated) or the legacy 1.1.1. */
export const EXPORT_SCHEMAS = ['2.1.1', '1.1.1'] as const;
export type ExportSchema = (typeof EXPORT_SCHEMAS)[number];

export interface ExportRow {
  casNumber: string;
  applicantId: string;
  /** ApplicationID, when the upload had one. */
  applicationId: string | null;
  /** The batch the CAS came in (its BulkUploadFileId). */
  batch: string;
  familyName: string;
  givenName: string | null;
  /** YYYY-MM-DD, YYYY-MM or YYYY, as uploaded. */
  dateOfBirth: string;
  nationality: string;
  courseId: string | null;
  courseTitle: string;
  courseStartDate: string;
  expectedCourseEndDate: string;
  status: CasStatus;
  /** UTC date of the last status change. */
  statusDate: string;
  assignedDate: string;
  expiryDate: string;
  graduated: boolean;
  /** The current fees: as last updated, else as uploaded. */
  fees: Fees;
}

/** Which CAS an export holds: all the sponsor ever assigned, or those changed after a time, and/or of one status. */
export interface ExportFilter {
  changedSince?: Date;
  status?: CasStatus;
}

/** `CASEXPORT-<LICENCE>-<UTC yyyymmddThhmmssZ>`: the name of an export (`.xml`, or `.zip` holding the `.xml`). */
export function exportStem(licence: string, at: Date): string {
  return `CASEXPORT-${licence}-${at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')}`;
}
