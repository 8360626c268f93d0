/** The console's CAS statement (spec section 11): `/cas/:id/statement.pdf`, a draft for an unassigned CAS. */
import type { FastifyReply } from 'fastify';
import type { Db } from '../ops/store.ts';

/** Sends the statement of CAS `id`, or returns false when there is none (the caller answers 404). */
export async function sendStatement(db: Db, id: number | undefined, reply: FastifyReply): Promise<boolean> {
  if (id === undefined) return false;
  // Loaded on the first request: pdfkit stays out of the service's start.
  const { statementOf, statementFileName } = await import('../ops/statements.ts');
  const s = await statementOf(db, { id });
  if (!s) return false;
  // A download: the console's content security policy is kept, and a browser's PDF viewer is not asked to run under it.
  await reply
    .type('application/pdf')
    .header('content-disposition', `attachment; filename="${statementFileName(s)}"`)
    .send(s.pdf);
  return true;
}
