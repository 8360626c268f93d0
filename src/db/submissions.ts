/** Received files and their stored results. */
import { and, count, desc, eq, gte, lt, sql, type SQL } from 'drizzle-orm';
import type { FileOutcome, FileType } from '../domain/types.ts';
import type { Db } from './client.ts';
import { kindsInGroup, type FileKind } from '../domain/file-kinds.ts';
import { submissions } from './schema.ts';
import { jsonParam, rowsOf } from './sql-util.ts';

export type SubmissionRow = typeof submissions.$inferSelect;

/** The submissions sequence's next value, as text (a bigint). */
const NEXT_ID = sql`nextval(pg_get_serial_sequence('submissions', 'id'))::text`;

export async function nextSubmissionId(db: Db): Promise<number> {
  const [row] = await rowsOf<{ id: string | number }>(db, sql`select ${NEXT_ID} as id`);
  return Number(row!.id);
}

/**
 * The sponsor's original ACCEPTED submissions (not replays). The constants are written
 * into the text, so that the partial unique indexes on accepted files serve it however it
 * is planned.
 */
const originalAccepted = (licence: string) =>
  sql`${submissions.sponsorLicenceNumber} = ${licence} and ${submissions.outcome} = 'ACCEPTED' and ${submissions.replayOf} is null`;

/** The sponsor's original ACCEPTED submission (not a replay) matching `match`. */
async function findOriginalAccepted(db: Db, licence: string, match: SQL): Promise<SubmissionRow | undefined> {
  const [row] = await db
    .select()
    .from(submissions)
    .where(and(originalAccepted(licence), match));
  return row;
}

export function findAccepted(db: Db, licence: string, sha256: string): Promise<SubmissionRow | undefined> {
  return findOriginalAccepted(db, licence, eq(submissions.sha256, sha256));
}

/** What a file's storing transaction looks up under the sponsor's lock (see lookUpAccepted). */
export interface AcceptedLookUp {
  /** The original accepted submission with these bytes (a copy of this file won meanwhile). */
  againId: number | undefined;
  /** An accepted file with this file id among the kinds of the group. */
  sameId: { id: number; fileName: string } | undefined;
  /** The sequence's next submission id, when one was asked for. */
  nextId: number | undefined;
}

/**
 * An accepted file with these bytes (findAccepted's, its id only), an accepted file whose
 * id is `fileId` among the kinds of `group` (FILE_KINDS: both upload kinds share one
 * group), and the next submission id, in one statement.
 */
export async function lookUpAccepted(
  db: Db,
  licence: string,
  q: { sha256: string; fileId?: { group: NonNullable<FileKind['fileIdGroup']>; id: string } | undefined; takeId: boolean },
): Promise<AcceptedLookUp> {
  const original = originalAccepted(licence);
  const types =
    q.fileId &&
    sql.raw(
      kindsInGroup(q.fileId.group)
        .map((t) => `'${t}'`)
        .join(', '),
    );
  const [row] = await rowsOf<{
    again: string | number | null;
    same_id: string | number | null;
    same_name: string | null;
    next_id: string | null;
  }>(
    db,
    sql`select (select id from submissions where ${original} and sha256 = ${q.sha256} limit 1) as again,
          same.id as same_id, same.file_name as same_name,
          ${q.takeId ? NEXT_ID : sql`null::text`} as next_id
        from (select 1) one
        left join lateral (${
          q.fileId
            ? sql`select id, file_name from submissions where ${original} and file_id = ${q.fileId.id} and file_type in (${types}) limit 1`
            : sql`select null::bigint as id, null::text as file_name where false`
        }) same on true`,
  );
  return {
    againId: row?.again == null ? undefined : Number(row.again),
    sameId: row?.same_id == null ? undefined : { id: Number(row.same_id), fileName: row.same_name! },
    nextId: row?.next_id == null ? undefined : Number(row.next_id),
  };
}

/** Stores a submission (a raw statement: it runs once per file of a backlog, see decodeRow). */
export async function insertSubmission(db: Db, row: SubmissionRow): Promise<void> {
  await db.execute(
    sql`insert into submissions (id, sponsor_licence_number, file_name, sha256, size_bytes, file_type, file_id, outcome, replay_of,
          received_at, processed_at, summary, result_xml, result_file)
        values (${row.id}, ${row.sponsorLicenceNumber}, ${row.fileName}, ${row.sha256}, ${row.sizeBytes}, ${row.fileType}, ${row.fileId},
          ${row.outcome}, ${row.replayOf}, ${row.receivedAt.toISOString()}::timestamptz, ${row.processedAt.toISOString()}::timestamptz, ${jsonParam(row.summary)},
          ${row.resultXml}, ${row.resultFile})`,
  );
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
