/**
 * Recording student activity reports (spec section 9) in one transaction: what the report
 * file kind's store step runs, and what tests and tools call directly.
 */
import type { Db } from '../db/client.ts';
import { withRetry } from '../db/lifecycle.ts';
import { storeReports, type ReportOutcome } from '../db/reports.ts';
import type { ReportInput } from '../domain/reports.ts';
import type { Nation } from '../domain/working-days.ts';

export async function recordReports(
  db: Db,
  licence: string,
  reports: readonly ReportInput[],
  opts: { receivedAt: Date; nation: Nation; reason: string; submissionId?: number | undefined },
): Promise<ReportOutcome[]> {
  return withRetry(() => db.transaction((tx) => storeReports(tx, licence, reports, opts)));
}
