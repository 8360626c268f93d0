/** The expiry sweep: ASSIGNED CAS whose expiry date has passed become EXPIRED. */
import { lt } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { changeStatus, withRetry } from '../db/lifecycle.ts';
import { cas } from '../db/schema.ts';

/**
 * Expires every ASSIGNED CAS whose expiry date is before `asOf` (YYYY-MM-DD); a CAS is
 * still valid on its expiry date. Returns the CAS numbers expired, sorted.
 */
export async function expireDue(db: Db, asOf: string, now: Date, reason = 'expiry sweep'): Promise<string[]> {
  return withRetry(() =>
    db.transaction(async (tx) => {
      const rows = await changeStatus(tx, lt(cas.expiresOn, asOf), 'expire', { now, reason: `${reason} as of ${asOf}` });
      return rows.map((r) => r.casNumber!).sort();
    }),
  );
}
