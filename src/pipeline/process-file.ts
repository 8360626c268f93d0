/**
 * processFile: one received file -> one stored submission with its result XML.
 * The same pipeline serves `cas-bdt process` and the watch service (spec section 4).
 */
import { lockSponsor } from '../db/sponsors.ts';
import { findAccepted, getSubmission, lookUpAccepted, type AcceptedLookUp } from '../db/submissions.ts';
import { zeroCounts } from '../domain/result.ts';
import type { FileError, FileType } from '../domain/types.ts';
import type { SponsorRow } from '../db/sponsors.ts';
import { verifyUnchanged, type ReceivedFile } from '../inbox/read-file.ts';
import { timed } from '../timings.ts';
import { HeapNudge } from '../heap-nudge.ts';
import { xmlSafe } from '../xml/xml-safe.ts';
import { letGo } from '../inbox/file-bytes.ts';
import { dryRunSubmissionId, fileTransaction, takeSubmissionId } from './dry-run.ts';
import { headerErrors } from './header.ts';
import { inspectFile, type Inspected, type Inspection } from './inspect.ts';

export { scanAhead } from './inspect.ts';
import type { PipelineDeps } from './deps.ts';
import { isZip } from '../inbox/zip-reader.ts';
import { processContainer } from './process-container.ts';
import type { ContainerSummary } from '../domain/result.ts';
import type { Db } from '../db/client.ts';
import { baseResult, sendResult, storeReplay, storeResult, type Processed } from './store-submission.ts';
import { STORE_STARTS, STORE_STEPS } from './store-steps.ts';
import type { UploadStart } from './store-upload.ts';
import { FILE_KINDS, type FileKind } from '../domain/file-kinds.ts';

export type { Processed } from './store-submission.ts';

export type { FileSettings, PipelineDeps } from './deps.ts';

/** What a refused file's submission records. */
interface Refusal {
  errors: FileError[];
  fileType: FileType;
  fileId?: string | undefined;
  /** The submission id already taken for this file, if one was. */
  submissionId?: number | undefined;
  /** A zip refused as a whole. */
  container?: ContainerSummary;
}

/** Stores `file` as REJECTED, in a transaction of its own. */
async function storeRefusal(deps: PipelineDeps, file: ReceivedFile, refusal: Refusal): Promise<Processed> {
  const now = clockOf(deps)();
  // Messages may quote a hostile file: NUL can be neither stored in jsonb nor written in XML.
  const errors = refusal.errors.map((e) => ({ ...e, message: xmlSafe(e.message) }));
  return fileTransaction(deps, async (tx) => {
    const id = refusal.submissionId ?? (await takeSubmissionId(tx, deps.dryRun));
    // What was found in a large file read twice is stored only if it is still that file.
    await verifyUnchanged(file);
    const result = {
      ...baseResult(file, id, refusal.fileType, now, refusal.fileId),
      outcome: 'REJECTED' as const,
      counts: zeroCounts(refusal.fileType),
      fileErrors: errors,
      ...(refusal.container ? { container: refusal.container } : {}),
    };
    return { ...(await storeResult(tx, { file, result, onStored: deps.onStored, dryRun: deps.dryRun })), statementsOwed: 0 };
  });
}

const clockOf = (deps: PipelineDeps) => deps.clock ?? (() => new Date());

/**
 * Stores `file` as REJECTED with `errors` without looking at its content: for what the
 * service decides about a file itself (a refused name, a file set aside after faults).
 */
export async function rejectFile(deps: PipelineDeps, file: ReceivedFile, errors: FileError[]): Promise<Processed> {
  return storeRefusal(deps, file, { errors, fileType: 'UNKNOWN' });
}

/**
 * A file refused once its storing transaction has begun: a header that does not fit the
 * sponsor, a file id already used, a schema violation found while its records were stored.
 * It is always thrown, never returned, so the transaction rolls back whatever the file's
 * records had written (and releases the sponsor's lock); the refusal is then stored by
 * storeRefusal in a transaction of its own, under the submission id already taken (a
 * sequence's values outlive a rollback, so that id is never given to another file).
 */
class Refused extends Error {
  constructor(
    readonly errors: FileError[],
    readonly submissionId: number,
  ) {
    super(errors[0]?.message ?? 'refused');
  }
}

/**
 * What a failure of the storing transaction means. A schema violation comes first,
 * whatever else was found meanwhile: storing a file that does not validate may fail in
 * ways of its own (the transaction was rolled back either way). Anything else is not the
 * file's fault and is thrown on (the service retries the file).
 */
async function refusalOf(err: unknown, inspected: Inspected): Promise<Refusal> {
  const submissionId = err instanceof Refused ? err.submissionId : undefined;
  const verdict = await inspected.schema;
  if (verdict && !verdict.ok) return { errors: verdict.errors, fileType: verdict.fileType, fileId: verdict.fileId, submissionId };
  if (err instanceof Refused) return { errors: err.errors, fileType: inspected.fileType, fileId: inspected.header.fileId, submissionId };
  throw err;
}

