/**
 * One settled inbox file, start to finish: read it, defer it if a writer seems to be
 * still at it, claim it, check it is still the file that was read, run the pipeline
 * (the claim is tied to the submission in the pipeline's own transaction), then write
 * the result and move the input. Expected failures of the file are results (REJECTED);
 * anything thrown goes back to the scheduler, which classifies it (faults.ts). A file
 * whose name is refused, or that the scheduler set aside, is stored as REJECTED without
 * running the pipeline on it.
 */
import path from 'node:path';
import { busyElsewhere, claimFile, recordEntry, releaseClaim, tieSubmission, type ClaimRow } from '../db/claims.ts';
import { getSubmission } from '../db/submissions.ts';
import { realSponsorDir } from '../inbox/fd-path.ts';
import type { FileError } from '../domain/types.ts';
import { fileKind } from '../domain/file-kinds.ts';
import { readCandidate, type ReadCandidate } from '../inbox/read.ts';
import { release } from '../inbox/read-file.ts';
import { regularFileIdentity, sameIdentity } from '../inbox/settle.ts';
import { describeError, isCasBdtError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { looksUnfinished } from '../pipeline/inspect.ts';
import { processFile, rejectFile, type PipelineDeps, type Processed } from '../pipeline/process-file.ts';
import type { EntryMemo } from '../pipeline/deps.ts';
import { fileKey, fileLog, type ServiceContext } from './context.ts';
import { internalMessage } from './faults.ts';
import { finishStored, type Finished, type StoredSubmission } from './finish.ts';
import type { Candidate, RunResult } from './scheduler.ts';

/**
 * The operator's line for a finished file: no personal data, only names, codes and counts.
 * `log` is the file's own: its lines say the sponsor and the file.
 */
export function logProcessed(log: Logger, f: Finished, ms: number, recovered: boolean, group?: number): void {
  const s = f.submission.summary;
  const c = s.counts;
  log.info(
    {
      outcome: f.submission.outcome,
      ...(s.replay ? { replay: true } : {}),
      submission: f.submission.id,
      records: c.records,
      ...fileKind(s.fileType)?.logCounts(c),
      rejected: c.rejected,
      ...(s.fileErrors.length ? { errors: [...new Set(s.fileErrors.map((e) => e.code))].join(',') } : {}),
      result: f.resultFile.split('/').pop(),
      ms,
      // Stored in one transaction with this many files in all (group commit).
      ...(group ? { group } : {}),
      ...(recovered ? { recovered: true } : {}),
    },
    recovered ? 'finished (left unfinished earlier)' : 'processed',
  );
}

export async function handleFile(ctx: ServiceContext, c: Candidate): Promise<RunResult> {
  const key = fileKey(c.licence, c.file.name);
  if (ctx.busyKeys.has(key)) return { kind: 'busy' };
  ctx.busyKeys.add(key);
  const log = fileLog(ctx, c.licence, c.file);
  try {
    return await handleClaimed(ctx, c, log);
  } catch (err) {
    if (isCasBdtError(err, 'claim-lost')) {
      log.warn('another instance took this file over; leaving it to it');
      return { kind: 'busy' };
    }
    throw err;
  } finally {
    ctx.busyKeys.delete(key);
  }
}

/** Why the service itself rejects the file without reading its content, if it does. */
function ownRejection(c: Candidate): FileError | undefined {
  if (c.file.nameProblem) return { code: 'E_FILE_NAME', message: c.file.nameProblem };
  if (c.setAside) return { code: 'E_INTERNAL', message: internalMessage(c.setAside.fault) };
  return undefined;
}

/**
 * Files up to this size are read without asking first whether another instance is working
 * on a file of that name: reading one costs less than the question, and the claim that
 * follows still finds another instance's claim on the same bytes.
 */
export const READ_WITHOUT_ASKING_BYTES = 1 << 20;

async function handleClaimed(ctx: ServiceContext, c: Candidate, log: Logger): Promise<RunResult> {
  const { db, me } = ctx;
  const name = c.file.name;
  // Cheap check before reading a large file another instance is already working on; and
  // never read through a linked sponsor folder (checked again once the file is read).
  // The two are independent: one waits for the database, the other for the file system.
  const [busy, folders] = await Promise.all([
    c.identity.size > READ_WITHOUT_ASKING_BYTES && busyElsewhere(db, c.licence, name, me),
    ctx.folders.checkResolved(c.licence),
  ]);
  if (busy || !folders.usable) return { kind: 'busy' };
  const started = Date.now();
  const realInbox = await realInboxOf(ctx, c.licence, folders.realRoot);
  const read = await readCandidate(c.file.fsPath, name, c.licence, ctx.maxFileBytes, ctx.clock(), realInbox);
  if (!read) return { kind: 'vanished' };
  try {
    return await handleRead(ctx, c, log, read, started);
  } finally {
    // A large file's handle was left open for the pipeline.
    await release(read.file);
  }
}

/** The sponsor's inbox as it really is, from the root the folder check just resolved when it did. */
export const realInboxOf = async (ctx: ServiceContext, licence: string, realRoot: string | undefined): Promise<string> =>
  realRoot !== undefined ? path.join(realRoot, licence, 'inbox') : realSponsorDir(ctx.rootDir, licence, 'inbox');

/**
 * What is decided of a file once read (and its sponsor's folders checked again), before it
 * is claimed: undefined to go on, or why not now (it changed since it settled, or it is
 * not well-formed yet and changed too recently).
 */
export function readVerdict(
  ctx: ServiceContext,
  c: Candidate,
  log: Logger,
  read: ReadCandidate,
  rejection: FileError | undefined,
): RunResult | undefined {
  if (!sameIdentity(read.identity, c.identity)) return { kind: 'changed' };
  // The grace counts from when the service saw the file change, never from its mtime.
  const graceEnds = c.changedAt + ctx.unfinishedGraceMs;
  if (!rejection && read.file.bytes && ctx.monotonic() < graceEnds && looksUnfinished(read.file.bytes)) {
    // Said once per change, not at every look during the grace.
    if (ctx.deferrals.get(c.file.key) !== c.changedAt) {
      ctx.deferrals.set(c.file.key, c.changedAt);
      log.info('not well-formed yet and changed less than a minute ago: deferred (a writer may still be at it)');
    }
    return { kind: 'deferred', until: graceEnds };
  }
  ctx.deferrals.delete(c.file.key);
  return undefined;
}

/** The rest of handleClaimed, once the file is read. */
async function handleRead(ctx: ServiceContext, c: Candidate, log: Logger, read: ReadCandidate, started: number): Promise<RunResult> {
  const { db, me } = ctx;
  const name = c.file.name;
  const rejection = ownRejection(c);
  if (!(await ctx.folders.check(c.licence))) return { kind: 'busy' };
  const notNow = readVerdict(ctx, c, log, read, rejection);
  if (notNow) return notNow;

  const got = await claimFile(db, {
    licence: c.licence,
    fileName: name,
    sha256: read.file.sha256,
    size: read.file.size,
    owner: me,
    leaseMs: ctx.leaseMs,
  });
  if (!got || !got.mine) return { kind: 'busy' };
  let claim: ClaimRow = got.claim;

  // Claimed after any earlier claim on these bytes was done, and the done one had moved
  // its input first: if the file is still here and unchanged, it is a file to process.
  const here = await regularFileIdentity(c.file.fsPath);
  if (!here || !sameIdentity(here, read.identity)) {
    if (claim.state === 'claimed') await releaseClaim(db, claim.id, me);
    if (claim.state === 'stored') {
      // Recovery of a crashed owner's file: finish it whatever is in the inbox now.
      logProcessed(log, await finishStored(ctx, claim, { path: c.file.fsPath }), Date.now() - started, true);
    }
    return here ? { kind: 'changed' } : { kind: 'vanished' };
  }

  const recovered = claim.state === 'stored';
  let stored: StoredSubmission | undefined;
  let notAssigned = 0;
  // Not known of a file finished for an earlier attempt, nor of a zip (its entries owe them).
  let statementsOwed: number | undefined;
  if (claim.state === 'claimed') {
    const claimId = claim.id;
    const deps: PipelineDeps = {
      db,
      settings: { ...ctx.settings, maxFileBytes: ctx.maxFileBytes },
      clock: ctx.clock,
      validate: ctx.validate,
      onStored: (tx, submissionId) => tieSubmission(tx, claimId, me, submissionId, ctx.leaseMs),
      entryMemo: entryMemo(ctx, claim),
      onProgress: progressLogger(ctx, log, read.file.size),
    };
    const processed = rejection ? await rejectFile(deps, read.file, [rejection]) : await processFile(deps, read.file);
    notAssigned = processed.notAssigned ?? 0;
    statementsOwed = processed.statementsOwed;
    claim = { ...claim, state: 'stored', submissionId: processed.submissionId };
    stored = storedSubmission(read, processed);
  }
  const finished = await finishStored(ctx, claim, {
    path: c.file.fsPath,
    identity: read.identity,
    submission: stored,
  });
  logFinished(log, c, finished, { ms: Date.now() - started, recovered, notAssigned, rejection });
  return { kind: 'finished', summary: finished.submission.summary, statementsOwed: statementsOwed !== 0 };
}

/** What finishing needs of a submission the pipeline has just stored. */
export const storedSubmission = (read: ReadCandidate, processed: Processed): StoredSubmission => ({
  id: processed.submissionId,
  fileName: read.file.fileName,
  outcome: processed.summary.outcome,
  summary: processed.summary,
  resultXml: processed.resultXml,
  resultFile: null,
});

/** The lines of a finished file: why it was set aside (if it was), the processed line, and an allocation that ran out. */
export function logFinished(
  log: Logger,
  c: Candidate,
  finished: Finished,
  how: { ms: number; recovered: boolean; notAssigned: number; rejection: FileError | undefined; group?: number },
): void {
  if (c.setAside && !how.recovered && how.rejection?.code === 'E_INTERNAL') {
    // The one line that tells the operator what happened; the cause says no personal data.
    log.error(
      {
        submission: finished.submission.id,
        fault: c.setAside.fault.kind,
        strikes: c.setAside.strikes,
        err: describeError(c.setAside.err),
        movedTo: finished.movedTo?.split('/').pop(),
      },
      'set aside: REJECTED with E_INTERNAL after a fault that retrying cannot fix; look at the cause',
    );
  }
  logProcessed(log, finished, how.ms, how.recovered, how.group);
  if (how.notAssigned) {
    log.warn(
      { submission: finished.submission.id, notAssigned: how.notAssigned },
      'allocation exhausted: READY TO GO CAS left unassigned (W_NO_ALLOCATION); grant more with `cas-bdt sponsor allocate`, then `cas-bdt assign`',
    );
  }
}

/**
 * A zip's entries across a crash: those its claim says were stored (by an earlier owner
 * that died mid-zip) keep their submission; each new one is recorded in its own transaction.
 */
function entryMemo(ctx: ServiceContext, claim: ClaimRow): EntryMemo {
  const earlier = claim.entries ?? {};
  return {
    stored: async (index, sha256) => {
      const e = earlier[String(index)];
      return e && e.sha256 === sha256 ? e.submissionId : undefined;
    },
    onStored: (tx, index, sha256, submissionId) => recordEntry(tx, claim.id, ctx.me, index, sha256, submissionId),
    load: async (submissionId) => {
      const row = await getSubmission(ctx.db, submissionId);
      return row && { submissionId: row.id, resultXml: row.resultXml, summary: row.summary };
    },
  };
}

/** A progress line every `progressLogMs` while a file is processed (a large one takes tens of seconds). */
function progressLogger(ctx: ServiceContext, log: Logger, bytes: number): (fraction: number) => void {
  const started = ctx.monotonic();
  let next = started + ctx.progressLogMs;
  return (fraction) => {
    const now = ctx.monotonic();
    if (now < next || fraction >= 1) return;
    next = now + ctx.progressLogMs;
    log.info({ done: `${Math.floor(fraction * 100)}%`, bytes, seconds: Math.round((now - started) / 1000) }, 'processing');
  };
}
