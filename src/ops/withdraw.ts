/** Withdraw (sponsor): ASSIGNED -> WITHDRAWN. */
import type { Db } from '../db/client.ts';
import { changeStatus, readCas, refWhere } from '../db/lifecycle.ts';
import { describeRef, refusalMessage, type CasRef } from '../domain/lifecycle.ts';
import { notFound, refused, type Outcome } from '../domain/outcome.ts';

export async function withdrawCas(
  db: Db,
  ref: CasRef,
  now: Date,
  reason = 'withdrawn by the sponsor (cas-bdt cas withdraw)',
): Promise<Outcome<{ id: number; casNumber: string }>> {
  return db.transaction(async (tx): Promise<Outcome<{ id: number; casNumber: string }>> => {
    const [done] = await changeStatus(tx, refWhere(ref), 'withdraw', { now, reason });
    if (done) return { kind: 'done', id: done.id, casNumber: done.casNumber! };
    // Nothing changed: say why from the CAS as it is now.
    const row = await readCas(tx, ref);
    if (!row) return notFound();
    return refused(refusalMessage('withdraw', describeRef(ref), row.status));
  });
}
