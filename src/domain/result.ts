/** The result model of one submission: what the result XML and the JSON summary say. */
import { fileKind } from './file-kinds.ts';
import type { CasStatus, Counts, FileError, FileOutcome, FileType, RecordIssue, RecordOutcome } from './types.ts';

export type { Counts } from './types.ts';

/** Counts of nothing yet; those of a kind that counts `updated` (fee updates, accepted or not) start it at 0. */
export const zeroCounts = (fileType?: FileType): Counts => ({
  records: 0,
  created: 0,
  amended: 0,
  assigned: 0,
  readyToGo: 0,
  workInProgress: 0,
  rejected: 0,
  reported: 0,
  ...(fileType && fileKind(fileType)?.countsUpdated ? { updated: 0 } : {}),
});

export interface RecordResult {
  index: number;
  /** Upload records. */
  applicantId?: string;
  /** Graduate report and fee update records: the CAS number the record names. */
  reportedCasNumber?: string;
  outcome: RecordOutcome;
  status?: CasStatus;
  casNumber?: string;
  expiryDate?: string;
  /** Student activity reports: the record's CASReport, and its due date when REPORTED. */
  report?: string;
  dueDate?: string;
  issues: RecordIssue[];
}

export interface PaymentSummary {
  reference: string;
  casCount: number;
  amountPence: number;
  currency: string;
}

export interface SubmissionResult {
  submissionId: number;
  fileName: string;
  sha256: string;
  sponsorLicenceNumber: string;
  fileType: FileType;
  fileId?: string;
  receivedAt: Date;
  processedAt: Date;
  replay: boolean;
  /**
   * A dry run (`validate`): nothing was stored, so the result names no submission
   * (SubmissionId DRY-RUN); its records show no CAS number (none is given) and it has no payment.
   */
  dryRun?: boolean;
  outcome: FileOutcome;
  counts: Counts;
  fileErrors: FileError[];
  payment?: PaymentSummary;
  /** A zip (spec section 4a): its entries, or null when the zip as a whole was refused. */
  container?: ContainerSummary;
}

/** One entry of a zip: its submission and outcome, or why it was refused (E_ZIP_ENTRY). */
export interface ContainerEntry {
  /** The entry's name, control characters escaped. */
  name: string;
  submissionId?: number;
  outcome?: FileOutcome;
  /** The entry's result file inside the result zip. */
  result?: string;
  /** The E_ZIP_ENTRY message, when refused. */
  error?: string;
}

/** `entries` null: the zip as a whole was refused (one plain result). */
export interface ContainerSummary {
  entries: ContainerEntry[] | null;
}

/** Adds one record's final state to the counts. */
export function countRecord(counts: Counts, r: RecordResult): void {
  counts.records++;
  if (r.outcome === 'CREATED') counts.created++;
  else if (r.outcome === 'AMENDED') counts.amended++;
  else if (r.outcome === 'REJECTED') counts.rejected++;
  else if (r.outcome === 'REPORTED') counts.reported++;
  else if (r.outcome === 'UPDATED') counts.updated = (counts.updated ?? 0) + 1;
  if (r.status === 'ASSIGNED') counts.assigned++;
  else if (r.status === 'READY_TO_GO') counts.readyToGo++;
  else if (r.status === 'WORK_IN_PROGRESS') counts.workInProgress++;
}

export function formatPence(pence: number): string {
  return `${Math.floor(pence / 100)}.${String(pence % 100).padStart(2, '0')}`;
}

/** An amount as formatPence writes it (`25.00`), in pence. */
export function penceOf(amount: string): number {
  const m = /^(\d+)\.(\d{2})$/.exec(amount);
  if (!m) throw new Error(`not an amount in pounds and pence: ${JSON.stringify(amount)}`);
  return Number(m[1]) * 100 + Number(m[2]);
}

/** A dry run's submission id is negative (pipeline/dry-run.ts): no stored submission has it. */
export const isDryRunId = (id: number): boolean => id < 0;

/** The file summary of cli.md, stored with the submission. */
export interface FileSummary {
  submissionId: number;
  file: string;
  sponsorLicenceNumber: string;
  fileType: FileType;
  outcome: FileOutcome;
  replay: boolean;
  resultFile: string | null;
  counts: Counts;
  fileErrors: FileError[];
  /** Zips only (spec section 4a). */
  container?: ContainerSummary;
}

/**
 * An ACCEPTED file none of whose records was accepted: it passed the file-level checks
 * (results.md), yet nothing was stored. People and scripts must not take it for a clean
 * file: `process` and `validate` exit 3 for it, and the console does not show it green.
 */
export function everyRecordRefused(s: { outcome: string; counts?: Pick<Counts, 'records' | 'rejected'> | null }): boolean {
  return s.outcome === 'ACCEPTED' && !!s.counts && s.counts.records > 0 && s.counts.rejected === s.counts.records;
}
