/** One person's CAS across all sponsors (passport number and nationality), for the OBSOLETE rule. */
import { and, eq, ne, sql } from 'drizzle-orm';
import type { PersonCourse } from '../domain/lifecycle.ts';
import type { Db } from './client.ts';
import { cas } from './schema.ts';

/**
 * Serialises the uses of one person's CAS until the transaction ends, so two of them at
 * once cannot each make the other OBSOLETE (nor deadlock doing so). One-key form: the int4
 * hash never meets the migration lock's key, nor the services' two-key liveness locks.
 */
export async function lockPerson(tx: Db, p: { nationality: string; passportNumber: string }): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`person:${p.nationality}:${p.passportNumber}`}))`);
}

/** The person's other ASSIGNED CAS, any sponsor's. */
export async function otherAssignedOfPerson(
  tx: Db,
  p: { nationality: string; passportNumber: string },
  exceptId: number,
): Promise<(PersonCourse & { id: number; casNumber: string | null; sponsorLicenceNumber: string })[]> {
  return tx
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
    .where(
      and(eq(cas.passportNumber, p.passportNumber), eq(cas.nationality, p.nationality), eq(cas.status, 'ASSIGNED'), ne(cas.id, exceptId)),
    );
}
