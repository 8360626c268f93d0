/**
 * `cas decide`: the visa decision on an application made with a USED CAS, kept on the CAS
 * and as a DECISION event in its history (the status stays). A correction replaces the
 * decision and its event holds the one it replaced.
 */
import type { Db } from '../db/client.ts';
import { lockDecision, writeDecision } from '../db/decisions.ts';
import { withRetry } from '../db/lifecycle.ts';
import { isoDateUtc } from '../domain/dates.ts';
import { decisionProblem, type Decision } from '../domain/decision.ts';
import { notFound, refused, type Outcome } from '../domain/outcome.ts';

interface Decided {
  casNumber: string;
  sponsorLicenceNumber: string;
  decision: Decision;
  decidedOn: string;
  /** The decision this one corrected, if any. */
  replaced: { decision: Decision; decidedOn: string } | null;
}

export async function decideCas(
  db: Db,
  casNumber: string,
  decision: Decision,
  opts: { date?: string | undefined; correct?: boolean | undefined; now: Date },
): Promise<Outcome<Decided>> {
  const today = isoDateUtc(opts.now);
  const date = opts.date ?? today;
  const correct = opts.correct === true;
  return withRetry(() =>
    db.transaction(async (tx): Promise<Outcome<Decided>> => {
      const row = await lockDecision(tx, casNumber);
      if (!row) return notFound();
      const problem = decisionProblem(`CAS ${casNumber}`, row, date, today, correct);
      if (problem) return refused(problem);
      const replaced = row.decision && row.decidedOn ? { decision: row.decision, decidedOn: row.decidedOn } : null;
      await writeDecision(
        tx,
        row,
        { decision, decidedOn: date, replaced },
        { now: opts.now, reason: correct ? 'decision corrected (cas-bdt cas decide --correct)' : 'visa decision (cas-bdt cas decide)' },
      );
      return { kind: 'done', casNumber, sponsorLicenceNumber: row.sponsorLicenceNumber, decision, decidedOn: date, replaced };
    }),
  );
}
