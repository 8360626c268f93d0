/** The compliance view (spec section 10): every sponsor's (or one's) rates, states, late and missing reports on a date. */
import { complianceCounts, missingReports } from '../db/compliance.ts';
import type { Db } from '../db/client.ts';
import { assess, overdueStartCutoff, windowOf, type Compliance } from '../domain/compliance.ts';
import { dueDate, type Nation } from '../domain/working-days.ts';

/** Missing reports listed per sponsor at most (the count of late ones is exact). */
const MISSING_LISTED = 100;

export async function compliance(db: Db, opts: { asOf: string; nation: Nation; licence?: string | undefined }): Promise<Compliance[]> {
  const w = windowOf(opts.asOf);
  const [counts, missing] = await Promise.all([
    complianceCounts(db, w, opts.licence),
    missingReports(db, overdueStartCutoff(opts.asOf, opts.nation), MISSING_LISTED, opts.licence),
  ]);
  return [...counts].map(([licence, c]) =>
    assess(
      licence,
      opts.asOf,
      c,
      (missing.get(licence) ?? []).map((m) => ({ ...m, dueDate: dueDate(m.courseStartDate, opts.nation) })),
    ),
  );
}
