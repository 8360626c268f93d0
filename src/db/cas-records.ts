/** Storing upload records as CAS: bulk inserts of new CAS, bulk amendment of unassigned ones. */
import { sql, type SQL } from 'drizzle-orm';
import type { CasStatus, Route } from '../domain/types.ts';
import type { Db } from './client.ts';
import { chunkFor, jsonParam, rowsOf } from './sql-util.ts';

const LIVE_STATUSES: CasStatus[] = ['WORK_IN_PROGRESS', 'READY_TO_GO', 'ASSIGNED', 'USED'];

export interface LiveCas {
  id: number;
  recordKey: string;
  status: CasStatus;
  casNumber: string | null;
}

/** The statuses of LIVE_STATUSES as SQL literals: the partial unique index on live keys is only used when the planner sees them. */
const LIVE_SQL = sql.raw(LIVE_STATUSES.map((st) => `'${st}'`).join(', '));

/** The sponsor's live CAS (unassigned, assigned or used) having one of these keys. */
export async function findLiveByKeys(tx: Db, licence: string, keys: string[]): Promise<Map<string, LiveCas>> {
  const out = new Map<string, LiveCas>();
  for (const part of chunkFor(keys, 1)) {
    const rows = await rowsOf<{ id: string | number; record_key: string; status: string; cas_number: string | null }>(
      tx,
      // One index look-up per key, whatever the planner believes of a table filled in this same transaction
      // (a hash join over all the sponsor's live CAS per chunk made a large file quadratic).
      sql`select c.id, c.record_key, c.status, c.cas_number
          from jsonb_array_elements_text(${jsonParam(part)}) as k(key),
          lateral (select id, record_key, status, cas_number from cas
                   where sponsor_licence_number = ${licence} and record_key = k.key and status in (${LIVE_SQL}) limit 1) c`,
    );
    for (const r of rows)
      out.set(r.record_key, { id: Number(r.id), recordKey: r.record_key, status: r.status as CasStatus, casNumber: r.cas_number });
  }
  return out;
}

/**
 * A batch's id as the statement that writes its CAS finds it, by the batch's unique key:
 * for a transaction that sends the batch's insert and its CAS's without waiting for the
 * id between them (a transaction's statements run in the order they are sent).
 */
export const batchIdByName = (licence: string, name: string): SQL =>
  sql`(select id from batches where sponsor_licence_number = ${licence} and name = ${name})`;

export async function insertBatch(
  tx: Db,
  b: { licence: string; name: string; route: Route; submissionId: number; now: Date },
): Promise<number> {
  // A raw statement: it runs once per file of a backlog (see decodeRow).
  const [row] = await rowsOf<{ id: string | number }>(
    tx,
    sql`insert into batches (sponsor_licence_number, name, route, submission_id, created_at)
        values (${b.licence}, ${b.name}, ${b.route}, ${b.submissionId}, ${b.now.toISOString()}::timestamptz) returning id`,
  );
  return Number(row!.id);
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
  /** The batch's id, or the look-up of it (batchIdByName). */
  batchId: number | SQL;
  submissionId: number;
  now: Date;
}

/**
 * A record assigned as it is stored (auto-assignment while the allocation lasts): it is
 * written ASSIGNED with its number, with the READY_TO_GO event and then the assignment event.
 */
export interface AssignAtWrite {
  /** The payment's id, or the look-up of it (see openPayment). */
  paymentId: number | SQL;
  expiresOn: string;
  /** The assignment event's reason. */
  reason: string;
}

/** One row of the jsonb parameter: short keys keep the payload small. */
function payloadOf(f: CasFields, casNumber: string | undefined) {
  return {
    i: f.recordIndex,
    s: f.status,
    k: f.recordKey,
    a: f.applicantId,
    f: f.familyName,
    g: f.givenName,
    n: f.nationality,
    p: f.passportNumber,
    b: f.dateOfBirth,
    t: f.courseTitle,
    c: f.courseId,
    sd: f.courseStartDate,
    ed: f.expectedCourseEndDate,
    d: f.data,
    w: f.warnings,
    cn: casNumber ?? null,
  };
}

const PAYLOAD_COLUMNS = sql.raw(
  `i int, s text, k text, a text, f text, g text, n text, p text, b text, t text, c text, sd date, ed date, d jsonb, w jsonb, cn text`,
);

/** Rows per statement: a few megabytes of JSON at most. */
const ROWS_PER_STATEMENT = 2_000;

/**
 * Inserts new CAS with their creation events (and, for those given a CAS number, their
 * assignment events) in one statement per part; returns their ids in input order.
 */
