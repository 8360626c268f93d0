/** Licence status changes; revoked, expired and surrendered cancel the sponsor's (or route's) ASSIGNED CAS. */
import { and, asc, eq } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { changeStatus, withRetry } from '../db/lifecycle.ts';
import { cas, sponsors } from '../db/schema.ts';
import { lockSponsor, type SponsorRow } from '../db/sponsors.ts';
import { notFound, refused, type Outcome } from '../domain/outcome.ts';
import { routeNotLicensed } from '../domain/refusals.ts';
import type { LicenceStatus, Route } from '../domain/types.ts';

export type LicenceChange = Outcome<{ sponsor: SponsorRow; cancelled: string[] }>;

export const CANCELLING: readonly LicenceStatus[] = ['revoked', 'expired', 'surrendered'];

/** The ASSIGNED CAS a change would cancel (for `--dry-run` and the confirmation), by CAS number. */
export async function assignedCasNumbers(db: Db, licence: string, route: Route | undefined): Promise<string[]> {
  const rows = await db
    .select({ casNumber: cas.casNumber })
    .from(cas)
    .where(and(eq(cas.sponsorLicenceNumber, licence), eq(cas.status, 'ASSIGNED'), route ? eq(cas.route, route) : undefined))
    .orderBy(asc(cas.casNumber));
  return rows.map((r) => r.casNumber!);
}

/** Cancels ASSIGNED CAS of the sponsor (or of one route) with an event each; returns their numbers. */
async function cancelAssigned(tx: Db, licence: string, route: Route | undefined, reason: string, now: Date): Promise<string[]> {
  const rows = await changeStatus(tx, and(eq(cas.sponsorLicenceNumber, licence), route ? eq(cas.route, route) : undefined)!, 'cancel', {
    now,
    reason,
  });
  return rows.map((r) => r.casNumber!).sort();
}

/** The history's reason: what happened, by which command, and the operator's words. */
const because = (what: string, reason: string | undefined) => `${what} (cas-bdt sponsor status)${reason ? `: ${reason}` : ''}`;

export async function changeLicenceStatus(
  db: Db,
  licence: string,
  change: { status: LicenceStatus; route?: Route | undefined; reason?: string | undefined },
  now: Date,
): Promise<LicenceChange> {
  // A use elsewhere may be making one of these CAS OBSOLETE at the same moment; if
  // PostgreSQL settles that as a deadlock, this side simply runs again.
  return withRetry(() =>
    db.transaction(async (tx): Promise<LicenceChange> => {
      const sponsor = await lockSponsor(tx, licence);
      if (!sponsor) return notFound();
      if (change.route) {
        if (!sponsor.routes.includes(change.route)) {
          return refused(routeNotLicensed(licence, change.route));
        }
        const remaining = sponsor.routes.filter((r) => r !== change.route);
        const cancelled = await cancelAssigned(tx, licence, change.route, because(`route ${change.route} surrendered`, change.reason), now);
        // Surrendering the last route surrenders the licence; otherwise the status is left as it is.
        const [row] = await tx
          .update(sponsors)
          .set({ routes: remaining, updatedAt: now, ...(remaining.length === 0 ? { status: 'surrendered' } : {}) })
          .where(eq(sponsors.licenceNumber, licence))
          .returning();
        return { kind: 'done', sponsor: row!, cancelled };
      }
      const cancelled = CANCELLING.includes(change.status)
        ? await cancelAssigned(tx, licence, undefined, because(`licence ${change.status}`, change.reason), now)
        : [];
      const [row] = await tx
        .update(sponsors)
        .set({ status: change.status, updatedAt: now })
        .where(eq(sponsors.licenceNumber, licence))
        .returning();
      return { kind: 'done', sponsor: row!, cancelled };
    }),
  );
}