/** Refusals decided from the file's size alone, before anything is read. */
function refusedUnread(deps: PipelineDeps, file: ReceivedFile): FileError | undefined {
  if (file.size > deps.settings.maxFileBytes) {
    const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
    return { code: 'E_FILE_TOO_LARGE', message: `the file is ${mb(file.size)} MB; the limit is ${mb(deps.settings.maxFileBytes)} MB` };
  }
  if (file.size === 0 || !file.bytes) return { code: 'E_NOT_WELL_FORMED', message: 'the file is empty (zero bytes)' };
  return undefined;
}

/** Idempotent replay: an accepted file's copy gets the earlier result again, Replay true, as a submission of its own. */
async function replayIfAccepted(deps: PipelineDeps, file: ReceivedFile): Promise<Processed | undefined> {
  const earlier = await findAccepted(deps.db, file.sponsorLicenceNumber, file.sha256);
  if (!earlier) return undefined;
  const submissionId = deps.dryRun ? dryRunSubmissionId() : undefined;
  return fileTransaction(deps, (tx) => storeReplay(tx, { file, earlier, now: clockOf(deps)(), submissionId, onStored: deps.onStored }));
}

/**
 * Files up to this size are validated before anything is asked of the database: one
 * that passes is looked up as a replay under the sponsor's lock anyway.
 */
const VALIDATE_FIRST_BYTES = 1 << 20;

/** The sponsor, locked for the transaction, and what is looked up under its lock. */
interface Locked {
  sponsor: SponsorRow;
  /** An accepted file with these bytes (a concurrent copy of this file may have won). */
  again: Awaited<ReturnType<typeof findAccepted>>;
  /** An accepted file of the same kind with this file's id. */
  sameId: AcceptedLookUp['sameId'];
  /** The id every outcome of this file is stored under. */
  submissionId: number;
}

/**
 * Locks the sponsor and looks up, in one statement sent behind the lock (one round trip
 * for both), the accepted files this one may repeat, taking its id too. The server runs a
 * transaction's statements in order, each seeing what was committed before it began: the
 * look-up sees every file committed while the lock was awaited. A copy that won is read
 * whole only then.
 */
async function lockAndLookUp(
  tx: Db,
  deps: PipelineDeps,
  file: ReceivedFile,
  kind: FileKind,
  fileId: string | undefined,
  start: UploadStart | undefined,
): Promise<Locked> {
  const licence = file.sponsorLicenceNumber;
  const byFileId = kind.fileIdGroup !== undefined && fileId !== undefined ? { group: kind.fileIdGroup, id: fileId } : undefined;
  const both = Promise.all([
    lockSponsor(tx, licence),
    lookUpAccepted(tx, licence, { sha256: file.sha256, fileId: byFileId, takeId: !deps.dryRun }),
  ]);
  // The records' look-ups go out in the same round trip, behind the lock: the server runs
  // them once it is granted (or at once, in a group's transaction, which holds it already).
  start?.send(tx, licence);
  const [sponsor, found] = await both;
  if (!sponsor) throw new Error(`sponsor ${licence} is not registered`);
  const again = found.againId === undefined ? undefined : await getSubmission(tx, found.againId);
  const submissionId = deps.dryRun ? dryRunSubmissionId() : found.nextId!;
  return { sponsor, again, sameId: found.sameId, submissionId };
}

/** What stops a file that validated from being stored for this sponsor: its header, or a file id already used. */
function headerRefusal(inspected: Inspected, file: ReceivedFile, kind: FileKind, locked: Locked): FileError[] {
  const errors = headerErrors(inspected, locked.sponsor, file.sponsorLicenceNumber, file.via);
  if (errors.length || !locked.sameId) return errors;
  const { id, fileName } = locked.sameId;
  return [
    {
      code: 'E_DUPLICATE_FILE_ID',
      message: `${kind.fileIdElement} "${inspected.header.fileId}" was already used by accepted submission ${id} (${fileName}); give each new file a new id`,
    },
  ];
}

/**
 * The storing transaction of an inspected file: the sponsor locked, a replay if a copy
 * won meanwhile, else the header checked, the records stored by the kind's store step, the
 * schema verdict awaited (nothing is committed unless the whole file validated) and the
 * accepted submission stored. A refusal is thrown (see Refused).
 */
