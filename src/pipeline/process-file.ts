/**
 * processFile: one received file -> one stored submission with its result XML.
 * The same pipeline serves `cas-bdt process` and the watch service (spec section 4).
 */
import { lockSponsor } from '../db/sponsors.ts';
import { findAccepted, findAcceptedByFileId, type SubmissionRow } from '../db/submissions.ts';
import { zeroCounts } from '../domain/result.ts';
import type { FileError, FileType } from '../domain/types.ts';
import { verifyUnchanged, type ReceivedFile } from '../inbox/read-file.ts';
import { timed } from '../timings.ts';
import { HeapNudge } from '../heap-nudge.ts';
import { xmlSafe } from '../xml/xml-safe.ts';
import { letGo } from '../inbox/file-bytes.ts';
import { dryRunSubmissionId, inTransaction, takeSubmissionId } from './dry-run.ts';
import { headerErrors } from './header.ts';
import { inspectFile, type Inspected } from './inspect.ts';
import type { PipelineDeps } from './deps.ts';
import { isZip } from '../inbox/zip-reader.ts';
import { processContainer } from './process-container.ts';
import type { ContainerSummary } from '../domain/result.ts';
import { baseResult, storeReplay, storeResult, type Processed } from './store-submission.ts';
import { STORE_STEPS } from './store-steps.ts';
import { FILE_KINDS } from '../domain/file-kinds.ts';

export type { Processed } from './store-submission.ts';

export type { FileSettings, PipelineDeps } from './deps.ts';

/** `id`: the submission id already taken for this file, if one was. */
async function reject(
  deps: PipelineDeps,
  file: ReceivedFile,
  found: FileError[],
  fileType: FileType,
  now: Date,
  fileId?: string,
  id?: number,
  container?: ContainerSummary,
): Promise<Processed> {
  // Messages may quote a hostile file: NUL can be neither stored in jsonb nor written in XML.
  const errors = found.map((e) => ({ ...e, message: xmlSafe(e.message) }));
  return inTransaction(deps.db, deps.dryRun, async (tx) => {
    id ??= await takeSubmissionId(tx, deps.dryRun);
    // What was found in a large file read twice is stored only if it is still that file.
    await verifyUnchanged(file);
    return storeResult(
      tx,
      file,
      {
        ...baseResult(file, id, fileType, now, fileId),
        outcome: 'REJECTED',
        counts: zeroCounts(fileType),
        fileErrors: errors,
        ...(container ? { container } : {}),
      },
      deps.onStored,
      [],
      deps.dryRun,
    );
  });
}

/**
 * Stores `file` as REJECTED with `errors` without looking at its content: for what the
 * service decides about a file itself (a refused name, a file set aside after faults).
 */
export async function rejectFile(deps: PipelineDeps, file: ReceivedFile, errors: FileError[]): Promise<Processed> {
  return reject(deps, file, errors, 'UNKNOWN', (deps.clock ?? (() => new Date()))());
}

/** Idempotent replay: the earlier result, re-emitted with Replay true, as a submission of its own. */
async function replay(deps: PipelineDeps, file: ReceivedFile, earlier: SubmissionRow, now: Date): Promise<Processed> {
  return inTransaction(deps.db, deps.dryRun, (tx) =>
    storeReplay(tx, deps.onStored, file, earlier, now, deps.dryRun ? dryRunSubmissionId() : undefined),
  );
}

class RejectInTx {
  constructor(
    readonly errors: FileError[],
    readonly submissionId?: number,
  ) {}
}

/** A failure while storing a file that turns out not to validate is explained by the schema verdict (the transaction was rolled back). */
async function explainedBySchema<T>(file: Inspected, storing: Promise<T>): Promise<T | RejectInTx> {
  try {
    return await storing;
  } catch (err) {
    const verdict = await file.schema;
    if (verdict && !verdict.ok) return new RejectInTx(verdict.errors);
    throw err;
  }
}

/**
 * Files up to this size are validated before anything is asked of the database: one
 * that passes is looked up as a replay under the sponsor's lock anyway.
 */
const VALIDATE_FIRST_BYTES = 1 << 20;

/**
 * A dry run takes no id from the sequence, which would leave gaps in the real ids: its
 * rolled-back rows get a negative id of their own, never a stored submission's (a clash
 * of two dry runs would only make the second wait for the first's rollback).
 */

