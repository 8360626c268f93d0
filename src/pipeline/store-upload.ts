/**
 * Step 8 and 9 for uploads, inside the file's transaction: judge each CAS record, store
 * accepted ones (new or amending), READY_TO_GO ones auto-assigned in file order as they
 * are written while the allocation lasts (one payment, completed at the end). Records are
 * parsed and stored a chunk at a time, each chunk's CAS, events and numbers in one
 * statement, the next chunk read while the database writes the last.
 */
import type { SQL } from 'drizzle-orm';
import { closePayment, drawnNumbers, freshNumbers, numberSource, openPayment, type AssignContext } from '../db/assign.ts';
import {
  amendCas,
  batchIdByName,
  findLiveByKeys,
  insertBatch,
  insertCas,
  type AssignAtWrite,
  type CasFields,
  type LiveCas,
  type RecordContext,
} from '../db/cas-records.ts';
import type { Db } from '../db/client.ts';
import { personKey, personsWithUsedCas } from '../db/person.ts';
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
import type { CasRecord, CasStatus, RecordIssue, Route } from '../domain/types.ts';
import type { DocSource } from '../xml/source.ts';
import { parseRecordXml, readCasRecord } from '../xml/record-reader.ts';
import type { ElementSpan } from '../xml/scan.ts';
import type { Inspected } from './inspect.ts';
import { timed } from '../timings.ts';
import type { StoreContext } from './store-steps.ts';

const RECORD_CHUNK = 1000;

export interface Stored {
  counts: Counts;
  /**
   * The result's Record elements, rendered a chunk at a time as soon as the chunk's
   * records are final: a large file's results are held as compact text, not as objects.
   */
  recordsXml: string[];
  payment?: PaymentSummary | undefined;
  /** READY TO GO records left unassigned because the allocation ran out (W_NO_ALLOCATION). */
  notAssigned?: number | undefined;
  /** CAS statements owed to the sponsor's outbox by this transaction (`sponsor set --statements`). */
  statementsOwed?: number | undefined;
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

/** One record of a chunk, parsed and judged by the rules that need nothing stored. */
interface Judged {
  rec: CasRecord;
  key: string;
  issues: RecordIssue[];
  /** A repeat of an earlier record of this file (E_DUPLICATE_IN_FILE). */
  repeat: boolean;
}

type Row = { fields: CasFields; result: RecordResult; casNumber?: string };
type Amend = Row & { id: number; from: CasStatus };

/** What becomes of one chunk's records: new CAS, amended ones, and which of them get a number. */
interface ChunkPlan {
  records: RecordResult[];
  toInsert: Row[];
  toAmend: Amend[];
  toAssign: Row[];
}

/**
 * A promise awaited later, while other work goes on: marked as handled now, so that a
 * rejection before the await is not reported as unhandled (the await still throws it).
 */
function inFlight<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

/**
 * The records of one upload, parsed and judged in file order by the rules that need
 * nothing stored, repeats within the file included. It needs neither the transaction nor
 * the sponsor's row, so a file's first chunk can be judged before either (UploadStart).
 */
class RecordJudge {
  private readonly firstIndexOfKey = new Map<string, number>();
  private index = 0;

  constructor(private readonly route: Route) {}

