/** One person's CAS across all sponsors (passport number and nationality), for the OBSOLETE rule. */
import { and, eq, ne, sql } from 'drizzle-orm';
import type { PersonCourse } from '../domain/lifecycle.ts';
import type { Db } from './client.ts';
import { cas } from './schema.ts';
import { chunkFor, jsonParam, rowsOf } from './sql-util.ts';

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

/** The key of a person in personsWithUsedCas's answer. */
export const personKey = (p: { nationality: string; passportNumber: string }) => JSON.stringify([p.nationality, p.passportNumber]);

/** Of these people, those who have a USED CAS, any sponsor's (keys of personKey). One index look-up per person. */
export async function personsWithUsedCas(tx: Db, people: { nationality: string; passportNumber: string }[]): Promise<Set<string>> {
  const out = new Set<string>();
  const unique = [...new Map(people.map((p) => [personKey(p), { n: p.nationality, p: p.passportNumber }])).values()];
  for (const part of chunkFor(unique, 1)) {
    // Served by cas_person_idx (passport number, nationality), one look-up per person.
    const rows = await rowsOf<{ n: string; p: string }>(
      tx,
      sql`select x.n, x.p from jsonb_to_recordset(${jsonParam(part)}) as x(n text, p text)
          where exists (select 1 from cas where cas.passport_number = x.p and cas.nationality = x.n and cas.status = 'USED')`,
    );
    for (const r of rows) out.add(personKey({ nationality: r.n, passportNumber: r.p }));
  }
  return out;
}
