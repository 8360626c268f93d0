/**
 * The steps after the submission is committed: write the stored result (unless it was
 * written already), move the input, mark the claim done. Each step is recorded before
 * or after it happens so that a restart at any point can tell where it stopped:
 * `submissions.result_file` is set only after the result is durable, `moved_to` is set
 * before the rename, and the claim is done only after the move.
 */
import path from 'node:path';
import { confirmClaim, markDone, setMovedTo, type ClaimRow } from '../db/claims.ts';
import { getSubmission, type SubmissionRow } from '../db/submissions.ts';
import { emitResult } from '../inbox/emit.ts';
import { realSponsorDir } from '../inbox/fd-path.ts';
import { sponsorDir } from '../inbox/layout.ts';
import { sha256OfFile } from '../pipeline/read-file.ts';
import { completeMove, exists, freeDestination, moveNoClobber } from '../inbox/move.ts';
import { regularFileIdentity, sameIdentity, type FileIdentity } from '../inbox/settle.ts';
import type { ServiceContext } from './context.ts';

export interface Finished {
  submission: SubmissionRow;
  resultFile: string;
  /** Where the input went; undefined when it was no longer in the inbox. */
  movedTo: string | undefined;
}


/**
 * Is the claimed input still at `file`? With the identity of what was read, compare
 * that (cheap); after a restart, compare the content's sha256 with the claim's.
 */
async function inputStillThere(file: string, claim: ClaimRow, identity: FileIdentity | undefined): Promise<FileIdentity | undefined> {
  const now = await regularFileIdentity(file);
  if (!now) return undefined;
  if (identity) return sameIdentity(now, identity) ? now : undefined;
  return now.size === claim.sizeBytes && (await sha256OfFile(file).catch(() => undefined)) === claim.sha256 ? now : undefined;
}

export async function finishStored(ctx: ServiceContext, claim: ClaimRow, input: { path: string; identity?: FileIdentity | undefined }): Promise<Finished> {
  const { db, me } = ctx;
  if (claim.submissionId === null) throw new Error(`claim ${claim.id} is stored without a submission`);
  const submission = await getSubmission(db, claim.submissionId);
  if (!submission) throw new Error(`claim ${claim.id}: submission ${claim.submissionId} not found`);

  await confirmClaim(db, claim.id, me, ctx.leaseMs);
  // Nothing is written or moved through a linked sponsor folder: a fault, retried.
  await ctx.folders.require(claim.sponsorLicenceNumber);
  // A recorded result was made durable before it was recorded: never write a second one
  // (if it is missing now, the sponsor's system took it).
  const resultFile =
    submission.resultFile ??
    (await emitResult(
      db,
      sponsorDir(ctx.rootDir, claim.sponsorLicenceNumber, 'outbox'),
      { submissionId: submission.id, fileName: submission.fileName, resultXml: submission.resultXml },
      await realSponsorDir(ctx.rootDir, claim.sponsorLicenceNumber, 'outbox'),
    ));

  let movedTo: string | undefined;
  let still: FileIdentity | undefined;
  if (claim.movedTo && (await exists(claim.movedTo))) {
    // Moved before a crash; a file of that name in the inbox now is a new drop, unless
    // it is the moved file still under its inbox name (a crash between link and unlink).
    await completeMove(input.path, claim.movedTo);
    movedTo = claim.movedTo;
  } else if ((still = await inputStillThere(input.path, claim, input.identity))) {
    await ctx.folders.require(claim.sponsorLicenceNumber);
    const folder = submission.outcome === 'ACCEPTED' ? 'archive' : 'rejected';
    const dest = await freeDestination(sponsorDir(ctx.rootDir, claim.sponsorLicenceNumber, folder), path.basename(input.path), ctx.clock());
    await setMovedTo(db, claim.id, me, dest);
    const realDest = path.join(await realSponsorDir(ctx.rootDir, claim.sponsorLicenceNumber, folder), path.basename(dest));
    // A file swapped in since it was checked is not archived as processed: it stays for the next scan.
    if ((await moveNoClobber(input.path, dest, still, realDest)) === 'moved') movedTo = dest;
  }
  await markDone(db, claim.id, me);
  return { submission, resultFile, movedTo };
}
