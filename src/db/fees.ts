/**
 * Fees and notes on live CAS: the CAS a fee update names, locked for the rest of the
 * transaction, and the writes with their history events (FEES_UPDATED, NOTE).
 */
import { eq, sql } from 'drizzle-orm';
import { currentFees, type Fees } from '../domain/fees.ts';
import type { CasStatus } from '../domain/types.ts';
import type { Db } from './client.ts';
import { recordEvents } from './cas-events.ts';
import { cas } from './schema.ts';
import { jsonParam, rowsOf } from './sql-util.ts';

/** Rows per statement: a few megabytes of JSON at most. */
const ROWS_PER_STATEMENT = 5_000;

interface FeeCas {
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
  for (let from = 0, unique = [...new Set(numbers)]; from < unique.length; from += ROWS_PER_STATEMENT) {
    // The numbers as one jsonb parameter, each looked up by the unique index on cas_number.
    const rows = await rowsOf<{ id: string | number; cas_number: string; status: string; fees: unknown; details: unknown }>(
      tx,
      sql`select c.id, c.cas_number, c.status, c.fees, c.data -> 'FinancialAndAccommodationDetails' as details
          from cas c join jsonb_array_elements_text(${jsonParam(unique.slice(from, from + ROWS_PER_STATEMENT))}) as k(n) on c.cas_number = k.n
          where c.sponsor_licence_number = ${licence}
          order by c.id
          for update of c`,
    );
    for (const r of rows)
      out.set(r.cas_number, feeCas({ id: Number(r.id), casNumber: r.cas_number, status: r.status, fees: r.fees, details: r.details }));
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
  const last = [...new Map(rows.map((r) => [r.id, r.after]))].map(([id, f]) => ({ id, f }));
  for (let from = 0; from < last.length; from += ROWS_PER_STATEMENT) {
    await tx.execute(
      sql`update cas c set fees = v.f from jsonb_to_recordset(${jsonParam(last.slice(from, from + ROWS_PER_STATEMENT))}) as v(id bigint, f jsonb) where c.id = v.id`,
    );
  }
  const nowIso = ev.now.toISOString();
  for (let from = 0; from < rows.length; from += ROWS_PER_STATEMENT) {
    const part = rows
      .slice(from, from + ROWS_PER_STATEMENT)
      .map((r, i) => ({ o: from + i, id: r.id, s: r.status, b: r.before, a: r.after }));
    await tx.execute(
      sql`insert into cas_events (cas_id, from_status, to_status, at, reason, submission_id, kind, details)
          select v.id, v.s, v.s, ${nowIso}::timestamptz, ${ev.reason}::text, ${ev.submissionId ?? null}::bigint, 'FEES_UPDATED', jsonb_build_object('before', v.b, 'after', v.a)
          from jsonb_to_recordset(${jsonParam(part)}) as v(o int, id bigint, s text, b jsonb, a jsonb)
          order by v.o`,
    );
  }
}

/** A sponsor's note, kept in the CAS's history (never in a log). */
export async function insertNote(
  tx: Db,
  c: { id: number; status: CasStatus },
  text: string,
  ev: { now: Date; reason: string },
): Promise<void> {
  await recordEvents(tx, [
    { casId: c.id, fromStatus: c.status, toStatus: c.status, at: ev.now, reason: ev.reason, kind: 'NOTE', details: { text } },
  ]);
}
