/** Withdraw (sponsor): ASSIGNED -> WITHDRAWN. */
import { refusalMessage } from '../domain/lifecycle.ts';
import type { CasStatus } from '../domain/types.ts';
import type { Db } from '../db/client.ts';
import { changeStatus, describeRef, readCas, refWhere, type CasRef, type Outcome } from '../db/lifecycle.ts';

export async function withdrawCas(db: Db, ref: CasRef, now: Date, reason = 'withdrawn by the sponsor (cas-bdt cas withdraw)'): Promise<Outcome<{ id: number; casNumber: string }>> {
  return db.transaction(async (tx): Promise<Outcome<{ id: number; casNumber: string }>> => {
    const [done] = await changeStatus(tx, refWhere(ref), 'withdraw', { now, reason });
    if (done) return { kind: 'done', id: done.id, casNumber: done.casNumber! };
    // Nothing changed: say why from the CAS as it is now.
    const row = await readCas(tx, ref);
    if (!row) return { kind: 'not-found' };
    return { kind: 'refused', message: refusalMessage('withdraw', describeRef(ref), row.status as CasStatus) };
  });
}
