/** Sponsors and their allocation. */
import { asc, eq, sql } from 'drizzle-orm';
import type { ExportSchema } from '../domain/export.ts';
import type { LicenceStatus, Route } from '../domain/types.ts';
import type { Db } from './client.ts';
import { allocations, sponsors } from './schema.ts';
import { decodeRow, rowsOf } from './sql-util.ts';

export type SponsorRow = typeof sponsors.$inferSelect;

export interface SponsorView {
  licenceNumber: string;
  name: string;
  status: LicenceStatus;
  routes: Route[];
  autoAssign: boolean;
  /** `outbox/<CAS-NUMBER>.statement.pdf` for each CAS assigned (`sponsor set --statements`). */
  statements: boolean;
  /** The schema of the sponsor's exports: 2.1.1 or 1.1.1. */
  exportSchema: ExportSchema;
  allocation: { granted: number; used: number; unused: number };
}

export function sponsorView(s: SponsorRow): SponsorView {
  return {
    licenceNumber: s.licenceNumber,
    name: s.name,
    status: s.status,
    routes: [...s.routes].sort(),
    autoAssign: s.autoAssign,
    statements: s.statements,
    exportSchema: s.exportSchema,
    allocation: { granted: s.allocationGranted, used: s.allocationUsed, unused: s.allocationGranted - s.allocationUsed },
  };
}

export async function addSponsor(
  db: Db,
  s: {
    licenceNumber: string;
    name: string;
    routes: Route[];
    autoAssign: boolean;
    allocation: number;
    exportSchema?: ExportSchema | undefined;
  },
  now: Date,
): Promise<SponsorRow> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(sponsors)
      .values({
        licenceNumber: s.licenceNumber,
        name: s.name,
        routes: s.routes,
        autoAssign: s.autoAssign,
        allocationGranted: s.allocation,
        exportSchema: s.exportSchema,
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    if (s.allocation > 0) {
      await tx
        .insert(allocations)
        .values({ sponsorLicenceNumber: s.licenceNumber, amount: s.allocation, grantedAt: now, reason: 'sponsor add' });
    }
    return row!;
  });
}

export async function getSponsor(db: Db, licence: string): Promise<SponsorRow | undefined> {
  const [row] = await db.select().from(sponsors).where(eq(sponsors.licenceNumber, licence));
  return row;
}

/**
 * Reads the sponsor row and locks it until the transaction ends: allocation and uploads of
 * one sponsor serialise here. A raw statement: it runs once per file of a backlog (see decodeRow).
 */
export async function lockSponsor(tx: Db, licence: string): Promise<SponsorRow | undefined> {
  const [row] = await rowsOf<Record<string, unknown>>(tx, sql`select * from sponsors where licence_number = ${licence} for update`);
  return row && decodeRow(sponsors, row);
}

export async function listSponsors(db: Db): Promise<SponsorRow[]> {
  return db.select().from(sponsors).orderBy(asc(sponsors.licenceNumber));
}

export async function grantAllocation(db: Db, licence: string, amount: number, now: Date): Promise<SponsorRow | undefined> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(sponsors)
      .set({ allocationGranted: sql`${sponsors.allocationGranted} + ${amount}`, updatedAt: now })
      .where(eq(sponsors.licenceNumber, licence))
      .returning();
    if (!row) return undefined;
    await tx.insert(allocations).values({ sponsorLicenceNumber: licence, amount, grantedAt: now, reason: 'sponsor allocate' });
    return row;
  });
}
