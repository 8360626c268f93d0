/**
 * The steps after the submission is committed: write the stored result (unless it was
 * written already), move the input, mark the claim done. Each step is recorded before
 * or after it happens so that a restart at any point can tell where it stopped:
 * `submissions.result_file` is set only after the result is durable, `moved_to` is set
 * before the rename, and the claim is done only after the move. Right after the pipeline
 * the result file and the destination are recorded in one statement, after the result
 * is durable and before the move.
 *
 * A file refused for its name (E_FILE_NAME) is named after its submission instead:
 * result `rejected-<id>.result.xml`, input `rejected/<stamp>_<id>`; its stored name is
 * escaped, and the path to it is rebuilt from that.
 */
import { open, rename } from 'node:fs/promises';
import path from 'node:path';
import { confirmClaim, markDone, setMovedTo, setResultAndMovedTo, type ClaimRow, type ResultAndMove } from '../db/claims.ts';
import { getSubmission, setResultFile, type SubmissionRow } from '../db/submissions.ts';
import { fsyncDir, writeNewFile } from '../inbox/atomic-write.ts';
import { realSponsorDir } from '../inbox/fd-path.ts';
import { sponsorDir } from '../inbox/layout.ts';
import { resultFileOf } from '../pipeline/result-file.ts';
import { completeMove, exists, freeDestination, moveNoClobber, restrictMode } from '../inbox/move.ts';
import { regularFileIdentity, sameIdentity, type FileIdentity } from '../inbox/settle.ts';
import { sha256OfFile } from '../inbox/read-file.ts';
import type { ServiceContext } from './context.ts';
import { escapeName, inboxPathOf } from './inbox-file.ts';

/** What finishing needs of a stored submission (the pipeline returns it, a recovery reads it). */
export type StoredSubmission = Pick<SubmissionRow, 'id' | 'fileName' | 'outcome' | 'summary' | 'resultXml' | 'resultFile'>;

export interface Finished {
  submission: StoredSubmission;
  resultFile: string;
  /** Where the input went; undefined when it was no longer in the inbox. */
  movedTo: string | undefined;
}

/** Was this submission refused for its file name (stored escaped, named after its id)? */
const refusedName = (s: Pick<SubmissionRow, 'summary'>) => s.summary.fileErrors.some((e) => e.code === 'E_FILE_NAME');
/** A stored submission's file name for a log line: refused names were stored escaped, others may hold bidi controls. */
export const shownStoredName = (s: Pick<SubmissionRow, 'fileName' | 'summary'>) => (refusedName(s) ? s.fileName : escapeName(s.fileName));

async function sha256At(file: string | Buffer): Promise<string | undefined> {
  const h = await open(file, 'r').catch(() => undefined);
  if (!h) return undefined;
  try {
    return await sha256OfFile(h);
  } catch {
    return undefined;
  } finally {
    await h.close();
  }
}

/**
 * Is the claimed input still at `file`? With the identity of what was read, compare
 * that (cheap); after a restart, compare the content's sha256 with the claim's.
 */
async function inputStillThere(
  file: string | Buffer,
  claim: ClaimRow,
  identity: FileIdentity | undefined,
): Promise<FileIdentity | undefined> {
  const now = await regularFileIdentity(file);
  if (!now) return undefined;
  if (identity) return sameIdentity(now, identity) ? now : undefined;
  return now.size === claim.sizeBytes && (await sha256At(file)) === claim.sha256 ? now : undefined;
}

/** `<real root>/<LICENCE>/<folder>`, from the root the folder check just resolved when it did. */
const realFolder = async (ctx: ServiceContext, licence: string, folder: string, realRoot: string | undefined) =>
  realRoot !== undefined ? path.join(realRoot, licence, folder) : realSponsorDir(ctx.rootDir, licence, folder);

/**
 * Writes the stored result durably and returns its path; the caller records it. `fresh`:
 * the submission was stored just now, so no earlier attempt can have written its result.
 */
async function writeResult(
  ctx: ServiceContext,
  licence: string,
  submission: StoredSubmission,
  realRoot: string | undefined,
  fresh: boolean,
): Promise<string> {
  const outbox = sponsorDir(ctx.rootDir, licence, 'outbox');
  const { names, content } = refusedName(submission)
    ? {
        names: [
          `rejected-${submission.id}.result.xml`,
          ...Array.from({ length: 20 }, (_, k) => `rejected-${submission.id}-${k + 2}.result.xml`),
        ],
        content: submission.resultXml,
      }
    : await resultFileOf(ctx.db, { submissionId: submission.id, ...submission });
  return writeNewFile(outbox, names, content, await realFolder(ctx, licence, 'outbox', realRoot), { adopt: !fresh });
}

