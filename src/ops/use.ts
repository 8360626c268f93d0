/**
 * Use (Home Office: a visa application made on a date): ASSIGNED or EXPIRED -> USED when
 * the date is on or before the expiry date; then the OBSOLETE rule across all sponsors.
 */
import { and, eq, gte, inArray, ne, sql } from 'drizzle-orm';
import { applicationDateAllowed, lateApplicationMessage, makesObsolete, refusalMessage } from '../domain/lifecycle.ts';
import type { CasStatus } from '../domain/types.ts';
import type { Db } from '../db/client.ts';
import { changeStatus, describeRef, readCas, refWhere, withRetry, type CasRef, type Outcome } from '../db/lifecycle.ts';
import { cas } from '../db/schema.ts';

export interface Used {
  id: number;
  casNumber: string;
  from: CasStatus;
  usedOn: string;
  /** The CAS made OBSOLETE, any sponsor's, by CAS number. */
  obsoleted: { id: number; casNumber: string; sponsorLicenceNumber: string }[];
}

/** Records a visa application made on `applicationDate` (YYYY-MM-DD) with the CAS. */
export async function useCas(db: Db, ref: CasRef, applicationDate: string, now: Date): Promise<Outcome<Used>> {
  return withRetry(() =>
    db.transaction(async (tx): Promise<Outcome<Used>> => {
      const before = await readCas(tx, ref);
      if (!before) return { kind: 'not-found' };
      // Uses of one person's CAS serialise here, so two of them at once cannot each make
      // the other OBSOLETE (nor deadlock doing so). One-key form: the int4 hash never
      // meets the migration lock's key, nor the services' two-key liveness locks.
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`person:${before.nationality}:${before.passportNumber}`}))`);

      const [done] = await changeStatus(tx, and(refWhere(ref), gte(cas.expiresOn, applicationDate))!, 'use', {
        now,
        reason: `visa application of ${applicationDate} (cas-bdt cas use)`,
        set: { usedOn: applicationDate },
      });
      if (!done) {
        const row = await readCas(tx, ref);
        if (!row) return { kind: 'not-found' };
        const status = row.status as CasStatus;
        const what = describeRef(ref);
        if ((status === 'ASSIGNED' || status === 'EXPIRED') && row.expiresOn && !applicationDateAllowed(applicationDate, row.expiresOn)) {
          return { kind: 'refused', message: lateApplicationMessage(what, applicationDate, row.expiresOn) };
        }
        return { kind: 'refused', message: refusalMessage('use', what, status) };
      }

      const candidates = await tx
        .select({
          id: cas.id,
          casNumber: cas.casNumber,
          sponsorLicenceNumber: cas.sponsorLicenceNumber,
          passportNumber: cas.passportNumber,
          nationality: cas.nationality,
          courseStartDate: cas.courseStartDate,
          expectedCourseEndDate: cas.expectedCourseEndDate,
        })
        .from(cas)
        .where(and(eq(cas.passportNumber, before.passportNumber), eq(cas.nationality, before.nationality), eq(cas.status, 'ASSIGNED'), ne(cas.id, done.id)));
      const overlapping = candidates.filter((c) => makesObsolete(before, c));
      const obsoleted = overlapping.length
        ? await changeStatus(tx, inArray(cas.id, overlapping.map((c) => c.id)), 'obsolete', {
            now,
            reason: `CAS ${done.casNumber} of the same person was used for an overlapping course`,
          })
        : [];
      const sponsorOf = new Map(candidates.map((c) => [c.id, c.sponsorLicenceNumber]));
      return {
        kind: 'done',
        id: done.id,
        casNumber: done.casNumber!,
        from: done.from,
        usedOn: applicationDate,
        obsoleted: obsoleted
          .map((o) => ({ id: o.id, casNumber: o.casNumber!, sponsorLicenceNumber: sponsorOf.get(o.id)! }))
          .sort((a, b) => (a.casNumber < b.casNumber ? -1 : 1)),
      };
    }),
  );
}
