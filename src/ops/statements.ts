/**
 * CAS statements (spec section 11): one CAS's PDF, a sponsor's in bulk, and the statements
 * owed to sponsors' outboxes (`sponsor set --statements`), written once each.
 */
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import type { Db } from '../db/client.ts';
import {
  STATEMENTS_PER_QUERY,
  pendingStatementsBatch,
  statementCasId,
  statementCasIds,
  statementInputs,
  statementWritten,
} from '../db/statements.ts';
import { statementContent } from '../domain/statement.ts';
import type { CasStatus } from '../domain/types.ts';
import { writeOrAdopt } from '../inbox/atomic-write.ts';
import { realSponsorDir } from '../inbox/fd-path.ts';
import { sponsorDir } from '../inbox/layout.ts';
import { statementPdf } from '../pdf/statement-pdf.ts';

export interface Statement {
  id: number;
  casNumber: string | null;
  pdf: Buffer;
}

/** The name a statement is written under: `<CAS-NUMBER>.statement.pdf`, or `draft-<id>.statement.pdf`. */
export const statementFileName = (s: { id: number; casNumber: string | null }) =>
  s.casNumber ? `${s.casNumber}.statement.pdf` : `draft-${s.id}.statement.pdf`;

/** One CAS's statement, or undefined when there is no such CAS. */
export async function statementOf(db: Db, by: { id: number } | { casNumber: string }): Promise<Statement | undefined> {
  const id = await statementCasId(db, by);
  if (id === undefined) return undefined;
  const [input] = await statementInputs(db, [id]);
  if (!input) return undefined;
  return { id, casNumber: input.casNumber, pdf: await statementPdf(statementContent(input)) };
}

/** The ids of the CAS `cas statements` makes statements of. */
export const statementIds = (db: Db, f: { licence: string; batch?: string | undefined; status?: CasStatus | undefined }) =>
  statementCasIds(db, f);

/** The statements of these CAS, loaded a part at a time. */
export async function* statementsOf(db: Db, ids: readonly number[]): AsyncGenerator<Statement> {
  for (let at = 0; at < ids.length; at += STATEMENTS_PER_QUERY) {
    for (const input of await statementInputs(db, ids.slice(at, at + STATEMENTS_PER_QUERY))) {
      yield { id: input.id, casNumber: input.casNumber, pdf: await statementPdf(statementContent(input)) };
    }
  }
}

const isFile = async (file: string) => (await lstat(file).catch(() => undefined))?.isFile() === true;

/**
 * Writes the statements owed to sponsors' outboxes, a part at a time, and marks each
 * written once it is durable. A statement already there (written before a kill, with
 * the same bytes or, when the CAS changed since, older ones) counts as written: the
 * outbox gets one statement per CAS, never a second. Returns how many were settled.
 */
export async function writeOwedStatements(db: Db, rootDir: string, opts: { limit?: number; licence?: string } = {}): Promise<number> {
  let settled = 0;
  const limit = opts.limit ?? Infinity;
  while (settled < limit) {
    const owed = await pendingStatementsBatch(db, Math.min(STATEMENTS_PER_QUERY, limit - settled), opts.licence);
    if (owed.length === 0) break;
    const inputs = new Map(
      (
        await statementInputs(
          db,
          owed.map((o) => o.casId),
        )
      ).map((i) => [i.id, i]),
    );
    const done: number[] = [];
    for (const o of owed) {
      const input = inputs.get(o.casId);
      if (input && input.casNumber === o.casNumber) {
        const outbox = sponsorDir(rootDir, o.sponsorLicenceNumber, 'outbox');
        const name = statementFileName(input);
        const pdf = await statementPdf(statementContent(input));
        try {
          await writeOrAdopt(outbox, [name], pdf, await realSponsorDir(rootDir, o.sponsorLicenceNumber, 'outbox'));
        } catch (err) {
          // Taken by an earlier statement of this CAS (it changed since): that one stays.
          if (!(await isFile(path.join(outbox, name)))) throw err;
        }
      }
      // A CAS gone or renumbered since has nothing more to write.
      done.push(o.casId);
    }
    await statementWritten(db, done);
    settled += done.length;
  }
  return settled;
}
