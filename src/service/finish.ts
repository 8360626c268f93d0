/**
 * The steps after the submission is committed: write the stored result (unless it was
 * written already), move the input, mark the claim done. Each step is recorded before
 * or after it happens so that a restart at any point can tell where it stopped:
 * `submissions.result_file` is set only after the result is durable, `moved_to` is set
 * before the rename, and the claim is done only after the move.
 *
 * A file refused for its name (E_FILE_NAME) is named after its submission instead:
 * result `rejected-<id>.result.xml`, input `rejected/<stamp>_<id>`; its stored name is
 * escaped, and the path to it is rebuilt from that.
 */
import { open, rename } from 'node:fs/promises';
import path from 'node:path';
import { confirmClaim, markDone, setMovedTo, type ClaimRow } from '../db/claims.ts';
import { getSubmission, setResultFile, type FileSummary, type SubmissionRow } from '../db/submissions.ts';
import { fsyncDir, writeNewFile } from '../inbox/atomic-write.ts';
import { emitResult } from '../inbox/emit.ts';
import { realSponsorDir } from '../inbox/fd-path.ts';
import { sponsorDir } from '../inbox/layout.ts';
import { completeMove, exists, freeDestination, moveNoClobber } from '../inbox/move.ts';
import { regularFileIdentity, sameIdentity, type FileIdentity } from '../inbox/settle.ts';
import { sha256OfFile } from '../pipeline/read-file.ts';
import type { ServiceContext } from './context.ts';
import { inboxPathOf } from './inbox-file.ts';

export interface Finished {
  submission: SubmissionRow;
  resultFile: string;
  /** Where the input went; undefined when it was no longer in the inbox. */
  movedTo: string | undefined;
}

/** Was this submission refused for its file name (stored escaped, named after its id)? */
export const refusedName = (s: SubmissionRow) => (s.summary as FileSummary).fileErrors.some((e) => e.code === 'E_FILE_NAME');

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
async function inputStillThere(file: string | Buffer, claim: ClaimRow, identity: FileIdentity | undefined): Promise<FileIdentity | undefined> {
  const now = await regularFileIdentity(file);
  if (!now) return undefined;
  if (identity) return sameIdentity(now, identity) ? now : undefined;
  return now.size === claim.sizeBytes && (await sha256At(file)) === claim.sha256 ? now : undefined;
}

async function writeResult(ctx: ServiceContext, claim: ClaimRow, submission: SubmissionRow): Promise<string> {
  const outbox = sponsorDir(ctx.rootDir, claim.sponsorLicenceNumber, 'outbox');
  const realOutbox = await realSponsorDir(ctx.rootDir, claim.sponsorLicenceNumber, 'outbox');
  if (!refusedName(submission)) {
    return emitResult(ctx.db, outbox, { submissionId: submission.id, fileName: submission.fileName, resultXml: submission.resultXml }, realOutbox);
  }
  const names = [`rejected-${submission.id}.result.xml`, ...Array.from({ length: 20 }, (_, k) => `rejected-${submission.id}-${k + 2}.result.xml`)];
  const written = await writeNewFile(outbox, names, submission.resultXml, realOutbox);
  await setResultFile(ctx.db, submission.id, written);
  return written;
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
  await fsyncDir(path.dirname(to));
  return true;
}

/**
 * `input.path` is where the claimed file was found; without it (recovery from the
 * claims alone) the path is rebuilt from the stored name.
 */
export async function finishStored(ctx: ServiceContext, claim: ClaimRow, input: { path?: string | Buffer; identity?: FileIdentity | undefined } = {}): Promise<Finished> {
  const { db, me } = ctx;
  if (claim.submissionId === null) throw new Error(`claim ${claim.id} is stored without a submission`);
  const submission = await getSubmission(db, claim.submissionId);
  if (!submission) throw new Error(`claim ${claim.id}: submission ${claim.submissionId} not found`);
  const byId = refusedName(submission);
  const inputPath = input.path ?? inboxPathOf(sponsorDir(ctx.rootDir, claim.sponsorLicenceNumber, 'inbox'), claim.fileName, byId);

  await confirmClaim(db, claim.id, me, ctx.leaseMs);
  // Nothing is written or moved through a linked sponsor folder: a fault, retried.
  await ctx.folders.require(claim.sponsorLicenceNumber);
  // A recorded result was made durable before it was recorded: never write a second one
  // (if it is missing now, the sponsor's system took it).
  const resultFile = submission.resultFile ?? (await writeResult(ctx, claim, submission));

  let movedTo: string | undefined;
  let still: FileIdentity | undefined;
  if (claim.movedTo && (await exists(claim.movedTo))) {
    // Moved before a crash; a file of that name in the inbox now is a new drop, unless
    // it is the moved file still under its inbox name (a crash between link and unlink).
    if (typeof inputPath === 'string') await completeMove(inputPath, claim.movedTo);
    movedTo = claim.movedTo;
  } else if ((still = await inputStillThere(inputPath, claim, input.identity))) {
    await ctx.folders.require(claim.sponsorLicenceNumber);
    const folder = submission.outcome === 'ACCEPTED' ? 'archive' : 'rejected';
    const name = byId ? String(submission.id) : path.basename(String(inputPath));
    const dest = await freeDestination(sponsorDir(ctx.rootDir, claim.sponsorLicenceNumber, folder), name, ctx.clock());
    await setMovedTo(db, claim.id, me, dest);
    const realDest = path.join(await realSponsorDir(ctx.rootDir, claim.sponsorLicenceNumber, folder), path.basename(dest));
    if (await moveInput(inputPath, dest, still, realDest)) movedTo = dest;
  }
  await markDone(db, claim.id, me);
  return { submission, resultFile, movedTo };
}
