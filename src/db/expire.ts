/** The expiry sweep: ASSIGNED CAS whose expiry date has passed become EXPIRED. */
import { and, eq, lt } from 'drizzle-orm';
import type { Db } from './client.ts';
import { cas, casEvents } from './schema.ts';
import { chunkFor } from './sql-util.ts';

/**
 * Expires every ASSIGNED CAS whose expiry date is before `asOf` (YYYY-MM-DD); a CAS is
 * still valid on its expiry date. Returns the CAS numbers expired.
 */
export async function expireDue(db: Db, asOf: string, now: Date, reason = 'expiry sweep'): Promise<string[]> {
  return db.transaction(async (tx) => {
    const rows = await tx
      .update(cas)
      .set({ status: 'EXPIRED', statusChangedAt: now })
      .where(and(eq(cas.status, 'ASSIGNED'), lt(cas.expiresOn, asOf)))
      .returning({ id: cas.id, casNumber: cas.casNumber });
    const events = rows.map((r) => ({ casId: r.id, fromStatus: 'ASSIGNED', toStatus: 'EXPIRED', at: now, reason: `${reason} as of ${asOf}` }));
    for (const part of chunkFor(events, 5)) await tx.insert(casEvents).values(part);
    return rows.map((r) => r.casNumber!).sort();
  });
}
