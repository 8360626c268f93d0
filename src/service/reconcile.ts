/**
 * Start-up (and periodic) reconciliation of claims left by an instance that died (and of
 * this instance's own committed claims whose result or move failed, when no file in the
 * inbox will bring them back to a worker):
 * - `claimed`: its transaction never committed, so nothing of the file is stored; the
 *   claim is dropped and the file, still in the inbox, is processed like any other. A zip
 *   whose claim records entries already stored keeps its claim, taken over, for the worker.
 * - `stored`: the submission is committed; write its result if that never happened, move
 *   the input if it is still there, and mark the claim done (one info line per file).
 * Claims of live instances are left alone (their liveness lock is held, lease current).
 * Every open claim is looked at, a page at a time, however many there are; a claim that
 * cannot be finished is reported once, not at every scan.
 */
import { ownStoredClaims, releaseClaim, takeableClaims, takeOver, type ClaimRow } from '../db/claims.ts';
import { describeError, isCasBdtError } from '../errors.ts';
import { fileKey, type ServiceContext } from './context.ts';
import { classifyFault, UNKNOWN_STRIKES } from './faults.ts';
import { finishStored, shownStoredName } from './finish.ts';
import { logProcessed } from './handle-file.ts';
import { shownClaimName } from './inbox-file.ts';

const PAGE = 100;

/** Failures in a row per claim id, per service: what has been reported already. */
const failuresOf = new WeakMap<ServiceContext, Map<number, number>>();

/** Every claim `page` yields, in id order, a page at a time. */
async function* allClaims(page: (afterId: number) => Promise<ClaimRow[]>): AsyncGenerator<ClaimRow> {
  for (let afterId = 0; ;) {
    const rows = await page(afterId);
    for (const r of rows) yield r;
    if (rows.length < PAGE) return;
    afterId = rows[rows.length - 1]!.id;
  }
}

/** Returns how many claims it settled. */
export async function reconcileClaims(ctx: ServiceContext, opts: { isStopping?: () => boolean } = {}): Promise<number> {
  let settled = 0;
  let failures = failuresOf.get(ctx);
  if (!failures) failuresOf.set(ctx, (failures = new Map()));
  const sources = [
    (after: number) => takeableClaims(ctx.db, ctx.me, PAGE, after),
    (after: number) => ownStoredClaims(ctx.db, ctx.me, PAGE, after),
  ];
  for (const source of sources) {
    for await (const found of allClaims(source)) {
      if (opts.isStopping?.()) return settled;
      if (await settleOne(ctx, found, failures)) settled++;
    }
  }
  return settled;
}

async function settleOne(ctx: ServiceContext, found: ClaimRow, failures: Map<number, number>): Promise<boolean> {
  const key = fileKey(found.sponsorLicenceNumber, found.fileName);
  // A worker of this instance has the file (or the recovery has it already).
  if (ctx.busyKeys.has(key)) return false;
  // Taken before the first await, so that a worker cannot start on the file meanwhile.
  ctx.busyKeys.add(key);
  const started = Date.now();
  const log = ctx.sponsorLog(found.sponsorLicenceNumber);
  try {
    // A sponsor whose folders are links is left alone (logged once by the check).
    if (!(await ctx.folders.check(found.sponsorLicenceNumber))) return false;
    const claim = found.owner === ctx.me ? found : await takeOver(ctx.db, found.id, ctx.me, ctx.leaseMs);
    if (!claim) return false;
    if (claim.state === 'claimed') {
      // A zip with entries stored keeps its claim (now ours): the worker that takes the zip
      // from the inbox finds them there, and they keep their submissions.
      if (!claim.entries) await releaseClaim(ctx.db, claim.id, ctx.me);
    } else {
      const finished = await finishStored(ctx, claim);
      logProcessed(log.child({ file: shownStoredName(finished.submission) }), finished, Date.now() - started, true);
    }
    failures.delete(found.id);
    return true;
  } catch (err) {
    if (isCasBdtError(err, 'claim-lost')) return false;
    const n = (failures.get(found.id) ?? 0) + 1;
    failures.set(found.id, n);
    const fault = classifyFault(err);
    const fileLog = log.child({ file: shownClaimName(found.fileName) });
    const fields = { claim: found.id, fault: fault.kind, err: describeError(err) };
    if (n === 1) fileLog.warn(fields, 'could not finish a file left unfinished; retrying at every scan');
    else if (n === UNKNOWN_STRIKES && fault.kind !== 'environment')
      fileLog.error({ ...fields, failures: n }, 'a file left unfinished keeps failing; look at the cause');
    else fileLog.debug(fields, 'could not finish a file left unfinished');
    return false;
  } finally {
    ctx.busyKeys.delete(key);
  }
}
