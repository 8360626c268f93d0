/** The export's content: the sponsor's ever-assigned CAS (all, or a delta), with the person, the course and the current status. */
import { and, eq, exists, gte, inArray, isNotNull, or, sql, type SQL } from 'drizzle-orm';
import { isoDateUtc } from '../domain/dates.ts';
import type { ExportFilter, ExportRow } from '../domain/export.ts';
import { currentFees } from '../domain/fees.ts';
import type { Db } from './client.ts';
import { batches, cas, casEvents, graduateReports } from './schema.ts';
import { chunkFor, rowsOf } from './sql-util.ts';

const byNumber = (a: ExportRow, b: ExportRow) => (a.casNumber < b.casNumber ? -1 : a.casNumber > b.casNumber ? 1 : 0);

async function select(db: Db, where: SQL | undefined): Promise<ExportRow[]> {
  const rows = await db
    .select({
      casNumber: cas.casNumber,
      applicantId: cas.applicantId,
      applicationId: sql<string | null>`${cas.data} -> 'ApplicantData' ->> 'ApplicationID'`,
      batch: batches.name,
      familyName: cas.familyName,
      givenName: cas.givenName,
      dateOfBirth: cas.dateOfBirth,
      nationality: cas.nationality,
      courseId: cas.courseId,
      courseTitle: cas.courseTitle,
      courseStartDate: cas.courseStartDate,
      expectedCourseEndDate: cas.expectedCourseEndDate,
      status: cas.status,
      statusChangedAt: cas.statusChangedAt,
      assignedAt: cas.assignedAt,
      expiresOn: cas.expiresOn,
      graduatedOn: cas.graduatedOn,
      feesUpdated: cas.fees,
      feesUploaded: sql<unknown>`${cas.data} -> 'FinancialAndAccommodationDetails'`,
    })
    .from(cas)
    .innerJoin(batches, eq(batches.id, cas.batchId))
    .where(where);
  return rows.map((r) => ({
    casNumber: r.casNumber!,
    applicantId: r.applicantId,
    applicationId: typeof r.applicationId === 'string' && r.applicationId !== '' ? r.applicationId : null,
    batch: r.batch,
    familyName: r.familyName,
    givenName: r.givenName,
    dateOfBirth: r.dateOfBirth,
    nationality: r.nationality,
    courseId: r.courseId,
    courseTitle: r.courseTitle,
    courseStartDate: r.courseStartDate,
    expectedCourseEndDate: r.expectedCourseEndDate,
    status: r.status,
    statusDate: isoDateUtc(r.statusChangedAt),
    assignedDate: isoDateUtc(r.assignedAt!),
    expiryDate: r.expiresOn!,
    graduated: r.graduatedOn !== null,
    fees: currentFees(r.feesUpdated, { FinancialAndAccommodationDetails: r.feesUploaded }),
  }));
}

/**
 * The sponsor's ever-assigned CAS, ordered by CAS number (code-point order, whatever the
 * database's collation). `changedSince`: only those with a history event (or a graduation
 * report) at or after that time; `status`: only those in that status now.
 */
export async function exportRows(db: Db, licence: string, filter: ExportFilter = {}): Promise<ExportRow[]> {
  const conditions: (SQL | undefined)[] = [eq(cas.sponsorLicenceNumber, licence), isNotNull(cas.casNumber)];
  if (filter.status !== undefined) conditions.push(eq(cas.status, filter.status));
  if (filter.changedSince !== undefined) {
    const since = filter.changedSince;
    conditions.push(
      or(
        exists(
          db
            .select({ one: sql`1` })
            .from(casEvents)
            .where(and(eq(casEvents.casId, cas.id), gte(casEvents.at, since))),
        ),
        exists(
          db
            .select({ one: sql`1` })
            .from(graduateReports)
            .where(and(eq(graduateReports.casId, cas.id), gte(graduateReports.reportedAt, since))),
        ),
      ),
    );
  }
  return (await select(db, and(...conditions))).sort(byNumber);
}

/** The rows of these CAS (ids), ordered by CAS number. */
export async function exportRowsOf(db: Db, ids: readonly number[]): Promise<ExportRow[]> {
  const out: ExportRow[] = [];
  for (const part of chunkFor(ids, 1)) out.push(...(await select(db, and(inArray(cas.id, part), isNotNull(cas.casNumber)))));
  return out.sort(byNumber);
}

/** Where a delivery's range ends: below it, every transaction has ended (committed or not), so the range is final. */
export async function settledTxBound(db: Db): Promise<number> {
  const [row] = await rowsOf<{ xmin: string }>(db, sql`select (pg_snapshot_xmin(pg_current_snapshot())::text) as xmin`);
  return Number(row!.xmin);
}

/**
 * The sponsor's ever-assigned CAS whose history was written by transactions with ids in
 * [fromTx, toTx) (events, graduation reports), and the last such event's id. Both tables
 * are read through their index on `tx`, so the cost follows the changes, not the sponsor's size.
 */
export async function changedInRange(
  db: Db,
  licence: string,
  fromTx: number,
  toTx: number,
): Promise<{ ids: number[]; lastEventId: number | null }> {
  const rows = await rowsOf<{ id: string | number; last: string | number | null }>(
    db,
    sql`with changed as (
          select e.cas_id, e.id as event_id from cas_events e where e.tx >= ${fromTx} and e.tx < ${toTx}
          union all
          select g.cas_id, null from graduate_reports g where g.tx >= ${fromTx} and g.tx < ${toTx}
        )
        select c.id, max(changed.event_id) as last
        from changed join cas c on c.id = changed.cas_id
        where c.sponsor_licence_number = ${licence} and c.cas_number is not null
        group by c.id`,
  );
  let last: number | null = null;
  for (const r of rows) if (r.last !== null && (last === null || Number(r.last) > last)) last = Number(r.last);
  return { ids: rows.map((r) => Number(r.id)), lastEventId: last };
}
