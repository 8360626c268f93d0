/**
 * Delete an unassigned CAS (WORK_IN_PROGRESS or READY_TO_GO); a CAS that was ever
 * assigned is never deleted.
 *
 * The row goes (so the CAS leaves `cas list` and its duplicate key is free for a new
 * upload), its personal data with it. Its events stay in cas_events, ending with one to
 * DELETED, so the audit trail of what was created, amended and deleted survives.
 */
import { and, eq, inArray } from 'drizzle-orm';
import { DELETABLE, refusalMessage } from '../domain/lifecycle.ts';
import type { CasStatus } from '../domain/types.ts';
import type { Db } from '../db/client.ts';
import { describeRef, readCas, refWhere, type CasRef, type Outcome } from '../db/lifecycle.ts';
import { cas, casEvents } from '../db/schema.ts';
import { lockSponsor } from '../db/sponsors.ts';

/** The to_status of the last event of a deleted CAS (not a CAS status: the CAS is gone). */
export const DELETED_EVENT = 'DELETED';

export interface Deleted {
  id: number;
  from: CasStatus;
  sponsorLicenceNumber: string;
}

export async function deleteCas(db: Db, ref: CasRef, now: Date, reason = 'deleted by the sponsor (cas-bdt cas delete)'): Promise<Outcome<Deleted>> {
  return db.transaction(async (tx): Promise<Outcome<Deleted>> => {
    const row = await readCas(tx, ref);
    if (!row) return { kind: 'not-found' };
    // Uploads amend and assign unassigned CAS under the sponsor's lock: take it too, so a
    // CAS is never deleted under a file that is amending or assigning it.
    await lockSponsor(tx, row.sponsorLicenceNumber);
    const [gone] = await tx
      .delete(cas)
      .where(and(eq(cas.id, row.id), inArray(cas.status, [...DELETABLE])))
      .returning({ id: cas.id, status: cas.status });
    if (!gone) {
      const current = await readCas(tx, ref);
      if (!current) return { kind: 'not-found' };
      return { kind: 'refused', message: refusalMessage('delete', describeRef(ref), current.status as CasStatus) };
    }
    await tx.insert(casEvents).values({ casId: gone.id, fromStatus: gone.status, toStatus: DELETED_EVENT, at: now, reason });
    return { kind: 'done', id: gone.id, from: gone.status as CasStatus, sponsorLicenceNumber: row.sponsorLicenceNumber };
  });
}