  judge(text: DocSource, spans: ElementSpan[]): Judged[] {
    return spans.map((span) => {
      const rec = timed('record parse', () => readCasRecord(parseRecordXml(text.slice(span.start, span.end)), ++this.index));
      const key = recordKey(rec);
      const issues = timed('rules', () => judgeRecord(rec, this.route));
      const first = this.firstIndexOfKey.get(key);
      if (first !== undefined) issues.unshift(duplicateInFileIssue(first));
      else this.firstIndexOfKey.set(key, rec.index);
      return { rec, key, issues, repeat: first !== undefined };
    });
  }
}

type LookedUp = { live: Map<string, LiveCas>; studied: Set<string> };

/**
 * The stored CAS of the chunk's keys, and who already has a USED CAS (the progression
 * rule), in one round trip. Records with errors are looked up too: all issues of a record
 * are reported (spec section 5), E_DUPLICATE_CAS with the others; a repeat within the file
 * is E_DUPLICATE_IN_FILE alone. What it sees must be seen under the sponsor's lock, after
 * every earlier write of the transaction.
 */
async function lookUp(tx: Db, licence: string, route: Route, judged: Judged[]): Promise<LookedUp> {
  const unsure = judged.filter((j) => progressionNeedsHistory(j.rec, route)).map((j) => j.rec);
  const keys = judged.filter((j) => !j.repeat).map((j) => j.key);
  const [live, studied] = await timed('db: find live keys', () =>
    Promise.all([findLiveByKeys(tx, licence, keys), unsure.length ? personsWithUsedCas(tx, unsure) : new Set<string>()]),
  );
  return { live, studied };
}

/** A chunk's records loaded and judged. */
async function readChunk(text: DocSource, judge: RecordJudge, spans: ElementSpan[]): Promise<Judged[]> {
  await text.load(spans[0]?.start ?? 0, spans.at(-1)?.end ?? 0);
  return judge.judge(text, spans);
}

/**
 * An upload's first chunk, read and judged before its transaction asks for anything: its
 * look-ups go out with the file's first statements (`send`), right behind the sponsor's
 * lock, which the server grants them after (one round trip for all), and the store step
 * (storeUpload, given it as StoreContext.start) goes on from the second chunk.
 */
export class UploadStart {
  private looked: Promise<LookedUp> | undefined;

  private constructor(
    private readonly route: Route,
    /** The records are read in order with a reader of their own (the engine reads the same file meanwhile). */
    readonly text: DocSource,
    private readonly judge: RecordJudge,
    /** The chunks after the first. */
    readonly rest: Iterator<ElementSpan[]>,
    readonly first: { spans: ElementSpan[]; judged: Judged[] } | undefined,
  ) {}

  /** The upload's first chunk loaded and judged. */
  static async of(file: Inspected): Promise<UploadStart> {
    const route = file.route as Route;
    const text = file.source.fork();
    const judge = new RecordJudge(route);
    const rest = chunks(file);
    const next = rest.next();
    const first = next.done ? undefined : { spans: next.value, judged: await readChunk(text, judge, next.value) };
    return new UploadStart(route, text, judge, rest, first);
  }

  /** A later chunk's records, loaded and judged in file order. */
  read(spans: ElementSpan[]): Promise<Judged[]> {
    return readChunk(this.text, this.judge, spans);
  }

  /** Sends the first chunk's look-ups; the caller has sent the sponsor's lock before them and written nothing of this file yet. */
  send(tx: Db, licence: string): void {
    if (this.first && !this.looked) this.looked = inFlight(lookUp(tx, licence, this.route, this.first.judged));
  }

  /** The look-ups sent by `send`, if they were. */
  sent(): Promise<LookedUp> | undefined {
    return this.looked;
  }
}

/**
 * The upload being stored: the state that runs from one chunk to the next (counts, the
 * allocation left, the payment, the keys seen) and the steps each chunk goes through:
 * judge, look up, plan, assign numbers, write (sent, not awaited), render.
 */
class UploadRun {
  private readonly route: Route;
  private readonly licence: string;
  private readonly assignCtx: AssignContext;
  private readonly randomInt: ReturnType<typeof numberSource>;
  /** A dry run's records are rendered without the CAS numbers its rolled-back rows were given. */
  private readonly dryRun: boolean;
  private readonly expiresOn: string;
  /** The batch row's context, its insert sent with the first chunk's look-ups (one round trip under the sponsor's lock). */
  private readonly batch: Promise<RecordContext>;
  /** In a group's transaction (StoreContext.pipelined): the batch's and payment's inserts, awaited with the last writes. */
  private readonly opened: Promise<unknown>[] = [];
  /** The numbers drawn for this file (StoreContext.pipelined), none given twice. */
  private readonly drawn = new Set<string>();
  /** READY_TO_GO records are assigned in file order as they are stored, while the unused allocation lasts. */
  private unused: number;
  /** The CAS numbers assigned here whose statements the sponsor gets in its outbox. */
  readonly statementsOwed: string[] = [];
  private assigned = 0;
  private payment: { id: number | SQL; reference: string } | undefined;
  /** The last chunk's writes: queries on the transaction run in the order they are sent. */
  private writing: Promise<unknown> = Promise.resolve();
  readonly counts = zeroCounts();
  notAssigned = 0;
  readonly recordsXml: string[] = [];

