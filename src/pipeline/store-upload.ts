/**
 * Step 8 and 9 for uploads, inside the file's transaction: judge each CAS record, store
 * accepted ones (new or amending), READY_TO_GO ones auto-assigned in file order as they
 * are written while the allocation lasts (one payment, completed at the end). Records are
 * parsed and stored a chunk at a time, each chunk's CAS, events and numbers in one
 * statement, the next chunk read while the database writes the last.
 */
import { closePayment, freshNumbers, numberSource, openPayment, type AssignContext, type AssignSettings } from '../db/assign.ts';
import {
  amendCas,
  findLiveByKeys,
  insertBatch,
  insertCas,
  type AssignAtWrite,
  type CasFields,
  type RecordContext,
} from '../db/cas-records.ts';
import type { Db } from '../db/client.ts';
import { personKey, personsWithUsedCas } from '../db/person.ts';
import type { SponsorRow } from '../db/sponsors.ts';
import { queueStatements } from '../db/statements.ts';
import { casExpiry } from '../domain/assignment.ts';
import { countRecord, isDryRunId, zeroCounts, type Counts, type PaymentSummary, type RecordResult } from '../domain/result.ts';
import { renderRecord } from '../xml/result-xml.ts';
import {
  duplicateCasIssue,
  duplicateInFileIssue,
  hasErrors,
  hasWarnings,
  judgeRecord,
  progressionFromHistoryIssue,
  progressionNeedsHistory,
  noAllocationIssue,
  recordKey,
} from '../domain/rules.ts';
import type { CasRecord, CasStatus, Route } from '../domain/types.ts';
import { parseRecordXml, readCasRecord } from '../xml/record-reader.ts';
import type { ElementSpan } from '../xml/scan.ts';
import type { Inspected } from './inspect.ts';
import { timed } from '../timings.ts';
import type { HeapNudge } from '../heap-nudge.ts';

const RECORD_CHUNK = 1000;

export interface Stored {
  counts: Counts;
  /**
   * The result's Record elements, rendered a chunk at a time as soon as the chunk's
   * records are final: a large file's results are held as compact text, not as objects.
   */
  recordsXml: string[];
  payment?: PaymentSummary;
  /** READY TO GO records left unassigned because the allocation ran out (W_NO_ALLOCATION). */
  notAssigned?: number;
  /** The last writes, sent but not yet awaited: the caller sends its own behind them and awaits all before committing. */
  written?: Promise<unknown>;
}

function fieldsOf(rec: CasRecord, key: string, status: CasStatus, warnings: unknown): CasFields {
  return {
    recordIndex: rec.index,
    status,
    recordKey: key,
    applicantId: rec.applicantId,
    familyName: rec.familyName,
    givenName: rec.givenName ?? null,
    nationality: rec.nationality,
    passportNumber: rec.passportNumber,
    dateOfBirth: rec.dateOfBirth.value,
    courseTitle: rec.courseTitle,
    courseId: rec.courseId ?? null,
    courseStartDate: rec.courseStartDate,
    expectedCourseEndDate: rec.expectedCourseEndDate,
    data: rec.raw,
    warnings,
  };
}

/** Yields the CAS element spans a chunk at a time. */
function* chunks(file: Inspected): Generator<ElementSpan[]> {
  let chunk: ElementSpan[] = [];
  for (const span of file.children) {
    if (span.local !== 'CAS') continue;
    chunk.push(span);
    if (chunk.length >= RECORD_CHUNK) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length) yield chunk;
}