async function storeInspected(deps: PipelineDeps, file: ReceivedFile, inspected: Inspected): Promise<Processed> {
  const clock = clockOf(deps);
  const kind = FILE_KINDS[inspected.fileType];
  const fileId = inspected.header.fileId;
  const start = await STORE_STARTS[inspected.fileType]?.(inspected);
  return fileTransaction(deps, async (tx) => {
    const locked = await lockAndLookUp(tx, deps, file, kind, fileId, start);
    const { sponsor, submissionId } = locked;
    if (locked.again) return storeReplay(tx, { file, earlier: locked.again, now: clock(), submissionId, onStored: deps.onStored });
    const refusal = headerRefusal(inspected, file, kind, locked);
    if (refusal.length) throw new Refused(refusal, submissionId);

    const now = clock();
    const heap = file.open && !deps.settings.noHeapNudge ? new HeapNudge() : undefined;
    const stored = await STORE_STEPS[inspected.fileType](tx, inspected, {
      sponsor,
      licence: sponsor.licenceNumber,
      submissionId,
      now,
      onProgress: deps.onProgress,
      settings: deps.settings,
      receivedAt: file.receivedAt,
      heap,
      start,
      // A group's transaction (its writes awaited late, before its commit): see StoreContext.pipelined.
      pipelined: deps.lateWrites !== undefined,
    });
    const verdict = await inspected.schema;
    if (verdict && !verdict.ok) throw new Refused(verdict.errors, submissionId);
    // The result is rendered and sent next, the largest allocations of all: the records' garbage goes first.
    heap?.between(0);
    const result = {
      ...baseResult(file, submissionId, inspected.fileType, now, fileId),
      processedAt: clock(),
      outcome: 'ACCEPTED' as const,
      counts: stored.counts,
      fileErrors: [],
      ...(stored.payment ? { payment: stored.payment } : {}),
    };
    // The submission's statements go out behind the last writes of the records, which may
    // still be on their way: one round trip for all, then the commit (or, in a group, the
    // next file's first statements: see PipelineDeps.lateWrites).
    const { processed, written } = sendResult(tx, {
      file,
      result,
      recordsXml: stored.recordsXml,
      onStored: deps.onStored,
      dryRun: deps.dryRun,
    });
    const writes = Promise.all([stored.written, timed('submission insert', () => written)]);
    if (deps.lateWrites) deps.lateWrites(writes);
    else await writes;
    // A large file was read twice (scanned, then its records): nothing is committed unless it is still the same file.
    await verifyUnchanged(file);
    return {
      ...processed,
      ...(stored.notAssigned ? { notAssigned: stored.notAssigned } : {}),
      statementsOwed: stored.statementsOwed ?? 0,
    };
  });
}

/** The inspection of a small file, started ahead of its turn (a group's files are validated side by side). */
export const inspectAhead = (deps: PipelineDeps, file: ReceivedFile): Promise<Inspection> | undefined =>
  file.bytes && !refusedUnread(deps, file) && !isZip(file.bytes) && file.size <= VALIDATE_FIRST_BYTES
    ? inspectFile(file.bytes, { validate: deps.validate, timeoutMs: deps.settings.validateTimeoutMs })
    : undefined;

/**
 * Runs the whole pipeline for one file; stores the submission; returns the result to emit.
 * `ahead` is the file's inspection from inspectAhead, if it was started already.
 */
export async function processFile(deps: PipelineDeps, file: ReceivedFile, ahead?: Promise<Inspection>): Promise<Processed> {
  const unread = refusedUnread(deps, file);
  if (unread || !file.bytes) return storeRefusal(deps, file, { errors: unread ? [unread] : [], fileType: 'UNKNOWN' });

  // A zip, whatever its name (spec section 4a): its entries go through this pipeline one by one.
  if (isZip(file.bytes)) {
    return processContainer(deps, file, {
      processEntry: processFile,
      refuse: (errors) => storeRefusal(deps, file, { errors, fileType: 'UNKNOWN', container: { entries: null } }),
    });
  }

  // A replay is a replay whatever its validation says now, and a large one is not validated
  // again. A small file is validated first, and looked up here only if it was refused.
  const validateFirst = file.size <= VALIDATE_FIRST_BYTES;
  if (!validateFirst) {
    const replayed = await replayIfAccepted(deps, file);
    if (replayed) return replayed;
  }
  // A large file's schema verdict comes later: validation runs in the engine threads while its records are stored.
  // A large file is read from its open handle after the safety pass (its bytes are let go below).
  const inspection = await (ahead ??
    inspectFile(file.bytes, {
      deferSchema: !validateFirst,
      fd: file.open?.handle.fd,
      validate: deps.validate,
      timeoutMs: deps.settings.validateTimeoutMs,
    }));
  if (!inspection.ok) {
    const { errors, fileType, fileId } = inspection;
    return (validateFirst && (await replayIfAccepted(deps, file))) || storeRefusal(deps, file, { errors, fileType, fileId });
  }
  if (file.open) {
    // A large file is read from its handle from here on: its bytes are let go, so it is not held at all.
    letGo(file.bytes);
    file.bytes = undefined;
  }
  try {
    return await timed('db transaction (all of the storing)', () => storeInspected(deps, file, inspection.file));
  } catch (err) {
    return storeRefusal(deps, file, await refusalOf(err, inspection.file));
  }
}
