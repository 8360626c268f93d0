/**
 * Use (Home Office: a visa application made on a date): ASSIGNED or EXPIRED -> USED when
 * the date is on or before the expiry date; then the OBSOLETE rule across all sponsors.
 */
import { and, gte, inArray } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { changeStatus, readCas, refWhere, withRetry } from '../db/lifecycle.ts';
import { lockPerson, otherAssignedOfPerson } from '../db/person.ts';
import { cas } from '../db/schema.ts';
import {
  applicationDateAllowed,
  describeRef,
  lateApplicationMessage,
  makesObsolete,
  refusalMessage,
  type CasRef,
} from '../domain/lifecycle.ts';
import { notFound, refused, type Outcome } from '../domain/outcome.ts';
import type { CasStatus } from '../domain/types.ts';

interface Used {
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
      if (!before) return notFound();
      await lockPerson(tx, before);

      const [done] = await changeStatus(tx, and(refWhere(ref), gte(cas.expiresOn, applicationDate))!, 'use', {
        now,
        reason: `visa application of ${applicationDate} (cas-bdt cas use)`,
        set: { usedOn: applicationDate },
      });
      if (!done) {
        const row = await readCas(tx, ref);
        if (!row) return notFound();
        const status = row.status;
        const what = describeRef(ref);
        if ((status === 'ASSIGNED' || status === 'EXPIRED') && row.expiresOn && !applicationDateAllowed(applicationDate, row.expiresOn)) {
          return refused(lateApplicationMessage(what, applicationDate, row.expiresOn));
        }
        return refused(refusalMessage('use', what, status));
      }

      const candidates = await otherAssignedOfPerson(tx, before, done.id);
      const overlapping = candidates.filter((c) => makesObsolete(before, c));
      const obsoleted = overlapping.length
        ? await changeStatus(
            tx,
            inArray(
              cas.id,
              overlapping.map((c) => c.id),
            ),
            'obsolete',
            {
              now,
              reason: `CAS ${done.casNumber} of the same person was used for an overlapping course`,
            },
          )
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
