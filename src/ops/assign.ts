/**
 * `cas-bdt assign`: assigning READY_TO_GO CAS created earlier, one CAS or a whole batch,
 * all or nothing, with one payment, by the upload path's assignment engine (db/assign.ts:
 * `assignCas` is its numbers, payment and allocation, applied to CAS already stored).
 */
import { assignCas, type AssignSettings } from '../db/assign.ts';
import { batchStatusCounts, findBatch, lockReadyOfBatch, lockSponsorCas } from '../db/batches.ts';
import type { Db } from '../db/client.ts';
import { lockSponsor, type SponsorRow } from '../db/sponsors.ts';
import { refusalMessage } from '../domain/lifecycle.ts';
import { notFound, refused, type Outcome } from '../domain/outcome.ts';
import { allocationShort, licenceNotActive, nothingReadyInBatch, routesNotLicensed } from '../domain/refusals.ts';
import type { PaymentSummary } from '../domain/result.ts';
import type { Route } from '../domain/types.ts';

export type AssignTarget = { batch: string } | { id: number };

interface AssignedLater {
  assigned: { id: number; casNumber: string }[];
  expiresOn: string;
  payment: PaymentSummary;
  /** The sponsor after the assignment (allocation used includes these CAS). */
  sponsor: SponsorRow;
}

export async function assignLater(
  db: Db,
  licence: string,
  target: AssignTarget,
  opts: { now: Date; settings: AssignSettings },
): Promise<Outcome<AssignedLater>> {
  return db.transaction(async (tx): Promise<Outcome<AssignedLater>> => {
    // All allocation changes of a sponsor serialise on its row: concurrent assignments
    // see each other's `used` and never overspend.
    const sponsor = await lockSponsor(tx, licence);
    if (!sponsor) return notFound(`sponsor ${licence}`);
    if (sponsor.status !== 'active') return refused(licenceNotActive(licence, sponsor.status));

    let items: { id: number; route: Route }[];
    let what: string;
    if ('batch' in target) {
      what = `batch ${target.batch}`;
      const batch = await findBatch(tx, licence, target.batch);
      if (!batch) return notFound(`batch ${target.batch} of sponsor ${licence}`);
      items = await lockReadyOfBatch(tx, licence, batch.id);
      if (items.length === 0) return refused(nothingReadyInBatch(target.batch, await batchStatusCounts(tx, batch.id)));
    } else {
      what = `CAS id ${target.id}`;
      const row = await lockSponsorCas(tx, licence, target.id);
      if (!row) return notFound(`CAS id ${target.id} of sponsor ${licence}`);
      if (row.status !== 'READY_TO_GO') return refused(refusalMessage('assign', what, row.status));
      items = [{ id: row.id, route: row.route }];
    }

    const unlicensed = [...new Set(items.map((i) => i.route))].filter((r) => !sponsor.routes.includes(r));
    if (unlicensed.length) return refused(routesNotLicensed(licence, unlicensed));
    if (sponsor.allocationGranted - sponsor.allocationUsed < items.length) {
      return refused(allocationShort(what, items.length, licence, { granted: sponsor.allocationGranted, used: sponsor.allocationUsed }));
    }

    const done = await assignCas(tx, items, {
      licence,
      now: opts.now,
      settings: opts.settings,
      reason: `assigned by cas-bdt assign (${what})`,
    });
    return {
      kind: 'done',
      assigned: items.map((i) => ({ id: i.id, casNumber: done.casNumbers.get(i.id)! })),
      expiresOn: done.expiresOn,
      payment: done.payment!,
      sponsor: { ...sponsor, allocationUsed: sponsor.allocationUsed + items.length, updatedAt: opts.now },
    };
  });
}