/**
 * Moves the input to the free name `to`. A name that is not UTF-8 (a Buffer path) is
 * renamed to its fresh, unused destination; any other goes by the no-replace move, which
 * leaves a file swapped in since it was checked where it is.
 */
async function moveInput(from: string | Buffer, to: string, still: FileIdentity, realTo: string): Promise<boolean> {
  if (typeof from === 'string') return (await moveNoClobber(from, to, still, realTo)) === 'moved';
  if (await exists(to)) throw Object.assign(new Error(`${to} already exists`), { code: 'EEXIST' });
  await rename(from, to);
  // A rename keeps the uploaded mode: made 0640 like every moved input.
  await restrictMode(to);
  await fsyncDir(path.dirname(to));
  return true;
}

/**
 * `input.path` is where the claimed file was found; without it (recovery from the
 * claims alone) the path is rebuilt from the stored name. `input.submission` is the
 * submission the pipeline has just stored and tied to the claim; without it, it is read.
 */
export async function finishStored(
  ctx: ServiceContext,
  claim: ClaimRow,
  input: {
    path?: string | Buffer;
    identity?: FileIdentity | undefined;
    submission?: StoredSubmission | undefined;
    /** The caller marks the claim done (a group's claims are marked in one statement). */
    leaveOpen?: boolean;
    /** Records the result and the destination (a group's in one statement); setResultAndMovedTo by default. */
    record?: (r: ResultAndMove) => Promise<void>;
  } = {},
): Promise<Finished> {
  const { db, me } = ctx;
  const licence = claim.sponsorLicenceNumber;
  if (claim.submissionId === null) throw new Error(`claim ${claim.id} is stored without a submission`);
  const submission = input.submission ?? (await getSubmission(db, claim.submissionId));
  if (!submission) throw new Error(`claim ${claim.id}: submission ${claim.submissionId} not found`);
  const byId = refusedName(submission);
  const inputPath = input.path ?? inboxPathOf(sponsorDir(ctx.rootDir, licence, 'inbox'), claim.fileName, byId);

  // The transaction that has just tied the claim also renewed its lease: its commit was
  // the owner check before this write. A claim found stored is checked here.
  if (!input.submission) await confirmClaim(db, claim.id, me, ctx.leaseMs);
  // Nothing is written or moved through a linked sponsor folder: a fault, retried.
  let realRoot = await ctx.folders.require(licence);
  // A recorded result was made durable before it was recorded: never write a second one
  // (if it is missing now, the sponsor's system took it).
  const written =
    submission.resultFile === null ? await writeResult(ctx, licence, submission, realRoot, input.submission !== undefined) : undefined;
  const resultFile = submission.resultFile ?? written!;
  // Right after the pipeline, a result written now is recorded with the move's destination
  // (one statement), else on its own; should anything fail before that, it is recorded on
  // the way out, so that a retry does not write it again. A recovery records it at once.
  let unrecorded = written;
  const recordResult = async () => {
    if (unrecorded !== undefined) await setResultFile(db, submission.id, unrecorded);
    unrecorded = undefined;
  };
  if (!input.submission) await recordResult();

  let movedTo: string | undefined;
  let still: FileIdentity | undefined;
  try {
    if (claim.movedTo && (await exists(claim.movedTo))) {
      await recordResult();
      // Moved before a crash; a file of that name in the inbox now is a new drop, unless
      // it is the moved file still under its inbox name (a crash between link and unlink).
      if (typeof inputPath === 'string') await completeMove(inputPath, claim.movedTo);
      movedTo = claim.movedTo;
    } else if ((still = await inputStillThere(inputPath, claim, input.identity))) {
      realRoot = await ctx.folders.require(licence);
      const folder = submission.outcome === 'ACCEPTED' ? 'archive' : 'rejected';
      const name = byId ? String(submission.id) : path.basename(String(inputPath));
      const dest = await freeDestination(sponsorDir(ctx.rootDir, licence, folder), name, ctx.clock());
      const realDest = path.join(await realFolder(ctx, licence, folder, realRoot), path.basename(dest));
      if (unrecorded === undefined) await setMovedTo(db, claim.id, me, dest);
      else if (input.record) await input.record({ claimId: claim.id, submissionId: submission.id, resultFile: unrecorded, movedTo: dest });
      else await setResultAndMovedTo(db, claim.id, me, { submissionId: submission.id, resultFile: unrecorded }, dest);
      unrecorded = undefined;
      if (await moveInput(inputPath, dest, still, realDest)) movedTo = dest;
    } else {
      await recordResult();
    }
  } catch (err) {
    await recordResult().catch(() => {});
    throw err;
  }
  if (!input.leaveOpen) await markDone(db, claim.id, me);
  return { submission, resultFile, movedTo };
}