export async function insertCas(
  tx: Db,
  rows: { fields: CasFields; casNumber?: string }[],
  ctx: RecordContext,
  assign?: AssignAtWrite,
): Promise<number[]> {
  if (rows.length === 0) return [];
  if (!assign && rows.some((r) => r.casNumber !== undefined)) throw new Error('insertCas: a CAS number without an assignment');
  const nowIso = ctx.now.toISOString();
  const idOfIndex = new Map<number, number>();
  for (let from = 0; from < rows.length; from += ROWS_PER_STATEMENT) {
    const part = rows.slice(from, from + ROWS_PER_STATEMENT);
    const payload = part.map((r) => payloadOf(r.fields, r.casNumber));
    const inserted = await rowsOf<{ id: string | number; i: number }>(
      tx,
      sql`with v as (select * from jsonb_to_recordset(${jsonParam(payload)}) as v(${PAYLOAD_COLUMNS})),
          ins as (
            insert into cas (sponsor_licence_number, route, batch_id, submission_id, record_index, status, record_key,
              applicant_id, family_name, given_name, nationality, passport_number, date_of_birth, course_title, course_id,
              course_start_date, expected_course_end_date, data, warnings, cas_number, assigned_at, expires_on, payment_id,
              status_changed_at, created_at)
            select ${ctx.licence}, ${ctx.route}, ${ctx.batchId}, ${ctx.submissionId}, v.i,
              case when v.cn is null then v.s else 'ASSIGNED' end, v.k, v.a, v.f, v.g, v.n, v.p, v.b, v.t, v.c, v.sd, v.ed, v.d, v.w,
              v.cn,
              case when v.cn is null then null else ${nowIso}::timestamptz end,
              case when v.cn is null then null else ${assign?.expiresOn ?? null}::date end,
              case when v.cn is null then null else ${assign?.paymentId ?? null}::bigint end,
              ${nowIso}::timestamptz, ${nowIso}::timestamptz
            from v order by v.i
            returning id, record_index as i, cas_number as cn),
          ev as (
            insert into cas_events (cas_id, from_status, to_status, at, reason, submission_id)
            select e.id, e.from_status, e.to_status, ${nowIso}::timestamptz, e.reason, ${ctx.submissionId}::bigint
            from (
              select ins.id, null::text as from_status, v.s as to_status, ${`created by submission ${ctx.submissionId}`}::text as reason, 1 as step
                from ins join v on v.i = ins.i
              union all
              select ins.id, 'READY_TO_GO', 'ASSIGNED', ${assign?.reason ?? ''}::text, 2 from ins where ins.cn is not null
            ) e
            order by e.step, e.id)
          select id, i from ins`,
    );
    if (inserted.length !== part.length) throw new Error(`insert expected ${part.length} CAS, stored ${inserted.length}`);
    for (const r of inserted) idOfIndex.set(Number(r.i), Number(r.id));
  }
  return rows.map((r) => idOfIndex.get(r.fields.recordIndex)!);
}

/**
 * Replaces the fields of unassigned CAS with an amending record's, with an event each (and,
 * for those given a CAS number, the assignment and its event).
 */
export async function amendCas(
  tx: Db,
  rows: { id: number; from: CasStatus; fields: CasFields; casNumber?: string }[],
  ctx: RecordContext,
  assign?: AssignAtWrite,
): Promise<void> {
  if (rows.length === 0) return;
  if (!assign && rows.some((r) => r.casNumber !== undefined)) throw new Error('amendCas: a CAS number without an assignment');
  const nowIso = ctx.now.toISOString();
  for (let from = 0; from < rows.length; from += ROWS_PER_STATEMENT) {
    const part = rows.slice(from, from + ROWS_PER_STATEMENT);
    const payload = part.map((r) => ({ id: r.id, fr: r.from, ...payloadOf(r.fields, r.casNumber) }));
    const [done] = await rowsOf<{ n: string | number }>(
      tx,
      sql`with v as (select * from jsonb_to_recordset(${jsonParam(payload)}) as v(id bigint, fr text, ${PAYLOAD_COLUMNS})),
          upd as (
            update cas c set
              status = case when v.cn is null then v.s else 'ASSIGNED' end,
              route = ${ctx.route}, batch_id = ${ctx.batchId}, submission_id = ${ctx.submissionId},
              record_index = v.i, applicant_id = v.a, family_name = v.f, given_name = v.g, nationality = v.n,
              passport_number = v.p, date_of_birth = v.b, course_title = v.t, course_id = v.c,
              course_start_date = v.sd, expected_course_end_date = v.ed, data = v.d, warnings = v.w,
              cas_number = coalesce(v.cn, c.cas_number),
              assigned_at = case when v.cn is null then c.assigned_at else ${nowIso}::timestamptz end,
              expires_on = case when v.cn is null then c.expires_on else ${assign?.expiresOn ?? null}::date end,
              payment_id = case when v.cn is null then c.payment_id else ${assign?.paymentId ?? null}::bigint end,
              status_changed_at = case when c.status = v.s and v.cn is null then c.status_changed_at else ${nowIso}::timestamptz end
            from v
            where c.id = v.id and c.status in ('WORK_IN_PROGRESS', 'READY_TO_GO')
            returning c.id, v.fr, v.s, v.cn),
          ev as (
            insert into cas_events (cas_id, from_status, to_status, at, reason, submission_id)
            select e.id, e.fr, e.s, ${nowIso}::timestamptz, e.reason, ${ctx.submissionId}::bigint
            from (
              select upd.id, upd.fr, upd.s, ${`amended by submission ${ctx.submissionId}`}::text as reason, 1 as step from upd
              union all
              select upd.id, 'READY_TO_GO', 'ASSIGNED', ${assign?.reason ?? ''}::text, 2 from upd where upd.cn is not null
            ) e
            order by e.step, e.id)
          select count(*)::int as n from upd`,
    );
    if (Number(done?.n) !== part.length) throw new Error(`amendment expected ${part.length} unassigned CAS, found ${done?.n}`);
  }
}
