/**
 * `cas-bdt assign`: assigning READY_TO_GO CAS created earlier, one CAS or a whole batch,
 * all or nothing, with one payment, through the same `assignCas` as the upload path.
 */
import { and, asc, count, eq } from 'drizzle-orm';
import { refusalMessage } from '../domain/lifecycle.ts';
import type { CasStatus, Route } from '../domain/types.ts';
import { assignCas, type AssignSettings } from '../db/assign.ts';
import type { Db } from '../db/client.ts';
import type { Outcome } from '../db/lifecycle.ts';
import { batches, cas } from '../db/schema.ts';
import { lockSponsor, type SponsorRow } from '../db/sponsors.ts';
import type { PaymentSummary } from '../domain/result.ts';

export type AssignTarget = { batch: string } | { id: number };

export interface AssignedLater {
  assigned: { id: number; casNumber: string }[];
  expiresOn: string;
  payment: PaymentSummary;
  /** The sponsor after the assignment (allocation used includes these CAS). */
  sponsor: SponsorRow;
}

const human = (s: string) => s.replaceAll('_', ' ');

/** The CAS of a batch by status, e.g. "2 ASSIGNED, 1 WORK IN PROGRESS", for refusal messages. */
async function batchStatusSummary(tx: Db, batchId: number): Promise<string> {
  const rows = await tx.select({ status: cas.status, n: count() }).from(cas).where(eq(cas.batchId, batchId)).groupBy(cas.status).orderBy(asc(cas.status));
  return rows.length ? rows.map((r) => `${r.n} ${human(r.status)}`).join(', ') : 'no CAS at all';
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
    if (!sponsor) return { kind: 'not-found', what: `sponsor ${licence}` };
    if (sponsor.status !== 'active') {
      return { kind: 'refused', message: `the sponsor licence ${licence} is ${sponsor.status}; CAS can be assigned only while it is active` };
    }

    let items: { id: number; route: Route }[];
    let what: string;
    if ('batch' in target) {
      what = `batch ${target.batch}`;
      const [batch] = await tx
        .select({ id: batches.id })
        .from(batches)
        .where(and(eq(batches.sponsorLicenceNumber, licence), eq(batches.name, target.batch)));
      if (!batch) return { kind: 'not-found', what: `batch ${target.batch} of sponsor ${licence}` };
      const rows = await tx
        .select({ id: cas.id, route: cas.route })
        .from(cas)
        .where(and(eq(cas.batchId, batch.id), eq(cas.sponsorLicenceNumber, licence), eq(cas.status, 'READY_TO_GO')))
        .orderBy(asc(cas.recordIndex), asc(cas.id))
        .for('update');
      if (rows.length === 0) {
        return { kind: 'refused', message: `batch ${target.batch} has no READY TO GO CAS to assign (it has ${await batchStatusSummary(tx, batch.id)})` };
      }
      items = rows.map((r) => ({ id: r.id, route: r.route as Route }));
    } else {
      what = `CAS id ${target.id}`;
      const [row] = await tx
        .select({ id: cas.id, route: cas.route, status: cas.status })
        .from(cas)
        .where(and(eq(cas.id, target.id), eq(cas.sponsorLicenceNumber, licence)))
        .for('update');
      if (!row) return { kind: 'not-found', what: `CAS id ${target.id} of sponsor ${licence}` };
      if (row.status !== 'READY_TO_GO') return { kind: 'refused', message: refusalMessage('assign', what, row.status as CasStatus) };
      items = [{ id: row.id, route: row.route as Route }];
    }

    const unlicensed = [...new Set(items.map((i) => i.route))].filter((r) => !sponsor.routes.includes(r));
    if (unlicensed.length) {
      return { kind: 'refused', message: `the sponsor ${licence} is not licensed for the ${unlicensed.join(' and ')} route; nothing was assigned` };
    }
    const unused = sponsor.allocationGranted - sponsor.allocationUsed;
    if (unused < items.length) {
      return {
        kind: 'refused',
        message:
          `${what} has ${items.length} READY TO GO CAS but the unused allocation of ${licence} is ${Math.max(0, unused)} ` +
          `(granted ${sponsor.allocationGranted}, used ${sponsor.allocationUsed}); nothing was assigned`,
      };
    }

    const done = await assignCas(tx, items, { licence, now: opts.now, settings: opts.settings, reason: `assigned by cas-bdt assign (${what})` });
    return {
      kind: 'done',
      assigned: items.map((i) => ({ id: i.id, casNumber: done.casNumbers.get(i.id)! })),
      expiresOn: done.expiresOn,
      payment: done.payment!,
      sponsor: { ...sponsor, allocationUsed: sponsor.allocationUsed + items.length, updatedAt: opts.now },
    };
  });
}