/** Runs the whole pipeline for one file; stores the submission; returns the result to emit. */
export async function processFile(deps: PipelineDeps, file: ReceivedFile): Promise<Processed> {
  const clock = deps.clock ?? (() => new Date());
  const { db } = deps;

  if (file.size > deps.settings.maxFileBytes) {
    const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
    return reject(
      deps,
      file,
      [{ code: 'E_FILE_TOO_LARGE', message: `the file is ${mb(file.size)} MB; the limit is ${mb(deps.settings.maxFileBytes)} MB` }],
      'UNKNOWN',
      clock(),
    );
  }
  if (file.size === 0 || !file.bytes) {
    return reject(deps, file, [{ code: 'E_NOT_WELL_FORMED', message: 'the file is empty (zero bytes)' }], 'UNKNOWN', clock());
  }

  // A zip, whatever its name (spec section 4a): its entries go through this pipeline one by one.
  if (isZip(file.bytes)) {
    return processContainer(deps, file, {
      processEntry: processFile,
      refuse: (errors) => reject(deps, file, errors, 'UNKNOWN', clock(), undefined, undefined, { entries: null }),
    });
  }

  // A replay is a replay whatever its validation says now, and a large one is not validated
  // again. A small file is validated first, and looked up here only if it was refused.
  const validateFirst = file.size <= VALIDATE_FIRST_BYTES;
  const replayOf = async () => {
    const earlier = await findAccepted(db, file.sponsorLicenceNumber, file.sha256);
    return earlier && replay(deps, file, earlier, clock());
  };
  if (!validateFirst) {
    const replayed = await replayOf();
    if (replayed) return replayed;
  }
  // A large file's schema verdict comes later: validation runs in the engine threads while its records are stored.
  // A large file is read from its open handle after the safety pass (its bytes are let go below).
  const inspection = await inspectFile(file.bytes, {
    deferSchema: !validateFirst,
    ...(file.open ? { fd: file.open.handle.fd } : {}),
    ...(deps.validate ? { validate: deps.validate } : {}),
    ...(deps.settings.validateTimeoutMs !== undefined ? { timeoutMs: deps.settings.validateTimeoutMs } : {}),
  });
  if (!inspection.ok)
    return (validateFirst && (await replayOf())) || reject(deps, file, inspection.errors, inspection.fileType, clock(), inspection.fileId);
  const inspected = inspection.file;
  const kind = FILE_KINDS[inspected.fileType];
  const fileId = inspected.header.fileId;
  if (file.open) {
    // A large file is read from its handle from here on: its bytes are let go, so it is not held at all.
    letGo(file.bytes);
    file.bytes = undefined;
  }

  const outcome = await timed('db transaction (all of the storing)', () =>
    explainedBySchema(
      inspected,
      inTransaction(db, deps.dryRun, async (tx) => {
        const licence = file.sponsorLicenceNumber;
        const sponsor = await lockSponsor(tx, licence);
        if (!sponsor) throw new Error(`sponsor ${licence} is not registered`);
        // Looked up again under the sponsor's lock (a concurrent copy of this file may have
        // won); sent together, for one round trip. The id taken serves every outcome.
        const [again, sameId, submissionId] = await Promise.all([
          findAccepted(tx, licence, file.sha256),
          kind.fileIdGroup !== undefined && fileId !== undefined ? findAcceptedByFileId(tx, licence, kind.fileIdGroup, fileId) : undefined,
          takeSubmissionId(tx, deps.dryRun),
        ]);
        if (again) return storeReplay(tx, deps.onStored, file, again, clock(), submissionId);
        const errors = headerErrors(inspected, sponsor, licence, file.via);
        if (errors.length) return new RejectInTx(errors, submissionId);
        if (sameId) {
          return new RejectInTx(
            [
              {
                code: 'E_DUPLICATE_FILE_ID',
                message: `${kind.fileIdElement} "${fileId}" was already used by accepted submission ${sameId.id} (${sameId.fileName}); give each new file a new id`,
              },
            ],
            submissionId,
          );
        }
        const now = clock();
        const base = baseResult(file, submissionId, inspected.fileType, now, fileId);
        const byNumber = { licence: sponsor.licenceNumber, submissionId, now, onProgress: deps.onProgress };
        const heap = file.open && !deps.settings.noHeapNudge ? new HeapNudge() : undefined;
        const stored = await STORE_STEPS[inspected.fileType](tx, inspected, {
          sponsor,
          ...byNumber,
          settings: deps.settings,
          receivedAt: file.receivedAt,
          heap,
        });
        // Nothing is committed unless the whole file validated.
        const verdict = await inspected.schema;
        if (verdict && !verdict.ok) throw new RejectInTx(verdict.errors, submissionId);
        // The result is rendered and sent next, the largest allocations of all: the records' garbage goes first.
        heap?.between(0);
        // The submission's statements go out behind the last writes of the records, which may
        // still be on their way: one round trip for all, then the commit.
        const saving = storeResult(
          tx,
          file,
          {
            ...base,
            processedAt: clock(),
            outcome: 'ACCEPTED',
            counts: stored.counts,
            fileErrors: [],
            ...(stored.payment ? { payment: stored.payment } : {}),
          },
          deps.onStored,
          stored.recordsXml,
          deps.dryRun,
        );
        const [, processed] = await Promise.all([stored.written, saving]);
        // A large file was read twice (scanned, then its records): nothing is committed unless it is still the same file.
        await verifyUnchanged(file);
        return 'notAssigned' in stored && stored.notAssigned ? { ...processed, notAssigned: stored.notAssigned } : processed;
      }),
    ),
  );

  if (outcome instanceof RejectInTx) {
    // A schema violation comes first, whatever else was found meanwhile.
    const verdict = await inspected.schema;
    if (verdict && !verdict.ok) return reject(deps, file, verdict.errors, verdict.fileType, clock(), verdict.fileId, outcome.submissionId);
    return reject(deps, file, outcome.errors, inspected.fileType, clock(), fileId, outcome.submissionId);
  }
  return outcome;
}
