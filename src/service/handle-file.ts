/**
 * One settled inbox file, start to finish: read it, defer it if a writer seems to be
 * still at it, claim it, check it is still the file that was read, run the pipeline
 * (the claim is tied to the submission in the pipeline's own transaction), then write
 * the result and move the input. Expected failures of the file are results (REJECTED);
 * anything thrown is an infrastructure fault and the file stays for a retry.
 */
import { busyElsewhere, claimFile, ClaimLostError, releaseClaim, tieSubmission, type ClaimRow } from '../db/claims.ts';
import type { FileSummary } from '../db/submissions.ts';
import { realSponsorDir } from '../inbox/fd-path.ts';
import { readCandidate } from '../inbox/read.ts';
import { regularFileIdentity, sameIdentity, withinGrace } from '../inbox/settle.ts';
import { looksUnfinished } from '../pipeline/inspect.ts';
import { processFile } from '../pipeline/process-file.ts';
import { fileKey, type ServiceContext } from './context.ts';
import { finishStored, type Finished } from './finish.ts';
import type { Candidate, RunResult } from './scheduler.ts';

/** The operator's line for a finished file: no personal data, only names, codes and counts. */
export function logProcessed(ctx: ServiceContext, licence: string, f: Finished, ms: number, recovered: boolean): void {
  const s = f.submission.summary as FileSummary;
  const c = s.counts;
  ctx.log.info(
    {
      sponsor: licence,
      file: f.submission.fileName,
      outcome: f.submission.outcome,
      ...(s.replay ? { replay: true } : {}),
      submission: f.submission.id,
      records: c.records,
      ...(s.fileType === 'GRADUATE_REPORT'
        ? { reported: c.reported }
        : { created: c.created, amended: c.amended, assigned: c.assigned, readyToGo: c.readyToGo, workInProgress: c.workInProgress }),
      rejected: c.rejected,
      ...(s.fileErrors.length ? { errors: [...new Set(s.fileErrors.map((e) => e.code))].join(',') } : {}),
      result: f.resultFile.split('/').pop(),
      ms,
      ...(recovered ? { recovered: true } : {}),
    },
    recovered ? 'finished (left unfinished earlier)' : 'processed',
  );
}

export async function handleFile(ctx: ServiceContext, c: Candidate): Promise<RunResult> {
  const key = fileKey(c.licence, c.name);
  if (ctx.busyKeys.has(key)) return { kind: 'busy' };
  ctx.busyKeys.add(key);
  try {
    return await handleClaimed(ctx, c);
  } catch (err) {
    if (err instanceof ClaimLostError) {
      ctx.log.warn({ sponsor: c.licence, file: c.name }, 'another instance took this file over; leaving it to it');
      return { kind: 'busy' };
    }
    throw err;
  } finally {
    ctx.busyKeys.delete(key);
  }
}

async function handleClaimed(ctx: ServiceContext, c: Candidate): Promise<RunResult> {
  const { db, me } = ctx;
  // Cheap check before reading a large file another instance is already working on.
  if (await busyElsewhere(db, c.licence, c.name, me)) return { kind: 'busy' };

  // Never read through a linked sponsor folder; checked again once the file is read.
  if (!(await ctx.folders.check(c.licence))) return { kind: 'busy' };
  const started = Date.now();
  const realInbox = await realSponsorDir(ctx.rootDir, c.licence, 'inbox');
  const read = await readCandidate(c.path, c.name, c.licence, ctx.maxFileBytes, ctx.clock(), realInbox);
  if (!read) return { kind: 'vanished' };
  if (!(await ctx.folders.check(c.licence))) return { kind: 'busy' };
  if (!sameIdentity(read.identity, c.identity)) return { kind: 'changed' };
  const now = ctx.clock().getTime();
  if (read.file.bytes && withinGrace(read.identity, now, ctx.unfinishedGraceMs) && looksUnfinished(read.file.bytes)) {
    ctx.log.info({ sponsor: c.licence, file: c.name }, 'not well-formed yet and modified less than a minute ago: deferred (a writer may still be at it)');
    return { kind: 'deferred', until: read.identity.mtimeMs + ctx.unfinishedGraceMs };
  }

  const got = await claimFile(db, { licence: c.licence, fileName: c.name, sha256: read.file.sha256, size: read.file.size, owner: me, leaseMs: ctx.leaseMs });
  if (!got || !got.mine) return { kind: 'busy' };
  let claim: ClaimRow = got.claim;

  // Claimed after any earlier claim on these bytes was done, and the done one had moved
  // its input first: if the file is still here and unchanged, it is a file to process.
  const here = await regularFileIdentity(c.path);
  if (!here || !sameIdentity(here, read.identity)) {
    if (claim.state === 'claimed') await releaseClaim(db, claim.id, me);
    if (claim.state === 'stored') {
      // Recovery of a crashed owner's file: finish it whatever is in the inbox now.
      logProcessed(ctx, c.licence, await finishStored(ctx, claim, { path: c.path }), Date.now() - started, true);
    }
    return here ? { kind: 'changed' } : { kind: 'vanished' };
  }

  const recovered = claim.state === 'stored';
  if (claim.state === 'claimed') {
    const claimId = claim.id;
    const processed = await processFile(
      {
        db,
        settings: { ...ctx.settings, maxFileBytes: ctx.maxFileBytes },
        clock: ctx.clock,
        ...(ctx.validate ? { validate: ctx.validate } : {}),
        onStored: (tx, submissionId) => tieSubmission(tx, claimId, me, submissionId),
      },
      read.file,
    );
    claim = { ...claim, state: 'stored', submissionId: processed.submissionId };
  }
  const finished = await finishStored(ctx, claim, { path: c.path, identity: read.identity });
  logProcessed(ctx, c.licence, finished, Date.now() - started, recovered);
  return { kind: 'finished' };
}
