/**
 * `cas fees`: the sponsor's fees on one ASSIGNED or USED CAS, by hand, with the same
 * rules as a fee update file's record and a FEES_UPDATED event. One transaction; the CAS's
 * row is locked, so a withdraw or a use racing it happens wholly before or after.
 */
import type { Db } from '../db/client.ts';
import { lockCasByNumber, writeFees } from '../db/fees.ts';
import { withRetry } from '../db/lifecycle.ts';
import { notFound, refused, type Outcome } from '../domain/outcome.ts';
import { judgeFeeUpdate, type FeeChange, type Fees } from '../domain/fees.ts';
import { hasErrors } from '../domain/rules.ts';

interface FeesSet {
  casNumber: string;
  sponsorLicenceNumber: string;
  before: Fees;
  after: Fees;
  /** False when the amounts given are the current ones (W_NO_CHANGE): nothing was written. */
  changed: boolean;
}

const FEES_BY_HAND = 'fees updated by the sponsor (cas-bdt cas fees)';

export async function setFees(db: Db, casNumber: string, change: FeeChange, now: Date): Promise<Outcome<FeesSet>> {
  return withRetry(() =>
    db.transaction(async (tx): Promise<Outcome<FeesSet>> => {
      const row = await lockCasByNumber(tx, casNumber);
      if (!row) return notFound();
      const judged = judgeFeeUpdate(casNumber, change, row);
      if (hasErrors(judged.issues)) return refused(judged.issues.map((i) => i.message).join('; '));
      const base = { kind: 'done' as const, casNumber, sponsorLicenceNumber: row.sponsorLicenceNumber, before: row.fees };
      if (!judged.fees) return { ...base, after: row.fees, changed: false };
      await writeFees(tx, [{ id: row.id, status: row.status, before: row.fees, after: judged.fees }], { now, reason: FEES_BY_HAND });
      return { ...base, after: judged.fees, changed: true };
    }),
  );
}
