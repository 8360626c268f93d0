/** Storing upload records as CAS: bulk inserts of new CAS, bulk amendment of unassigned ones. */
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { CasStatus, Route } from '../domain/types.ts';
import type { Db } from './client.ts';
import { batches, cas, casEvents } from './schema.ts';
import { chunkFor, jsonParam, rowsOf } from './sql-util.ts';

export const LIVE_STATUSES: CasStatus[] = ['WORK_IN_PROGRESS', 'READY_TO_GO', 'ASSIGNED', 'USED'];

export interface LiveCas {
  id: number;
  recordKey: string;
  status: CasStatus;
  casNumber: string | null;
}

/** The sponsor's live CAS (unassigned, assigned or used) having one of these keys. */
export async function findLiveByKeys(tx: Db, licence: string, keys: string[]): Promise<Map<string, LiveCas>> {
  const out = new Map<string, LiveCas>();
  for (const part of chunkFor(keys, 1)) {
    const rows = await tx
      .select({ id: cas.id, recordKey: cas.recordKey, status: cas.status, casNumber: cas.casNumber })
      .from(cas)
      .where(and(eq(cas.sponsorLicenceNumber, licence), inArray(cas.recordKey, part), inArray(cas.status, LIVE_STATUSES)));
    for (const r of rows) out.set(r.recordKey, { ...r, status: r.status as CasStatus });
  }
  return out;
}

export async function insertBatch(tx: Db, b: { licence: string; name: string; route: Route; submissionId: number; now: Date }): Promise<number> {
  const [row] = await tx
    .insert(batches)
    .values({ sponsorLicenceNumber: b.licence, name: b.name, route: b.route, submissionId: b.submissionId, createdAt: b.now })
    .returning({ id: batches.id });
  return row!.id;
}

/** The stored columns of one record, new or amended. */
export interface CasFields {
  recordIndex: number;
  status: CasStatus;
  recordKey: string;
  applicantId: string;
  familyName: string;
  givenName: string | null;
  nationality: string;
  passportNumber: string;
  dateOfBirth: string;
  courseTitle: string;
  courseId: string | null;
  courseStartDate: string;
  expectedCourseEndDate: string;
  data: unknown;
  warnings: unknown;
}

export interface RecordContext {
  licence: string;
  route: Route;
  batchId: number;
  submissionId: number;
  now: Date;
}

/** Inserts new CAS and their creation events; returns their ids in input order. */
export async function insertCas(tx: Db, rows: CasFields[], ctx: RecordContext): Promise<number[]> {
  const ids: number[] = [];
  const values = rows.map((r) => ({
    ...r,
    sponsorLicenceNumber: ctx.licence,
    route: ctx.route,
    batchId: ctx.batchId,
    submissionId: ctx.submissionId,
    statusChangedAt: ctx.now,
    createdAt: ctx.now,
  }));
  for (const part of chunkFor(values, 24)) {
    const inserted = await tx.insert(cas).values(part).returning({ id: cas.id });
    for (const r of inserted) ids.push(r.id);
  }
  const events = rows.map((r, i) => ({
    casId: ids[i]!,
    fromStatus: null,
    toStatus: r.status,
    at: ctx.now,
    reason: `created by submission ${ctx.submissionId}`,
    submissionId: ctx.submissionId,
  }));
  for (const part of chunkFor(events, 6)) await tx.insert(casEvents).values(part);
  return ids;
}

/** Replaces the fields of unassigned CAS with an amending record's, with an event each. */
export async function amendCas(tx: Db, rows: { id: number; from: CasStatus; fields: CasFields }[], ctx: RecordContext): Promise<void> {
  const nowIso = ctx.now.toISOString();
  for (const part of chunkFor(rows, 1, 5_000)) {
    const payload = part.map(({ id, fields: f }) => ({ id, ...f }));
    const updated = await rowsOf<{ id: unknown }>(
      tx,
      sql`update cas c set
            status = v."status", route = ${ctx.route}, batch_id = ${ctx.batchId}, submission_id = ${ctx.submissionId},
            record_index = v."recordIndex", applicant_id = v."applicantId", family_name = v."familyName",
            given_name = v."givenName", nationality = v."nationality", passport_number = v."passportNumber",
            date_of_birth = v."dateOfBirth", course_title = v."courseTitle", course_id = v."courseId",
            course_start_date = v."courseStartDate"::date, expected_course_end_date = v."expectedCourseEndDate"::date,
            data = v."data", warnings = v."warnings",
            status_changed_at = case when c.status = v."status" then c.status_changed_at else ${nowIso}::timestamptz end
          from jsonb_to_recordset(${jsonParam(payload)}) as v(
            id bigint, "status" text, "recordIndex" int, "applicantId" text, "familyName" text, "givenName" text,
            "nationality" text, "passportNumber" text, "dateOfBirth" text, "courseTitle" text, "courseId" text,
            "courseStartDate" text, "expectedCourseEndDate" text, "data" jsonb, "warnings" jsonb)
          where c.id = v.id and c.status in ('WORK_IN_PROGRESS', 'READY_TO_GO')
          returning c.id`,
    );
    if (updated.length !== part.length) throw new Error(`amendment expected ${part.length} unassigned CAS, found ${updated.length}`);
  }
  const events = rows.map((r) => ({
    casId: r.id,
    fromStatus: r.from,
    toStatus: r.fields.status,
    at: ctx.now,
    reason: `amended by submission ${ctx.submissionId}`,
    submissionId: ctx.submissionId,
  }));
  for (const part of chunkFor(events, 6)) await tx.insert(casEvents).values(part);
}
