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
import { sponsorDir } from '../inbox/layout.ts';
import { sha256OfFile } from '../pipeline/read-file.ts';
import { exists, freeDestination, moveNoClobber } from '../inbox/move.ts';
import { regularFileIdentity, sameIdentity, type FileIdentity } from '../inbox/settle.ts';
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
async function inputStillThere(file: string | Buffer, claim: ClaimRow, identity: FileIdentity | undefined): Promise<boolean> {
  const now = await regularFileIdentity(file);
  if (!now) return false;
  if (identity) return sameIdentity(now, identity);
  return now.size === claim.sizeBytes && (await sha256At(file)) === claim.sha256;
}

async function writeResult(ctx: ServiceContext, claim: ClaimRow, submission: SubmissionRow): Promise<string> {
  const outbox = sponsorDir(ctx.rootDir, claim.sponsorLicenceNumber, 'outbox');
  if (!refusedName(submission)) {
    return emitResult(ctx.db, outbox, { submissionId: submission.id, fileName: submission.fileName, resultXml: submission.resultXml });
  }
  const names = [`rejected-${submission.id}.result.xml`, ...Array.from({ length: 20 }, (_, k) => `rejected-${submission.id}-${k + 2}.result.xml`)];
  const written = await writeNewFile(outbox, names, submission.resultXml);
  await setResultFile(ctx.db, submission.id, written);
  return written;
}

/** Moves `from` (a Buffer when its name is not UTF-8) to the free name `to`. */
async function moveInput(from: string | Buffer, to: string): Promise<void> {
  if (typeof from === 'string') return moveNoClobber(from, to);
  if (await exists(to)) throw Object.assign(new Error(`${to} already exists`), { code: 'EEXIST' });
  await rename(from, to);
  await fsyncDir(path.dirname(to));
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
  // A recorded result was made durable before it was recorded: never write a second one
  // (if it is missing now, the sponsor's system took it).
  const resultFile = submission.resultFile ?? (await writeResult(ctx, claim, submission));

  let movedTo: string | undefined;
  if (claim.movedTo && (await exists(claim.movedTo))) {
    // Moved before a crash; a file of that name in the inbox now is a new drop.
    movedTo = claim.movedTo;
  } else if (await inputStillThere(inputPath, claim, input.identity)) {
    const folder = submission.outcome === 'ACCEPTED' ? 'archive' : 'rejected';
    const name = byId ? String(submission.id) : path.basename(String(inputPath));
    const dest = await freeDestination(sponsorDir(ctx.rootDir, claim.sponsorLicenceNumber, folder), name, ctx.clock());
    await setMovedTo(db, claim.id, me, dest);
    await moveInput(inputPath, dest);
    movedTo = dest;
  }
  await markDone(db, claim.id, me);
  return { submission, resultFile, movedTo };
}
