/**
 * Start-up (and periodic) reconciliation of claims left by an instance that died (and of
 * this instance's own committed claims whose result or move failed, when no file in the
 * inbox will bring them back to a worker):
 * - `claimed`: its transaction never committed, so nothing of the file is stored; the
 *   claim is dropped and the file, still in the inbox, is processed like any other.
 * - `stored`: the submission is committed; write its result if that never happened, move
 *   the input if it is still there, and mark the claim done.
 * Claims of live instances are left alone (their liveness lock is held, lease current).
 */
import path from 'node:path';
import { ClaimLostError, ownStoredClaims, releaseClaim, takeableClaims, takeOver } from '../db/claims.ts';
import { describeError } from '../log.ts';
import { sponsorDir } from '../inbox/layout.ts';
import { fileKey, type ServiceContext } from './context.ts';
import { finishStored } from './finish.ts';
import { logProcessed } from './handle-file.ts';

/** Returns how many claims it settled. */
export async function reconcileClaims(ctx: ServiceContext, opts: { limit?: number; isStopping?: () => boolean } = {}): Promise<number> {
  let settled = 0;
  const seen = new Set<number>();
  for (;;) {
    const batch = [...(await takeableClaims(ctx.db, ctx.me, 100)), ...(await ownStoredClaims(ctx.db, ctx.me, 100))].filter((c) => !seen.has(c.id));
    if (batch.length === 0) return settled;
    for (const found of batch) {
      seen.add(found.id);
      if (opts.isStopping?.()) return settled;
      const key = fileKey(found.sponsorLicenceNumber, found.fileName);
      // A worker of this instance has the file (or the recovery has it already).
      if (ctx.busyKeys.has(key)) continue;
      // A sponsor whose folders are links is left alone (logged once by the check).
      if (!(await ctx.folders.check(found.sponsorLicenceNumber))) continue;
      ctx.busyKeys.add(key);
      const started = Date.now();
      try {
        const claim = found.owner === ctx.me ? found : await takeOver(ctx.db, found.id, ctx.me, ctx.leaseMs);
        if (!claim) continue;
        if (claim.state === 'claimed') {
          await releaseClaim(ctx.db, claim.id, ctx.me);
        } else {
          const input = path.join(sponsorDir(ctx.rootDir, claim.sponsorLicenceNumber, 'inbox'), claim.fileName);
          logProcessed(ctx, claim.sponsorLicenceNumber, await finishStored(ctx, claim, { path: input }), Date.now() - started, true);
        }
        settled++;
      } catch (err) {
        if (!(err instanceof ClaimLostError)) {
          ctx.log.warn({ sponsor: found.sponsorLicenceNumber, file: found.fileName, err: describeError(err) }, 'could not finish a file left unfinished; will retry');
        }
      } finally {
        ctx.busyKeys.delete(key);
      }
      if (opts.limit !== undefined && settled >= opts.limit) return settled;
    }
  }
}
