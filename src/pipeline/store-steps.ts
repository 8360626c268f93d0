/**
 * Step 9 of each file kind: how its records are stored (the rest of a kind is declared in
 * `src/domain/file-kinds.ts`). The table's type lists every kind, so a kind without a
 * store step is a compile error, never an upload by default.
 */
import type { AssignSettings } from '../db/assign.ts';
import type { Db } from '../db/client.ts';
import type { SponsorRow } from '../db/sponsors.ts';
import type { KnownFileType } from '../domain/file-kinds.ts';
import type { HeapNudge } from '../heap-nudge.ts';
import type { FileSettings } from './deps.ts';
import type { Inspected } from './inspect.ts';
import { storeGraduateReport } from './store-graduates.ts';
import { storeActivityReport } from './store-reports.ts';
import { storeFeeUpdate } from './store-update.ts';
import { storeUpload, UploadStart, type Stored } from './store-upload.ts';

/** What every store step is given: the sponsor (its row locked), the submission being stored, and the pipeline's settings. */
export interface StoreContext {
  sponsor: SponsorRow;
  licence: string;
  submissionId: number;
  now: Date;
  /** When the file was received (a student activity report's dates and lateness count from it). */
  receivedAt: Date;
  settings: AssignSettings & Pick<FileSettings, 'holidays'>;
  onProgress?: ((fraction: number) => void) | undefined;
  /** A large file's garbage is collected between chunks (see heap-nudge.ts). */
  heap?: HeapNudge | undefined;
  /** An upload's first chunk, judged and looked up already (see UploadStart). */
  start?: UploadStart | undefined;
  /**
   * The transaction is a group's, whose writes are awaited before its commit: an upload
   * sends its batch, payment and CAS without waiting for an answer between them (the CAS
   * find the batch and payment by their keys, and their numbers are drawn unchecked, see
   * drawnNumbers). A failure fails the group, whose files are then stored alone.
   */
  pipelined?: boolean | undefined;
}

type StoreStep = (tx: Db, file: Inspected, ctx: StoreContext) => Promise<Stored>;

export const STORE_STEPS: { readonly [K in KnownFileType]: StoreStep } = {
  UPLOAD_GENERAL: storeUpload,
  UPLOAD_CHILD: storeUpload,
  GRADUATE_REPORT: storeGraduateReport,
  UPDATE_FEES: storeFeeUpdate,
  REPORT: storeActivityReport,
};

/** What a kind can do of its storing before its transaction has asked for anything (uploads: see UploadStart). */
export const STORE_STARTS: { readonly [K in KnownFileType]?: (file: Inspected) => Promise<UploadStart> } = {
  UPLOAD_GENERAL: UploadStart.of,
  UPLOAD_CHILD: UploadStart.of,
};
