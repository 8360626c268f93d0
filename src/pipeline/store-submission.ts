/**
 * The submission row of a processed file, in the file's transaction: a result (accepted
 * or rejected) with its rendered XML, or a replay of an earlier accepted file's result.
 */
import type { Db } from '../db/client.ts';
import { insertSubmission, nextSubmissionId, type SubmissionRow } from '../db/submissions.ts';
import { isDryRunId, penceOf, zeroCounts, type FileSummary, type SubmissionResult } from '../domain/result.ts';
import type { FileType } from '../domain/types.ts';
import type { ReceivedFile } from '../inbox/read-file.ts';
import { timed } from '../timings.ts';
import { readResultHead, recordElements } from '../xml/result-reader.ts';
import { renderResult } from '../xml/result-xml.ts';

export interface Processed {
  submissionId: number;
  resultXml: string;
  summary: FileSummary;
  /** READY TO GO records left unassigned because the allocation ran out (W_NO_ALLOCATION). */
  notAssigned?: number;
  /**
   * CAS statements the file's transaction owed to the sponsor's outbox (spec section 11);
   * undefined for a zip, whose entries' transactions owe them.
   */
  statementsOwed?: number;
  /** A zip's result files, container.result.xml first, as the result zip holds them (see result-file.ts). */
  files?: { name: string; text: string }[];
  /** A zip's processed entries, in order (what `validate` describes; not stored). */
  entries?: { name: string; processed: Processed }[];
}

/** Runs in the same transaction that stores the submission (see `PipelineDeps.onStored`). */
type OnStored = ((tx: Db, submissionId: number) => Promise<void>) | undefined;

/** A submission row: what came in (the file), and what became of it. */
function submissionRow(
  file: ReceivedFile,
  r: Pick<SubmissionRow, 'id' | 'fileType' | 'fileId' | 'outcome' | 'replayOf' | 'processedAt' | 'summary' | 'resultXml'>,
): SubmissionRow {
  return {
    ...r,
    sponsorLicenceNumber: file.sponsorLicenceNumber,
    fileName: file.fileName,
    sha256: file.sha256,
    sizeBytes: file.size,
    receivedAt: file.receivedAt,
    resultFile: null,
  };
}

function summaryOf(r: SubmissionResult): FileSummary {
  return {
    submissionId: r.submissionId,
    file: r.fileName,
    sponsorLicenceNumber: r.sponsorLicenceNumber,
    fileType: r.fileType,
    outcome: r.outcome,
    replay: r.replay,
    resultFile: null,
    counts: r.counts,
    fileErrors: r.fileErrors,
    ...(r.container ? { container: r.container } : {}),
  };
}

/**
 * What a dry run reports: the outcome, statuses and expiry dates, but no payment (and its
 * records, rendered with renderRecord's `dryRun`, no CAS number), since none is given.
 */
function wouldBe(result: SubmissionResult): SubmissionResult {
  const { payment: _payment, ...rest } = result;
  return { ...rest, dryRun: true };
}

/** What storeResult stores: the file, its judged result, and how. */
interface ResultToStore {
  file: ReceivedFile;
  result: SubmissionResult;
  /** An accepted file's Record elements, rendered a chunk at a time (see Stored); let go once rendered. */
  recordsXml?: string[];
  onStored: OnStored;
  /** A dry run reports what would be: no payment, no CAS numbers. */
  dryRun?: boolean | undefined;
}

/** Stores a submission row for a result and returns what the caller emits. */
export async function storeResult(db: Db, what: ResultToStore): Promise<Processed> {
  const { processed, written } = sendResult(db, what);
  await timed('submission insert', () => written);
  return processed;
}

/**
 * storeResult's statements sent, not awaited: what the caller emits, known at once, and
 * the writes, which the caller awaits before its commit.
 */
export function sendResult(
  db: Db,
  { file, result: judged, recordsXml = [], onStored, dryRun }: ResultToStore,
): { processed: Processed; written: Promise<unknown> } {
  const result = dryRun ? wouldBe(judged) : judged;
  const resultXml = timed('result xml', () => renderResult(result, recordsXml));
  // The pieces are in resultXml now; let them go before the statement is encoded.
  recordsXml.length = 0;
  const summary = summaryOf(result);
  // Sent together, for one round trip (neither depends on the other; both roll back together).
  const written = Promise.all([
    insertSubmission(
      db,
      submissionRow(file, {
        id: result.submissionId,
        fileType: result.fileType,
        fileId: result.fileId ?? null,
        outcome: result.outcome,
        replayOf: null,
        processedAt: result.processedAt,
        summary,
        resultXml,
      }),
    ),
    onStored?.(db, result.submissionId),
  ]);
  return { processed: { submissionId: result.submissionId, resultXml, summary }, written };
}

export function baseResult(
  file: ReceivedFile,
  submissionId: number,
  fileType: FileType,
  now: Date,
  fileId?: string,
): Omit<SubmissionResult, 'outcome' | 'counts' | 'fileErrors'> {
  return {
    submissionId,
    fileName: file.fileName,
    sha256: file.sha256,
    sponsorLicenceNumber: file.sponsorLicenceNumber,
    fileType,
    ...(fileId !== undefined ? { fileId } : {}),
    receivedAt: file.receivedAt,
    processedAt: now,
    replay: false,
  };
}

/**
 * The result of an earlier accepted file, given again: its submission as stored, with
 * Replay true; its payment as its result gave it (a dry run's names no submission).
 */
function replayOf(earlier: SubmissionRow, dryRun: boolean): SubmissionResult {
  const { payment } = readResultHead(earlier.resultXml);
  return {
    submissionId: earlier.id,
    fileName: earlier.fileName,
    sha256: earlier.sha256,
    sponsorLicenceNumber: earlier.sponsorLicenceNumber,
    fileType: earlier.fileType,
    ...(earlier.fileId !== null ? { fileId: earlier.fileId } : {}),
    receivedAt: earlier.receivedAt,
    processedAt: earlier.processedAt,
    replay: true,
    ...(dryRun ? { dryRun } : {}),
    outcome: 'ACCEPTED',
    // In the order of the result's Summary (a jsonb document keeps no key order).
    counts: { ...zeroCounts(earlier.fileType), ...earlier.summary.counts },
    fileErrors: [],
    ...(payment ? { payment: { ...payment, amountPence: penceOf(payment.amount) } } : {}),
  };
}

/** What storeReplay stores: a copy of an earlier accepted file, as a submission of its own. */
interface ReplayToStore {
  file: ReceivedFile;
  earlier: SubmissionRow;
  now: Date;
  /** The id already taken for this file, if one was (else the sequence's next). */
  submissionId?: number | undefined;
  onStored: OnStored;
}

export async function storeReplay(db: Db, { file, earlier, now, submissionId, onStored }: ReplayToStore): Promise<Processed> {
  const id = submissionId ?? (await nextSubmissionId(db));
  const resultXml = renderResult(replayOf(earlier, isDryRunId(id)), [recordElements(earlier.resultXml)]);
  const summary: FileSummary = { ...earlier.summary, submissionId: id, file: file.fileName, replay: true, resultFile: null };
  await insertSubmission(
    db,
    submissionRow(file, {
      id,
      fileType: earlier.fileType,
      fileId: earlier.fileId,
      outcome: 'ACCEPTED',
      replayOf: earlier.id,
      processedAt: now,
      summary,
      resultXml,
    }),
  );
  await onStored?.(db, id);
  return { submissionId: id, resultXml, summary, statementsOwed: 0 };
}
