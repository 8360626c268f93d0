/** Registering a sponsor and granting it allocation: refusals and unknown sponsors as outcomes, like every operator action. */
import type { Db } from '../db/client.ts';
import { eq } from 'drizzle-orm';
import { sponsors } from '../db/schema.ts';
import { addSponsor as insertSponsor, grantAllocation as grant, lockSponsor, type SponsorRow } from '../db/sponsors.ts';
import { isUniqueViolation } from '../db/sql-util.ts';
import { notFound, refused, type Outcome } from '../domain/outcome.ts';
import { routeRemovedBySet, sponsorExists } from '../domain/refusals.ts';
import type { ExportSchema } from '../domain/export.ts';
import type { Route } from '../domain/types.ts';

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

/**
 * Changes a sponsor's name, routes or auto-assign setting; `changed` names what differed.
 * A route is only added here: taking one away is surrendering it (`sponsor status`).
 */
export async function updateSponsor(
  db: Db,
  licence: string,
  change: {
    name?: string | undefined;
    routes?: Route[] | undefined;
    autoAssign?: boolean | undefined;
    statements?: boolean | undefined;
    exportSchema?: ExportSchema | undefined;
  },
  now: Date,
): Promise<Outcome<{ sponsor: SponsorRow; changed: string[] }>> {
  return db.transaction(async (tx): Promise<Outcome<{ sponsor: SponsorRow; changed: string[] }>> => {
    const current = await lockSponsor(tx, licence);
    if (!current) return notFound(`sponsor ${licence}`);
    const removed = change.routes ? current.routes.filter((r) => !change.routes!.includes(r)) : [];
    if (removed[0]) return refused(routeRemovedBySet(licence, removed[0]));
    const set: Partial<Pick<SponsorRow, 'name' | 'routes' | 'autoAssign' | 'statements' | 'exportSchema'>> = {};
    if (change.name !== undefined && change.name !== current.name) set.name = change.name;
    if (change.routes && change.routes.length !== current.routes.length) set.routes = [...change.routes].sort();
    if (change.autoAssign !== undefined && change.autoAssign !== current.autoAssign) set.autoAssign = change.autoAssign;
    if (change.statements !== undefined && change.statements !== current.statements) set.statements = change.statements;
    if (change.exportSchema !== undefined && change.exportSchema !== current.exportSchema) set.exportSchema = change.exportSchema;
    const changed = Object.keys(set);
    if (!changed.length) return { kind: 'done', sponsor: current, changed };
    const [row] = await tx
      .update(sponsors)
      .set({ ...set, updatedAt: now })
      .where(eq(sponsors.licenceNumber, licence))
      .returning();
    return { kind: 'done', sponsor: row!, changed };
  });
}
