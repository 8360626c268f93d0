/**
 * Delete an unassigned CAS (WORK_IN_PROGRESS or READY_TO_GO); a CAS that was ever
 * assigned is never deleted.
 *
 * The row goes (so the CAS leaves `cas list` and its duplicate key is free for a new
 * upload), its personal data with it. Its events stay in cas_events, ending with one to
 * DELETED, so the audit trail of what was created, amended and deleted survives.
 */
import type { Db } from '../db/client.ts';
import { deleteUnassigned, readCas } from '../db/lifecycle.ts';
import { lockSponsor } from '../db/sponsors.ts';
import { describeRef, refusalMessage, type CasRef } from '../domain/lifecycle.ts';
import { notFound, refused, type Outcome } from '../domain/outcome.ts';
import type { CasStatus } from '../domain/types.ts';

interface Deleted {
  id: number;
  from: CasStatus;
  sponsorLicenceNumber: string;
}

export async function deleteCas(
  db: Db,
  ref: CasRef,
  now: Date,
  reason = 'deleted by the sponsor (cas-bdt cas delete)',
): Promise<Outcome<Deleted>> {
  return db.transaction(async (tx): Promise<Outcome<Deleted>> => {
    const row = await readCas(tx, ref);
    if (!row) return notFound();
    // Uploads amend and assign unassigned CAS under the sponsor's lock: take it too, so a
    // CAS is never deleted under a file that is amending or assigning it.
    await lockSponsor(tx, row.sponsorLicenceNumber);
    const gone = await deleteUnassigned(tx, row.id, now, reason);
    if (!gone) {
      const current = await readCas(tx, ref);
      if (!current) return notFound();
      return refused(refusalMessage('delete', describeRef(ref), current.status));
    }
    return { kind: 'done', id: gone.id, from: gone.from, sponsorLicenceNumber: row.sponsorLicenceNumber };
  });
}