  constructor(
    private readonly tx: Db,
    file: Inspected,
    private readonly ctx: StoreContext,
  ) {
    this.route = file.route as Route;
    this.licence = ctx.sponsor.licenceNumber;
    const { submissionId, now, settings } = ctx;
    this.assignCtx = { licence: this.licence, now, settings, reason: `assigned by submission ${submissionId}`, submissionId };
    this.randomInt = numberSource(settings);
    this.dryRun = isDryRunId(submissionId);
    this.expiresOn = casExpiry(now, settings.validityMonths);
    this.unused = ctx.sponsor.autoAssign ? Math.max(0, ctx.sponsor.allocationGranted - ctx.sponsor.allocationUsed) : 0;
    const name = file.header.fileId ?? `submission-${submissionId}`;
    const inserted = insertBatch(tx, { licence: this.licence, name, route: this.route, submissionId, now });
    const record = (batchId: RecordContext['batchId']) => ({ licence: this.licence, route: this.route, batchId, submissionId, now });
    if (ctx.pipelined) {
      this.opened.push(inFlight(inserted));
      this.batch = Promise.resolve(record(batchIdByName(this.licence, name)));
    } else this.batch = inFlight(inserted.then(record));
  }

  /** The look-ups of a chunk (lookUp), behind the last chunk's writes. */
  async lookUp(judged: Judged[]): Promise<LookedUp> {
    await this.writing;
    return lookUp(this.tx, this.licence, this.route, judged);
  }

  /** Each record's outcome: rejected, a new CAS or an amended one, and whether the allocation gives it a number. */
  plan(judged: Judged[], { live, studied }: LookedUp): ChunkPlan {
    const plan: ChunkPlan = { records: [], toInsert: [], toAmend: [], toAssign: [] };
    for (const { rec, key, issues, repeat } of judged) {
      const found = repeat ? undefined : live.get(key);
      if (found && (found.status === 'ASSIGNED' || found.status === 'USED')) issues.unshift(duplicateCasIssue(found.casNumber));
      if (progressionNeedsHistory(rec, this.route) && studied.has(personKey(rec))) issues.push(progressionFromHistoryIssue());
      const result: RecordResult = { index: rec.index, applicantId: rec.applicantId, outcome: 'REJECTED', issues };
      plan.records.push(result);
      if (hasErrors(issues)) continue;
      const status: CasStatus = hasWarnings(issues) ? 'WORK_IN_PROGRESS' : 'READY_TO_GO';
      result.status = status;
      const warnings = issues.map((i) => ({ code: i.code, field: i.field ?? null, message: i.message }));
      const row: Row = { fields: fieldsOf(rec, key, status, warnings), result };
      // Only a record without errors amends the unassigned CAS it matches.
      if (found) {
        result.outcome = 'AMENDED';
        plan.toAmend.push(Object.assign(row, { id: found.id, from: found.status }));
      } else {
        result.outcome = 'CREATED';
        plan.toInsert.push(row);
      }
      if (status === 'READY_TO_GO' && this.ctx.sponsor.autoAssign) {
        if (this.unused > 0) {
          this.unused--;
          plan.toAssign.push(row);
        } else {
          issues.push(noAllocationIssue());
          this.notAssigned++;
        }
      }
    }
    return plan;
  }

  /**
   * Fresh numbers for the records to assign, and the upload's payment opened with the first:
   * one statement, awaited. In a group's transaction (StoreContext.pipelined), numbers drawn
   * unchecked and the payment opened by a statement not waited for.
   */
  async assignNumbers(toAssign: Row[]): Promise<void> {
    if (!toAssign.length) return;
    if (this.ctx.pipelined) {
      const numbers = drawnNumbers(this.route, toAssign.length, this.randomInt, this.drawn);
      toAssign.forEach((r, i) => (r.casNumber = numbers[i]!));
      if (!this.payment) {
        const opened = openPayment(this.tx, this.assignCtx);
        this.opened.push(opened.written);
        this.payment = opened.payment;
      }
      return;
    }
    const { numbers, payment } = await timed('db: assign', () =>
      freshNumbers(
        this.tx,
        toAssign.map(() => this.route),
        this.randomInt,
        this.payment ? undefined : this.assignCtx,
      ),
    );
    toAssign.forEach((r, i) => (r.casNumber = numbers[i]!));
    this.payment ??= payment;
  }

