/**
 * The counts behind the compliance view (spec section 10), aggregated in SQL per sponsor:
 * a handful of grouped scans whatever the number of CAS, never one query per CAS.
 */
import { sql } from 'drizzle-orm';
import type { ComplianceCounts, Compliance } from '../domain/compliance.ts';
import type { Db } from './client.ts';
import { rowsOf } from './sql-util.ts';

type N = string | number;

const zero = (): ComplianceCounts => ({
  refused: 0,
  decided: 0,
  grantedStarted: 0,
  notEnrolled: 0,
  ending: 0,
  notCompleted: 0,
  lateReports: 0,
});

/** Per sponsor (all, or the one given): the counts over the window `from`..`to` (both included). */
export async function complianceCounts(db: Db, w: { from: string; to: string }, licence?: string): Promise<Map<string, ComplianceCounts>> {
  const only = licence === undefined ? sql`true` : sql`c.sponsor_licence_number = ${licence}`;
  const onlyR = licence === undefined ? sql`true` : sql`r.sponsor_licence_number = ${licence}`;
  const out = new Map<string, ComplianceCounts>();
  const at = (l: string) => {
    let c = out.get(l);
    if (!c) out.set(l, (c = zero()));
    return c;
  };
  const sponsors = await rowsOf<{ l: string }>(
    db,
    licence === undefined
      ? sql`select licence_number as l from sponsors order by licence_number`
      : sql`select licence_number as l from sponsors where licence_number = ${licence}`,
  );
  for (const s of sponsors) at(s.l);

  // Decisions in the window; of the granted ones, those whose course has started, and which of them were not enrolled.
  const decided = await rowsOf<{ l: string; refused: N; decided: N; granted_started: N; not_enrolled: N }>(
    db,
    sql`select c.sponsor_licence_number as l,
               count(*) filter (where c.decision = 'refused') as refused,
               count(*) as decided,
               count(*) filter (where c.decision = 'granted' and c.course_start_date < ${w.to}::date) as granted_started,
               count(*) filter (where c.decision = 'granted' and c.course_start_date < ${w.to}::date
                                  and exists (select 1 from cas_reports r where r.cas_id = c.id and r.kind = 'NOT_ENROLLED')) as not_enrolled
        from cas c
        where c.decided_on between ${w.from}::date and ${w.to}::date and ${only}
        group by c.sponsor_licence_number`,
  );
  for (const r of decided)
    Object.assign(at(r.l), {
      refused: Number(r.refused),
      decided: Number(r.decided),
      grantedStarted: Number(r.granted_started),
      notEnrolled: Number(r.not_enrolled),
    });

  // Enrolled students (granted, not NOT_ENROLLED) whose course end date, as last changed by a
  // COMPLETED_EARLY or COURSE_CHANGED report, falls in the window; and which left early.
  const ending = await rowsOf<{ l: string; ending: N; not_completed: N }>(
    db,
    sql`select c.sponsor_licence_number as l,
               count(*) as ending,
               count(*) filter (where exists (select 1 from cas_reports r where r.cas_id = c.id and r.kind in ('WITHDRAWN', 'STOPPED_ATTENDING'))) as not_completed
        from cas c
        left join lateral (
          select coalesce(r.fields ->> 'CompletionDate', r.fields ->> 'NewCourseEndDate')::date as end_date
          from cas_reports r
          where r.cas_id = c.id and r.kind in ('COMPLETED_EARLY', 'COURSE_CHANGED')
          order by r.id desc
          limit 1
        ) changed on true
        where c.decision = 'granted' and ${only}
          and coalesce(changed.end_date, c.expected_course_end_date) between ${w.from}::date and ${w.to}::date
          and not exists (select 1 from cas_reports r where r.cas_id = c.id and r.kind = 'NOT_ENROLLED')
        group by c.sponsor_licence_number`,
  );
  for (const r of ending) Object.assign(at(r.l), { ending: Number(r.ending), notCompleted: Number(r.not_completed) });

  const late = await rowsOf<{ l: string; n: N }>(
    db,
    sql`select r.sponsor_licence_number as l, count(*) as n
        from cas_reports r
        where r.late and r.received_at >= ${w.from}::date and r.received_at < (${w.to}::date + 1) and ${onlyR}
        group by r.sponsor_licence_number`,
  );
  for (const r of late) at(r.l).lateReports = Number(r.n);
  return out;
}

/** ASSIGNED CAS whose course started on or before `cutoff` and that have no NOT_ENROLLED report, at most `limit` per sponsor. */
export async function missingReports(
  db: Db,
  cutoff: string,
  limit: number,
  licence?: string,
): Promise<Map<string, Omit<Compliance['missingReports'][number], 'dueDate'>[]>> {
  const only = licence === undefined ? sql`true` : sql`c.sponsor_licence_number = ${licence}`;
  const rows = await rowsOf<{ l: string; n: string; s: string }>(
    db,
    sql`select l, n, s from (
          select c.sponsor_licence_number as l, c.cas_number as n, c.course_start_date::text as s,
                 row_number() over (partition by c.sponsor_licence_number order by c.course_start_date, c.cas_number) as k
          from cas c
          where c.status = 'ASSIGNED' and c.course_start_date <= ${cutoff}::date and ${only}
            and not exists (select 1 from cas_reports r where r.cas_id = c.id and r.kind = 'NOT_ENROLLED')
        ) x where k <= ${limit} order by l, k`,
  );
  const out = new Map<string, { casNumber: string; courseStartDate: string }[]>();
  for (const r of rows) out.set(r.l, [...(out.get(r.l) ?? []), { casNumber: r.n, courseStartDate: r.s }]);
  return out;
}
