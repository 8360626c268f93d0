/** Registering a sponsor and granting it allocation: refusals and unknown sponsors as outcomes, like every operator action. */
import type { Db } from '../db/client.ts';
import { addSponsor as insertSponsor, grantAllocation as grant, type SponsorRow } from '../db/sponsors.ts';
import { isUniqueViolation } from '../db/sql-util.ts';
import { notFound, refused, type Outcome } from '../domain/outcome.ts';
import { sponsorExists } from '../domain/refusals.ts';

export type NewSponsor = Parameters<typeof insertSponsor>[1];

/** A sponsor that exists already is refused (the licence number is the primary key: PostgreSQL settles a race). */
export async function addSponsor(db: Db, s: NewSponsor, now: Date): Promise<Outcome<{ sponsor: SponsorRow }>> {
  try {
    return { kind: 'done', sponsor: await insertSponsor(db, s, now) };
  } catch (err) {
    if (isUniqueViolation(err)) return refused(sponsorExists(s.licenceNumber));
    throw err;
  }
}

export async function grantAllocation(db: Db, licence: string, amount: number, now: Date): Promise<Outcome<{ sponsor: SponsorRow }>> {
  const sponsor = await grant(db, licence, amount, now);
  return sponsor ? { kind: 'done', sponsor } : notFound(`sponsor ${licence}`);
}