  /**
   * Sends the chunk's inserts and amendments and does not wait for them: the next chunk is
   * read and judged while the database writes this one, and its look-ups, sent behind
   * these writes on the same transaction, see their rows.
   */
  async write(plan: ChunkPlan): Promise<void> {
    const record = await this.batch;
    const assign: AssignAtWrite | undefined = this.payment && {
      paymentId: this.payment.id,
      expiresOn: this.expiresOn,
      reason: this.assignCtx.reason,
    };
    this.writing = inFlight(
      Promise.all([
        timed('db: insert cas and events', () => insertCas(this.tx, plan.toInsert, record, assign)),
        plan.toAmend.length ? timed('db: amend cas', () => amendCas(this.tx, plan.toAmend, record, assign)) : undefined,
      ]),
    );
    for (const r of plan.toAssign) {
      r.result.status = 'ASSIGNED';
      r.result.casNumber = r.casNumber!;
      r.result.expiryDate = this.expiresOn;
      if (this.ctx.sponsor.statements) this.statementsOwed.push(r.casNumber!);
    }
    this.assigned += plan.toAssign.length;
  }

  /** The chunk's records are final: counted and rendered now, not kept. */
  render(records: RecordResult[]): void {
    this.recordsXml.push(
      timed('result xml', () => records.map((r) => (countRecord(this.counts, r), renderRecord(r, this.dryRun))).join('')),
    );
  }

  /**
   * The payment closed and the statements owed, sent behind the last chunk's writes (queries
   * on the transaction run in order); returns what is still being written.
   */
  async finish(): Promise<{ written: Promise<unknown>; payment: PaymentSummary | undefined }> {
    // An upload without records still has its batch.
    await this.batch;
    const paid = this.payment ? closePayment(this.tx, this.payment, this.assigned, this.assignCtx) : undefined;
    // The sponsor's statements of these CAS are owed from this same transaction (spec section 11).
    const owed = this.statementsOwed.length ? queueStatements(this.tx, this.licence, this.statementsOwed, this.ctx.now) : undefined;
    const written = inFlight(Promise.all([...this.opened, this.writing, paid && timed('db: assign', () => paid.written), owed]));
    return { written, payment: paid?.summary };
  }
}

export async function storeUpload(tx: Db, file: Inspected, ctx: StoreContext): Promise<Stored> {
  const start = ctx.start ?? (await UploadStart.of(file));
  // The first look-ups, when they went out with the file's first statements, are answered
  // before the batch row is sent: it then goes out with the numbers' look-up.
  const early = await start.sent();
  const run = new UploadRun(tx, file, ctx);
  const { text } = start;
  // The file failed validation meanwhile: the caller rolls back and reports why.
  const stillValid = () => {
    if (file.schemaFailed?.()) throw new Error('the file failed XSD validation while it was being stored');
  };
  const storeChunk = async (spans: ElementSpan[], judged: Judged[], looked: LookedUp) => {
    const plan = run.plan(judged, looked);
    await run.assignNumbers(plan.toAssign);
    await run.write(plan);
    run.render(plan.records);
    const last = spans[spans.length - 1];
    if (last) ctx.onProgress?.(last.end / text.byteLength);
  };
  if (start.first) {
    stillValid();
    const { spans, judged } = start.first;
    await storeChunk(spans, judged, early ?? (await run.lookUp(judged)));
  }
  for (let next = start.rest.next(); !next.done; next = start.rest.next()) {
    const spans = next.value;
    stillValid();
    ctx.heap?.between();
    const judged = await start.read(spans);
    await storeChunk(spans, judged, await run.lookUp(judged));
  }
  const { written, payment } = await run.finish();
  ctx.onProgress?.(1);
  return {
    counts: run.counts,
    recordsXml: run.recordsXml,
    written,
    payment,
    notAssigned: run.notAssigned,
    statementsOwed: run.statementsOwed.length,
  };
}
