/** Visa decisions on USED CAS: the CAS locked while judged, and the write with its DECISION event. */
import { eq } from 'drizzle-orm';
import type { Decision } from '../domain/decision.ts';
import type { CasStatus } from '../domain/types.ts';
import type { Db } from './client.ts';
import { recordEvents } from './cas-events.ts';
import { cas } from './schema.ts';

interface DecisionRow {
  id: number;
  sponsorLicenceNumber: string;
  status: CasStatus;
  decision: Decision | null;
  decidedOn: string | null;
}

/** One CAS by number, any sponsor's, locked (FOR UPDATE) until the transaction ends. */
export async function lockDecision(tx: Db, casNumber: string): Promise<DecisionRow | undefined> {
  const [row] = await tx
    .select({
      id: cas.id,
      sponsorLicenceNumber: cas.sponsorLicenceNumber,
      status: cas.status,
      decision: cas.decision,
      decidedOn: cas.decidedOn,
    })
    .from(cas)
    .where(eq(cas.casNumber, casNumber))
    .for('update');
  return row && { ...row, status: row.status, decision: row.decision ?? null, decidedOn: row.decidedOn ?? null };
}

export async function writeDecision(
  tx: Db,
  c: { id: number; status: CasStatus },
  d: { decision: Decision; decidedOn: string; replaced: { decision: Decision; decidedOn: string } | null },
  ev: { now: Date; reason: string },
): Promise<void> {
  await tx.update(cas).set({ decision: d.decision, decidedOn: d.decidedOn }).where(eq(cas.id, c.id));
  await recordEvents(tx, [
    { casId: c.id, fromStatus: c.status, toStatus: c.status, at: ev.now, reason: ev.reason, kind: 'DECISION', details: { ...d } },
  ]);
}
