/** The compliance view (spec section 10): every sponsor's (or one's) rates, states, late and missing reports on a date. */
import { computeFigures, currentFigures, type FiguresKey, type SponsorFigures } from '../db/compliance.ts';
import type { Db } from '../db/client.ts';
import { assess, overdueStartCutoff, windowOf, type Compliance } from '../domain/compliance.ts';
import { dueDate, type Nation } from '../domain/working-days.ts';

/** Missing reports listed per sponsor at most (the count of late ones is exact). */
const MISSING_LISTED = 100;

const keyOf = (asOf: string, nation: Nation): FiguresKey => ({
  window: windowOf(asOf),
  cutoff: overdueStartCutoff(asOf, nation),
  missingListed: MISSING_LISTED,
});

function assessed(figures: SponsorFigures[], asOf: string, nation: Nation): Compliance[] {
  const due = new Map<string, string>(); // many missing reports share a start date
  const dueOn = (start: string) => due.get(start) ?? due.set(start, dueDate(start, nation)).get(start)!;
  return figures.map((f) =>
    assess(
      f.licence,
      asOf,
      f.counts,
      f.missing.map((m) => ({ ...m, dueDate: dueOn(m.courseStartDate) })),
    ),
  );
}

/** Computed from the CAS and reports now, whatever was computed before (the CLI's `compliance`, any date). */
export async function compliance(db: Db, opts: { asOf: string; nation: Nation; licence?: string | undefined }): Promise<Compliance[]> {
  const figures = await computeFigures(db, keyOf(opts.asOf, opts.nation), opts.licence === undefined ? undefined : [opts.licence]);
  return assessed(figures, opts.asOf, opts.nation);
}

/**
 * Every sponsor's, current when asked, from the figures kept by the last call: only the
 * sponsors whose CAS, reports or licence changed since are computed again (all of them on
 * the first call of a day). For the console and the metrics, which ask often: given what
 * the caller got last time (`held`), the same rows are returned when they are still current.
 */
export async function currentCompliance(
  db: Db,
  opts: { asOf: string; nation: Nation },
  held?: { version: string; rows: Compliance[] },
): Promise<{ rows: Compliance[]; recomputed: string[] | 'all'; version: string }> {
  const key = { ...keyOf(opts.asOf, opts.nation), asOf: opts.asOf, nation: opts.nation };
  const { figures, partial, recomputed, version } = await currentFigures(db, key, held?.version);
  if (!figures) return { rows: held!.rows, recomputed, version };
  const fresh = assessed(figures, opts.asOf, opts.nation);
  if (!partial || recomputed === 'all') return { rows: fresh, recomputed, version };
  // The rows held, but those of the sponsors computed again (a sponsor that is no more has none).
  const again = new Set(recomputed);
  const rows = [...held!.rows.filter((r) => !again.has(r.sponsorLicenceNumber)), ...fresh];
  rows.sort((a, b) => (a.sponsorLicenceNumber < b.sponsorLicenceNumber ? -1 : a.sponsorLicenceNumber > b.sponsorLicenceNumber ? 1 : 0));
  return { rows, recomputed, version };
}
