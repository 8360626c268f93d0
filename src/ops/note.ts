/**
 * `cas note`: a sponsor's note on an ASSIGNED or USED CAS, kept in its history (a NOTE
 * event; the status stays). The text is personal data: it is stored and shown, never logged.
 */
import type { Db } from '../db/client.ts';
import { insertNote, lockCasByNumber } from '../db/fees.ts';
import { withRetry } from '../db/lifecycle.ts';
import { notFound, refused, type Outcome } from '../domain/outcome.ts';
import { canAddNote, noteProblem, noteStatusMessage } from '../domain/fees.ts';

const NOTE_BY_HAND = 'note by the sponsor (cas-bdt cas note)';

export async function addNote(
  db: Db,
  casNumber: string,
  text: string,
  now: Date,
): Promise<Outcome<{ casNumber: string; sponsorLicenceNumber: string }>> {
  const problem = noteProblem(text);
  if (problem) return refused(problem);
  return withRetry(() =>
    db.transaction(async (tx): Promise<Outcome<{ casNumber: string; sponsorLicenceNumber: string }>> => {
      const row = await lockCasByNumber(tx, casNumber);
      if (!row) return notFound();
      if (!canAddNote(row.status)) return refused(noteStatusMessage(`CAS ${casNumber}`, row.status));
      await insertNote(tx, row, text, { now, reason: NOTE_BY_HAND });
      return { kind: 'done', casNumber, sponsorLicenceNumber: row.sponsorLicenceNumber };
    }),
  );
}
