/** Graduate notifications: marking USED CAS as graduated. */
import { and, eq, inArray } from 'drizzle-orm';
import type { CasStatus } from '../domain/types.ts';
import type { Db } from './client.ts';
import { cas, graduateReports } from './schema.ts';
import { chunkFor } from './sql-util.ts';

interface GraduateTarget {
  id: number;
  casNumber: string;
  status: CasStatus;
  graduatedOn: string | null;
}

/** The sponsor's CAS with these numbers; other sponsors' CAS are never returned. */
export async function findSponsorCasByNumbers(tx: Db, licence: string, numbers: string[]): Promise<Map<string, GraduateTarget>> {
  const out = new Map<string, GraduateTarget>();
  for (const part of chunkFor([...new Set(numbers)], 1)) {
    const rows = await tx
      .select({ id: cas.id, casNumber: cas.casNumber, status: cas.status, graduatedOn: cas.graduatedOn })
      .from(cas)
      .where(and(eq(cas.sponsorLicenceNumber, licence), inArray(cas.casNumber, part)));
    for (const r of rows) out.set(r.casNumber!, { ...r, casNumber: r.casNumber!, status: r.status });
  }
  return out;
}

export async function markGraduated(tx: Db, ids: number[], graduatedOn: string, submissionId: number, now: Date): Promise<void> {
  for (const part of chunkFor(ids, 4)) {
    await tx.update(cas).set({ graduatedOn }).where(inArray(cas.id, part));
    await tx.insert(graduateReports).values(part.map((casId) => ({ casId, submissionId, graduatedOn, reportedAt: now })));
  }
}
