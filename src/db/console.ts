/**
 * Read-only queries for the operator's HTTP surface (`watch --http`): recent submissions,
 * CAS search, hourly throughput, a liveness query with a deadline. Nothing here writes.
 */
import { and, desc, eq, inArray, lt, or, sql } from 'drizzle-orm';
import type { Db } from './client.ts';
import { batches, cas, fileClaims, submissions } from './schema.ts';
import { CAS_STATUSES, type CasStatus } from '../domain/types.ts';
import type { FileSummary } from '../domain/result.ts';
import { rowsOf } from './sql-util.ts';

export interface SubmissionListItem {
  id: number;
  sponsorLicenceNumber: string;
  fileName: string;
  fileType: string;
  outcome: string;
  replay: boolean;
  receivedAt: Date;
  processedAt: Date;
  counts: FileSummary['counts'];
  errorCodes: string[];
}

/** Newest first; `before` (a submission id) pages backwards without an offset scan. */
export async function recentSubmissions(
  db: Db,
  opts: { limit: number; before?: number | undefined; licence?: string | undefined },
): Promise<SubmissionListItem[]> {
  const rows = await db
    .select({
      id: submissions.id,
      sponsorLicenceNumber: submissions.sponsorLicenceNumber,
      fileName: submissions.fileName,
      fileType: submissions.fileType,
      outcome: submissions.outcome,
      replayOf: submissions.replayOf,
      receivedAt: submissions.receivedAt,
      processedAt: submissions.processedAt,
      summary: submissions.summary,
    })
    .from(submissions)
    .where(
      and(
        opts.before !== undefined ? lt(submissions.id, opts.before) : undefined,
        opts.licence ? eq(submissions.sponsorLicenceNumber, opts.licence) : undefined,
      ),
    )
    .orderBy(desc(submissions.id))
    .limit(opts.limit);
  return rows.map((r) => {
    const s = r.summary;
    return {
      id: r.id,
      sponsorLicenceNumber: r.sponsorLicenceNumber,
      fileName: r.fileName,
      fileType: r.fileType,
      outcome: r.outcome,
      replay: r.replayOf !== null || s.replay === true,
      receivedAt: r.receivedAt,
      processedAt: r.processedAt,
      counts: s.counts,
      errorCodes: [...new Set((s.fileErrors ?? []).map((e) => e.code))],
    };
  });
}

interface CasHit {
  id: number;
  casNumber: string | null;
  status: string;
  sponsorLicenceNumber: string;
  applicantId: string;
  familyName: string;
  givenName: string | null;
  courseTitle: string;
}

/** CAS whose number or ApplicantID is `q` exactly (a CAS number is matched in upper case). */
export async function searchCas(db: Db, q: string, limit = 200): Promise<CasHit[]> {
  return db
    .select({
      id: cas.id,
      casNumber: cas.casNumber,
      status: cas.status,
      sponsorLicenceNumber: cas.sponsorLicenceNumber,
      applicantId: cas.applicantId,
      familyName: cas.familyName,
      givenName: cas.givenName,
      courseTitle: cas.courseTitle,
    })
    .from(cas)
    .where(or(eq(cas.casNumber, q.toUpperCase()), eq(cas.applicantId, q)))
    .orderBy(desc(cas.id))
    .limit(limit);
}

export interface HourBucket {
  /** Start of the hour (UTC). */
  hour: Date;
  files: number;
  casAssigned: number;
}

/** Files processed and CAS assigned per hour, for the 24 hours up to `now` (oldest first, every hour present). */
export async function hourlyThroughput(db: Db, now: Date, hours = 24): Promise<HourBucket[]> {
  const end = new Date(now);
  end.setUTCMinutes(0, 0, 0);
  const start = new Date(end.getTime() - (hours - 1) * 3_600_000);
  const files = await rowsOf<{ h: string; n: string | number }>(
    db,
    sql`select to_char(date_trunc('hour', processed_at at time zone 'UTC'), 'YYYY-MM-DD"T"HH24') as h, count(*) as n
        from submissions where processed_at >= ${start.toISOString()}::timestamptz group by 1`,
  );
  // Every assignment (a file's or an operator's) is paid for once, with its CAS count: the
  // day's payments are a few rows where its ASSIGNED events are one per CAS.
  const assigned = await rowsOf<{ h: string; n: string | number }>(
    db,
    sql`select to_char(date_trunc('hour', paid_at at time zone 'UTC'), 'YYYY-MM-DD"T"HH24') as h, sum(cas_count) as n
        from payments where paid_at >= ${start.toISOString()}::timestamptz group by 1`,
  );
  const key = (d: Date) => d.toISOString().slice(0, 13);
  const f = new Map(files.map((r) => [r.h, Number(r.n)]));
  const a = new Map(assigned.map((r) => [r.h, Number(r.n)]));
  return Array.from({ length: hours }, (_, i) => {
    const hour = new Date(start.getTime() + i * 3_600_000);
    return { hour, files: f.get(key(hour)) ?? 0, casAssigned: a.get(key(hour)) ?? 0 };
  });
}

