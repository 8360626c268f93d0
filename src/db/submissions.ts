/** Received files and their stored results. */
import { and, desc, eq, isNull, sql, type SQL } from 'drizzle-orm';
import type { FileType } from '../domain/types.ts';
import type { Db } from './client.ts';
import { submissions } from './schema.ts';
import { rowsOf } from './sql-util.ts';

export type SubmissionRow = typeof submissions.$inferSelect;

export async function nextSubmissionId(db: Db): Promise<number> {
  const [row] = await rowsOf<{ id: string | number }>(db, sql`select nextval(pg_get_serial_sequence('submissions', 'id'))::text as id`);
  return Number(row!.id);
}

/** The sponsor's original ACCEPTED submission (not a replay) matching `match`. */
async function findOriginalAccepted(db: Db, licence: string, match: SQL): Promise<SubmissionRow | undefined> {
  const [row] = await db
    .select()
    .from(submissions)
    .where(and(eq(submissions.sponsorLicenceNumber, licence), eq(submissions.outcome, 'ACCEPTED'), isNull(submissions.replayOf), match));
  return row;
}

export function findAccepted(db: Db, licence: string, sha256: string): Promise<SubmissionRow | undefined> {
  return findOriginalAccepted(db, licence, eq(submissions.sha256, sha256));
}

/** Upload file ids are shared by both upload types; fee update file ids are a namespace of their own. */
export function findAcceptedByFileId(db: Db, licence: string, fileType: FileType, fileId: string): Promise<SubmissionRow | undefined> {
  const types = fileType === 'UPDATE_FEES' ? sql`('UPDATE_FEES')` : sql`('UPLOAD_GENERAL', 'UPLOAD_CHILD')`;
  return findOriginalAccepted(db, licence, sql`${submissions.fileId} = ${fileId} and ${submissions.fileType} in ${types}`);
}

export async function insertSubmission(db: Db, row: typeof submissions.$inferInsert): Promise<void> {
  await db.insert(submissions).values(row);
}

export async function setResultFile(db: Db, id: number, resultFile: string): Promise<void> {
  await db
    .update(submissions)
    .set({ resultFile, summary: sql`jsonb_set(${submissions.summary}, '{resultFile}', to_jsonb(${resultFile}::text))` })
    .where(eq(submissions.id, id));
}

export async function getSubmission(db: Db, id: number): Promise<SubmissionRow | undefined> {
  const [row] = await db.select().from(submissions).where(eq(submissions.id, id));
  return row;
}

export async function listSubmissions(db: Db, licence?: string, limit = 1000): Promise<SubmissionRow[]> {
  return db
    .select()
    .from(submissions)
    .where(licence ? eq(submissions.sponsorLicenceNumber, licence) : undefined)
    .orderBy(desc(submissions.receivedAt), desc(submissions.id))
    .limit(limit);
}