export async function storeUpload(
  tx: Db,
  file: Inspected,
  sponsor: SponsorRow,
  opts: {
    submissionId: number;
    now: Date;
    settings: AssignSettings;
    onProgress?: ((fraction: number) => void) | undefined;
    /** A large file's garbage is collected between chunks (see heap-nudge.ts). */
    heap?: HeapNudge | undefined;
  },
): Promise<Stored> {
  const route = file.route as Route;
  const licence = sponsor.licenceNumber;
  // Sent with the first chunk's look-ups (one round trip under the sponsor's lock, not two); awaited before the first write.
  const batching = insertBatch(tx, {
    licence,
    name: file.header.fileId ?? `submission-${opts.submissionId}`,
    route,
    submissionId: opts.submissionId,
    now: opts.now,
  });
  batching.catch(() => {}); // awaited below; a failure must not count as unhandled meanwhile
  let ctx: RecordContext | undefined;
  const assignCtx: AssignContext = {
    licence,
    now: opts.now,
    settings: opts.settings,
    reason: `assigned by submission ${opts.submissionId}`,
    submissionId: opts.submissionId,
  };
  const randomInt = numberSource(opts.settings);
  // A dry run's records are rendered without the CAS numbers its rolled-back rows were given.
  const dryRun = isDryRunId(opts.submissionId);
  const expiresOn = casExpiry(opts.now, opts.settings.validityMonths);
  // READY_TO_GO records are assigned in file order as they are stored, while the unused allocation lasts.
  let unused = sponsor.autoAssign ? Math.max(0, sponsor.allocationGranted - sponsor.allocationUsed) : 0;
  /** The CAS numbers assigned here whose statements the sponsor gets in its outbox. */
  const statementsOwed: string[] = [];
  let assignedCount = 0;
  let payment: { id: number; reference: string } | undefined;

  const counts = zeroCounts();
  let notAssigned = 0;
  const recordsXml: string[] = [];
  const firstIndexOfKey = new Map<string, number>();
  let index = 0;

  let writing: Promise<unknown> = Promise.resolve();
  // The records are read in order with a reader of their own (the engine reads the same file meanwhile).
  const text = file.source.fork();
  for (const spans of chunks(file)) {
    // The file failed validation meanwhile: the caller rolls back and reports why.
    if (file.schemaFailed?.()) throw new Error('the file failed XSD validation while it was being stored');
    opts.heap?.between();
    await text.load(spans[0]?.start ?? 0, spans.at(-1)?.end ?? 0);
    const judged = spans.map((span) => {
      index++;
      const rec = timed('record parse', () => readCasRecord(parseRecordXml(text.slice(span.start, span.end)), index));
      const key = recordKey(rec);
      const issues = timed('rules', () => judgeRecord(rec, route));
      const first = firstIndexOfKey.get(key);
      if (first !== undefined) issues.unshift(duplicateInFileIssue(first));
      else firstIndexOfKey.set(key, rec.index);
      return { rec, key, issues, repeat: first !== undefined };
    });
    await writing;
    // Records with errors are looked up too: all issues of a record are reported (spec section 5),
    // E_DUPLICATE_CAS with the others. A repeat within the file is E_DUPLICATE_IN_FILE alone.
    // Who already has a USED CAS, for the progression rule: sent with the key look-ups (one round trip).
    const unsure = judged.filter((j) => progressionNeedsHistory(j.rec, route)).map((j) => j.rec);
    const [live, studied] = await timed('db: find live keys', () =>
      Promise.all([
        findLiveByKeys(
          tx,
          licence,
          judged.filter((j) => !j.repeat).map((j) => j.key),
        ),
        unsure.length ? personsWithUsedCas(tx, unsure) : new Set<string>(),
      ]),
    );

    const toInsert: { fields: CasFields; result: RecordResult; casNumber?: string }[] = [];
    const toAmend: { id: number; from: CasStatus; fields: CasFields; result: RecordResult; casNumber?: string }[] = [];
    const toAssign: { result: RecordResult; casNumber?: string }[] = [];
    const records: RecordResult[] = [];
    for (const { rec, key, issues, repeat } of judged) {
      const found = repeat ? undefined : live.get(key);
      if (found && (found.status === 'ASSIGNED' || found.status === 'USED')) issues.unshift(duplicateCasIssue(found.casNumber));
      if (progressionNeedsHistory(rec, route) && studied.has(personKey(rec))) issues.push(progressionFromHistoryIssue());
      // Only a record without errors amends the unassigned CAS it matches.
      const existing = hasErrors(issues) ? undefined : found;
      const result: RecordResult = { index: rec.index, applicantId: rec.applicantId, outcome: 'REJECTED', issues };
      records.push(result);
      if (hasErrors(issues)) continue;
      const status: CasStatus = hasWarnings(issues) ? 'WORK_IN_PROGRESS' : 'READY_TO_GO';
      result.status = status;
      const warnings = issues.map((i) => ({ code: i.code, field: i.field ?? null, message: i.message }));
      const fields = fieldsOf(rec, key, status, warnings);
      const row = existing ? { id: existing.id, from: existing.status, fields, result } : { fields, result };
      if (existing) {
        result.outcome = 'AMENDED';
        toAmend.push(row as (typeof toAmend)[number]);
      } else {
        result.outcome = 'CREATED';
        toInsert.push(row);
      }
      if (status === 'READY_TO_GO' && sponsor.autoAssign) {
        if (unused > 0) {
          unused--;
          toAssign.push(row);
        } else {
          issues.push(noAllocationIssue());
          notAssigned++;
        }
      }
    }

    if (toAssign.length) {
      // The numbers' look-up and the payment are independent: one round trip.
      const [numbers, opened] = await timed('db: assign', () =>
        Promise.all([
          freshNumbers(
            tx,
            toAssign.map(() => route),
            randomInt,
          ),
          payment ?? openPayment(tx, assignCtx),
        ]),
      );
      toAssign.forEach((r, i) => (r.casNumber = numbers[i]!));
      payment = opened;
    }
    ctx ??= { licence, route, batchId: await batching, submissionId: opts.submissionId, now: opts.now };
    const assign: AssignAtWrite | undefined = payment ? { paymentId: payment.id, expiresOn, reason: assignCtx.reason } : undefined;
    // Not awaited here: the next chunk is read and judged while the database writes this one.
    // Queries on the transaction run in the order they are sent, so the next chunk's look-ups see these rows.
    const write = Promise.all([
      timed('db: insert cas and events', () => insertCas(tx, toInsert, ctx!, assign)),
      toAmend.length ? timed('db: amend cas', () => amendCas(tx, toAmend, ctx!, assign)) : undefined,
    ]);
    write.catch(() => {}); // awaited below; a failure must not count as unhandled meanwhile
    writing = write;
    for (const r of toAssign) {
      r.result.status = 'ASSIGNED';
      r.result.casNumber = r.casNumber!;
      r.result.expiryDate = expiresOn;
    }
    assignedCount += toAssign.length;
    if (sponsor.statements) for (const r of toAssign) statementsOwed.push(r.casNumber!);
    // This chunk's records are final: counted and rendered now, not kept.
    recordsXml.push(timed('result xml', () => records.map((r) => (countRecord(counts, r), renderRecord(r, dryRun))).join('')));
    const last = spans[spans.length - 1];
    if (last) opts.onProgress?.(last.end / text.byteLength);
  }

  // An upload without records still has its batch.
  await batching;
  // The payment is closed behind the last chunk's write, not after it: queries on the transaction run in order.
  const paid = payment ? closePayment(tx, payment, assignedCount, assignCtx) : undefined;
  // The sponsor's statements of these CAS are owed from this same transaction (spec section 11).
  const owed = statementsOwed.length ? queueStatements(tx, licence, statementsOwed, opts.now) : undefined;
  const written = Promise.all([writing, paid && timed('db: assign', () => paid.written), owed]);
  written.catch(() => {}); // awaited by the caller, with the submission's own statements
  opts.onProgress?.(1);
  return { counts, recordsXml, written, ...(paid ? { payment: paid.summary } : {}), ...(notAssigned ? { notAssigned } : {}) };
}