/** Resolves when the store answers a trivial query, rejects after `timeoutMs`. */
export async function pingStore(db: Db, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      db.execute(sql`select 1`),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Where a submission's input went, from the watch service's claim on it: `moved` to a
 * path (archive/ or rejected/), `not-moved` (it had left the inbox before it could be
 * moved), `moving` (still being finished), or `not-watched` (no claim: `cas-bdt process`,
 * which leaves its inputs where they are).
 */
export type InputFate = { kind: 'moved'; to: string } | { kind: 'not-moved' } | { kind: 'moving' } | { kind: 'not-watched' };

export async function inputFate(db: Db, submissionId: number): Promise<InputFate> {
  const [row] = await db
    .select({ state: fileClaims.state, movedTo: fileClaims.movedTo })
    .from(fileClaims)
    .where(eq(fileClaims.submissionId, submissionId))
    .orderBy(desc(fileClaims.id))
    .limit(1);
  if (!row) return { kind: 'not-watched' };
  if (row.movedTo) return { kind: 'moved', to: row.movedTo };
  return row.state === 'done' ? { kind: 'not-moved' } : { kind: 'moving' };
}

/** How many CAS of the sponsor are in each status (every status present, 0 when none). */
export async function casCountsByStatus(db: Db, licence: string): Promise<Record<CasStatus, number>> {
  const rows = await db
    .select({ status: cas.status, n: sql<string>`count(*)` })
    .from(cas)
    .where(eq(cas.sponsorLicenceNumber, licence))
    .groupBy(cas.status);
  const counts = Object.fromEntries(CAS_STATUSES.map((s) => [s, 0])) as Record<CasStatus, number>;
  for (const r of rows) counts[r.status] = Number(r.n);
  return counts;
}

export interface CasListItem {
  id: number;
  casNumber: string | null;
  status: CasStatus;
  applicantId: string;
  familyName: string;
  givenName: string | null;
  courseTitle: string;
  courseStartDate: string;
  batch: string;
  expiresOn: string | null;
}

/** A sponsor's CAS in one status, newest first; `before` (a CAS id) pages backwards without an offset scan. */
export async function casInStatus(
  db: Db,
  opts: { licence: string; status: CasStatus; limit: number; before?: number | undefined },
): Promise<CasListItem[]> {
  return db
    .select({
      id: cas.id,
      casNumber: cas.casNumber,
      status: cas.status,
      applicantId: cas.applicantId,
      familyName: cas.familyName,
      givenName: cas.givenName,
      courseTitle: cas.courseTitle,
      courseStartDate: cas.courseStartDate,
      batch: batches.name,
      expiresOn: cas.expiresOn,
    })
    .from(cas)
    .innerJoin(batches, eq(batches.id, cas.batchId))
    .where(
      and(
        eq(cas.sponsorLicenceNumber, opts.licence),
        eq(cas.status, opts.status),
        opts.before !== undefined ? lt(cas.id, opts.before) : undefined,
      ),
    )
    .orderBy(desc(cas.id))
    .limit(opts.limit);
}

/** The ids of the CAS with these numbers (those in the store), by number; looked up a thousand at a time on the unique index. */
export async function casIdsByNumber(db: Db, numbers: readonly string[]): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  const distinct = [...new Set(numbers)];
  for (let i = 0; i < distinct.length; i += 1000) {
    const rows = await db
      .select({ id: cas.id, casNumber: cas.casNumber })
      .from(cas)
      .where(inArray(cas.casNumber, distinct.slice(i, i + 1000)));
    for (const r of rows) if (r.casNumber) found.set(r.casNumber, r.id);
  }
  return found;
}
