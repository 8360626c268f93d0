/**
 * Fees and notes on live CAS: the CAS a fee update names, locked for the rest of the
 * transaction, and the writes with their history events (FEES_UPDATED, NOTE).
 */
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { currentFees, type Fees } from '../domain/fees.ts';
import type { CasStatus } from '../domain/types.ts';
import type { Db } from './client.ts';
import { cas, casEvents } from './schema.ts';
import { chunkFor, jsonParam } from './sql-util.ts';

export interface FeeCas {
  id: number;
  casNumber: string;
  status: CasStatus;
  fees: Fees;
}

const feeColumns = {
  id: cas.id,
  casNumber: cas.casNumber,
  status: cas.status,
  fees: cas.fees,
  details: sql<unknown>`${cas.data} -> 'FinancialAndAccommodationDetails'`,
};

const feeCas = (r: { id: number; casNumber: string | null; status: string; fees: unknown; details: unknown }): FeeCas => ({
  id: r.id,
  casNumber: r.casNumber!,
  status: r.status as CasStatus,
  fees: currentFees(r.fees, { FinancialAndAccommodationDetails: r.details }),
});

/**
 * The sponsor's CAS with these numbers, each row locked (FOR UPDATE, in id order) until the
 * transaction ends: a withdraw or a use of the same CAS waits, or is waited for, and the
 * status read here is the one the update is judged on. Other sponsors' CAS are never returned.
 */
export async function lockSponsorCasByNumbers(tx: Db, licence: string, numbers: string[]): Promise<Map<string, FeeCas>> {
  const out = new Map<string, FeeCas>();
  for (const part of chunkFor([...new Set(numbers)], 1)) {
    const rows = await tx
      .select(feeColumns)
      .from(cas)
      .where(and(eq(cas.sponsorLicenceNumber, licence), inArray(cas.casNumber, part)))
      .orderBy(asc(cas.id))
      .for('update');
    for (const r of rows) out.set(r.casNumber!, feeCas(r));
  }
  return out;
}

/** One CAS by number, any sponsor's, locked as above (the operator's `cas fees` and `cas note`). */
export async function lockCasByNumber(tx: Db, casNumber: string): Promise<(FeeCas & { sponsorLicenceNumber: string }) | undefined> {
  const [row] = await tx
    .select({ ...feeColumns, sponsorLicenceNumber: cas.sponsorLicenceNumber })
    .from(cas)
    .where(eq(cas.casNumber, casNumber))
    .for('update');
  return row && { ...feeCas(row), sponsorLicenceNumber: row.sponsorLicenceNumber };
}

export interface FeeWrite {
  id: number;
  status: CasStatus;
  before: Fees;
  after: Fees;
}

/**
 * Sets the CAS's fees, with one FEES_UPDATED event per write holding the old and new
 * amounts; the status stays. Several writes to one CAS apply in order (the last one stays).
 */
export async function writeFees(tx: Db, rows: FeeWrite[], ev: { now: Date; reason: string; submissionId?: number }): Promise<void> {
  const last = new Map(rows.map((r) => [r.id, r.after]));
  for (const part of chunkFor([...last], 2)) {
    await tx.execute(
      sql`update cas c set fees = v.f from jsonb_to_recordset(${jsonParam(part.map(([id, f]) => ({ id, f })))}) as v(id bigint, f jsonb) where c.id = v.id`,
    );
  }
  for (const part of chunkFor(rows, 8)) {
    await tx.insert(casEvents).values(
      part.map((r) => ({
        casId: r.id,
        fromStatus: r.status,
        toStatus: r.status,
        at: ev.now,
        reason: ev.reason,
        submissionId: ev.submissionId ?? null,
        kind: 'FEES_UPDATED',
        details: { before: r.before, after: r.after },
      })),
    );
  }
}

/** A sponsor's note, kept in the CAS's history (never in a log). */
export async function insertNote(tx: Db, c: { id: number; status: CasStatus }, text: string, ev: { now: Date; reason: string }): Promise<void> {
  await tx.insert(casEvents).values({ casId: c.id, fromStatus: c.status, toStatus: c.status, at: ev.now, reason: ev.reason, kind: 'NOTE', details: { text } });
}
