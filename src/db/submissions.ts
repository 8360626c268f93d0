/** Received files and their stored results. */
import { and, count, desc, eq, gte, isNull, lt, sql, type SQL } from 'drizzle-orm';
import type { FileOutcome, FileType } from '../domain/types.ts';
import type { Db } from './client.ts';
import { kindsInGroup, type FileKind } from '../domain/file-kinds.ts';
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

/** An accepted file whose id is `fileId` among the kinds of `group` (FILE_KINDS: both upload kinds share one group). */
export function findAcceptedByFileId(
  db: Db,
  licence: string,
  group: NonNullable<FileKind['fileIdGroup']>,
  fileId: string,
): Promise<SubmissionRow | undefined> {
  const types = sql.join(
    kindsInGroup(group).map((t) => sql`${t}`),
    sql`, `,
  );
  return findOriginalAccepted(db, licence, sql`${submissions.fileId} = ${fileId} and ${submissions.fileType} in (${types})`);
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

export interface SubmissionFilter {
  licence?: string | undefined;
  outcome?: FileOutcome | undefined;
  fileType?: FileType | undefined;
  fileName?: string | undefined;
  /** Received at or after this instant. */
  since?: Date | undefined;
  /** Received before this instant. */
  until?: Date | undefined;
}

function submissionWhere(f: SubmissionFilter): SQL | undefined {
  return and(
    f.licence ? eq(submissions.sponsorLicenceNumber, f.licence) : undefined,
    f.outcome ? eq(submissions.outcome, f.outcome) : undefined,
    f.fileType ? eq(submissions.fileType, f.fileType) : undefined,
    f.fileName !== undefined ? eq(submissions.fileName, f.fileName) : undefined,
    f.since ? gte(submissions.receivedAt, f.since) : undefined,
    f.until ? lt(submissions.receivedAt, f.until) : undefined,
  );
}

/** Received files, newest first; `limit` undefined means all. */
export async function listSubmissions(
  db: Db,
  f: SubmissionFilter = {},
  page: { limit?: number | undefined; offset?: number | undefined } = {},
): Promise<SubmissionRow[]> {
  const q = db.select().from(submissions).where(submissionWhere(f)).orderBy(desc(submissions.receivedAt), desc(submissions.id)).$dynamic();
  if (page.limit !== undefined) q.limit(page.limit);
  if (page.offset) q.offset(page.offset);
  return q;
}

export async function countSubmissions(db: Db, f: SubmissionFilter = {}): Promise<number> {
  const [row] = await db.select({ n: count() }).from(submissions).where(submissionWhere(f));
  return Number(row?.n ?? 0);
}
