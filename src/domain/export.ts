/** What the export XML says of one CAS a sponsor assigned: its current status and dates. */
import type { Fees } from './fees.ts';
import type { CasStatus } from './types.ts';

export interface ExportRow {
  casNumber: string;
  applicantId: string;
  familyName: string;
  courseId: string | null;
  courseTitle: string;
  courseStartDate: string;
  status: CasStatus;
  /** UTC date of the last status change. */
  statusDate: string;
  assignedDate: string;
  expiryDate: string;
  graduated: boolean;
  /** The current fees: as last updated, else as uploaded. */
  fees: Fees;
}
