/**
 * The counts behind the compliance view (spec section 10), aggregated in SQL per sponsor:
 * one scan of the decided CAS joined to their reports (aggregated per CAS), whatever the
 * number of CAS, never one query or one index look-up per CAS.
 *
 * The figures last computed are kept (compliance_state, compliance_figures) with the
 * snapshot they were computed in; triggers note in compliance_changes every statement that
 * writes cas, cas_reports or sponsors, and which sponsors it touched. `currentFigures`
 * answers from the kept figures, recomputing only the sponsors with a change its snapshot
 * did not see: current in the transaction that reads them, at the cost of the changes.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { ComplianceCounts } from '../domain/compliance.ts';
import type { Db } from './client.ts';
import { withRetry } from './lifecycle.ts';
import { jsonParam, rowsOf } from './sql-util.ts';

type N = string | number;

/** A missing report as the store knows it (the due date depends on the nation's holidays). */
export interface MissingReport {
  casNumber: string;
  courseStartDate: string;
}

/** One sponsor's counts over a window and its first missing reports. */
export interface SponsorFigures {
  licence: string;
  counts: ComplianceCounts;
  missing: MissingReport[];
}

/** What the figures are computed for: the window, the latest overdue course start, how many missing reports are listed. */
export interface FiguresKey {
  window: { from: string; to: string };
  cutoff: string;
  missingListed: number;
}

/** Every sponsor, or those given. */
const among = (column: SQL, licences: readonly string[] | undefined) =>
  licences === undefined
    ? sql`true`
    : licences.length === 0
      ? sql`false`
      : sql`${column} in (${sql.join(
          licences.map((l) => sql`${l}`),
          sql`, `,
        )})`;

/** Per sponsor (all, or the ones given): the counts over the window `from`..`to` (both included). */
async function complianceCounts(
  db: Db,
  w: { from: string; to: string },
  licences?: readonly string[],
): Promise<Map<string, ComplianceCounts>> {
  const out = new Map<string, ComplianceCounts>();
  const sponsors = await rowsOf<{ l: string }>(
    db,
    sql`select licence_number as l from sponsors s where ${among(sql`s.licence_number`, licences)} order by licence_number`,
  );
  for (const s of sponsors)
    out.set(s.l, { refused: 0, decided: 0, grantedStarted: 0, notEnrolled: 0, ending: 0, notCompleted: 0, lateReports: 0 });

  // Per CAS with reports: reported NOT_ENROLLED; reported WITHDRAWN or STOPPED_ATTENDING; the course
  // end date as last changed by a COMPLETED_EARLY or COURSE_CHANGED report.
  // Decisions in the window; of the granted ones, those whose course has started, and which of them
  // were not enrolled. Enrolled students (granted, not NOT_ENROLLED) whose course end date falls in
  // the window, whenever decided; and which of them left early.
  const inWindow = sql`c.decided_on between ${w.from}::date and ${w.to}::date`;
  const started = sql`c.decision = 'granted' and c.course_start_date < ${w.to}::date`;
  const ending = sql`c.decision = 'granted' and r.not_enrolled is not true
    and coalesce(r.end_date, c.expected_course_end_date) between ${w.from}::date and ${w.to}::date`;
  const rows = await rowsOf<{ l: string; refused: N; decided: N; granted_started: N; not_enrolled: N; ending: N; not_completed: N }>(
    db,
    sql`with r as (
          select r.cas_id,
                 bool_or(r.kind = 'NOT_ENROLLED') as not_enrolled,
                 bool_or(r.kind in ('WITHDRAWN', 'STOPPED_ATTENDING')) as left_early,
                 ((array_agg(coalesce(r.fields ->> 'CompletionDate', r.fields ->> 'NewCourseEndDate') order by r.id desc)
                    filter (where r.kind in ('COMPLETED_EARLY', 'COURSE_CHANGED')))[1])::date as end_date
          from cas_reports r
          where ${among(sql`r.sponsor_licence_number`, licences)}
          group by r.cas_id
        )
        select c.sponsor_licence_number as l,
               count(*) filter (where ${inWindow} and c.decision = 'refused') as refused,
               count(*) filter (where ${inWindow}) as decided,
               count(*) filter (where ${inWindow} and ${started}) as granted_started,
               count(*) filter (where ${inWindow} and ${started} and r.not_enrolled) as not_enrolled,
               count(*) filter (where ${ending}) as ending,
               count(*) filter (where ${ending} and r.left_early) as not_completed
        from cas c left join r on r.cas_id = c.id
        where c.decision is not null and ${among(sql`c.sponsor_licence_number`, licences)}
        group by c.sponsor_licence_number`,
  );
  for (const r of rows) {
    const c = out.get(r.l);
    if (c)
      Object.assign(c, {
        refused: Number(r.refused),
        decided: Number(r.decided),
        grantedStarted: Number(r.granted_started),
        notEnrolled: Number(r.not_enrolled),
        ending: Number(r.ending),
        notCompleted: Number(r.not_completed),
      });
  }

  const late = await rowsOf<{ l: string; n: N }>(
    db,
    sql`select r.sponsor_licence_number as l, count(*) as n
        from cas_reports r
        where r.late and r.received_at >= ${w.from}::date and r.received_at < (${w.to}::date + 1)
          and ${among(sql`r.sponsor_licence_number`, licences)}
        group by r.sponsor_licence_number`,
  );
  for (const r of late) {
    const c = out.get(r.l);
    if (c) c.lateReports = Number(r.n);
  }
  return out;
}

/** ASSIGNED CAS whose course started on or before `cutoff` and that have no NOT_ENROLLED report, at most `limit` per sponsor. */
async function missingReports(db: Db, cutoff: string, limit: number, licences?: readonly string[]): Promise<Map<string, MissingReport[]>> {
  const rows = await rowsOf<{ l: string; n: string; s: string }>(
    db,
    sql`select l, n, s from (
          select c.sponsor_licence_number as l, c.cas_number as n, c.course_start_date::text as s,
                 row_number() over (partition by c.sponsor_licence_number order by c.course_start_date, c.cas_number) as k
          from cas c
          where c.status = 'ASSIGNED' and c.course_start_date <= ${cutoff}::date and ${among(sql`c.sponsor_licence_number`, licences)}
            and not exists (select 1 from cas_reports r where r.cas_id = c.id and r.kind = 'NOT_ENROLLED')
        ) x where k <= ${limit} order by l, k`,
  );
  const out = new Map<string, MissingReport[]>();
  for (const r of rows) out.set(r.l, [...(out.get(r.l) ?? []), { casNumber: r.n, courseStartDate: r.s }]);
  return out;
}

async function figuresOf(db: Db, key: FiguresKey, licences?: readonly string[]): Promise<SponsorFigures[]> {
  const counts = await complianceCounts(db, key.window, licences);
  const missing = await missingReports(db, key.cutoff, key.missingListed, licences);
  return [...counts].map(([licence, c]) => ({ licence, counts: c, missing: missing.get(licence) ?? [] }));
}

// PostgreSQL's JIT compiles these aggregates for longer than they run (0.75 s of 1.6 s at a million CAS).
const noJit = sql`set local jit = off`;

/** The figures of every sponsor (or those given), computed now, all in one snapshot. */
export async function computeFigures(db: Db, key: FiguresKey, licences?: readonly string[]): Promise<SponsorFigures[]> {
  return db.transaction(
    async (tx) => {
      await tx.execute(noJit);
      return figuresOf(tx, key, licences);
    },
    { isolationLevel: 'repeatable read', accessMode: 'read only' },
  );
}

/** With more sponsors changed than this, all are computed again in one pass rather than one by one. */
const RECOMPUTED_AT_MOST = 200;

/**
 * Every sponsor's figures, current in this transaction's snapshot: the kept ones, with the
 * sponsors that changed since they were kept computed again (all of them when the day or
 * the nation is not the kept one, or nothing is kept yet), and kept in turn.
 * `recomputed` says which were computed: a list of licences, or 'all'. `version` names the
 * kept figures (the snapshot they were computed in). Given the version the caller holds,
 * `figures` is left out when those are still current, and nothing is read; when they were
 * current until the sponsors recomputed, `figures` holds only theirs (`partial`).
 */
export async function currentFigures(
  db: Db,
  key: FiguresKey & { asOf: string; nation: string },
  held?: string,
): Promise<{ figures?: SponsorFigures[]; partial?: boolean; recomputed: string[] | 'all'; version: string }> {
  return withRetry(() =>
    db.transaction(
      async (tx) => {
        await tx.execute(noJit);
        const [state] = await rowsOf<{ as_of: string; nation: string; snapshot: string; now: string }>(
          tx,
          sql`select s.as_of::text as as_of, s.nation, s.snapshot, pg_current_snapshot()::text as now
              from (select 1) one left join compliance_state s on s.id = 1`,
        );
        const now = state!.now;
        let recomputed: string[] | 'all' = 'all';
        if (state!.snapshot && state!.as_of === key.asOf && state!.nation === key.nation) {
          const changed = await rowsOf<{ l: string }>(
            tx,
            sql`select distinct sponsor_licence_number as l from compliance_changes
                where tx >= (pg_snapshot_xmin(${state!.snapshot}::pg_snapshot)::text)::bigint
                  and not pg_visible_in_snapshot((tx::text)::xid8, ${state!.snapshot}::pg_snapshot)`,
          );
          if (changed.length <= RECOMPUTED_AT_MOST) recomputed = changed.map((c) => c.l);
        }
        if (recomputed === 'all') {
          const figures = await figuresOf(tx, key);
          await tx.execute(sql`delete from compliance_figures`);
          await keep(tx, figures);
        } else if (recomputed.length) {
          const figures = await figuresOf(tx, key, recomputed);
          // A sponsor that is no more has no figures.
          await tx.execute(sql`delete from compliance_figures where ${among(sql`sponsor_licence_number`, recomputed)}`);
          await keep(tx, figures);
        }
        if (recomputed === 'all' || recomputed.length) {
          await tx.execute(
            sql`insert into compliance_state (id, as_of, nation, snapshot) values (1, ${key.asOf}::date, ${key.nation}, ${now})
                on conflict (id) do update set as_of = excluded.as_of, nation = excluded.nation, snapshot = excluded.snapshot`,
          );
          // Every change older than the snapshot's oldest running transaction is in the figures now.
          await tx.execute(sql`delete from compliance_changes where tx < (pg_snapshot_xmin(${now}::pg_snapshot)::text)::bigint`);
        }
        const version = recomputed === 'all' || recomputed.length ? now : state!.snapshot;
        if (version === held) return { recomputed, version };
        const partial = held !== undefined && held === state!.snapshot && recomputed !== 'all';
        const kept = await rowsOf<{ l: string; counts: ComplianceCounts | string; missing: MissingReport[] | string }>(
          tx,
          sql`select sponsor_licence_number as l, counts, missing from compliance_figures
              where ${partial ? among(sql`sponsor_licence_number`, recomputed as string[]) : sql`true`}
              order by sponsor_licence_number`,
        );
        const json = <T>(v: T | string): T => (typeof v === 'string' ? (JSON.parse(v) as T) : v);
        const figures = kept.map((k) => ({ licence: k.l, counts: json(k.counts), missing: json(k.missing) }));
        return { figures, partial, recomputed, version };
      },
      { isolationLevel: 'repeatable read' },
    ),
  );
}

async function keep(db: Db, figures: readonly SponsorFigures[]): Promise<void> {
  if (figures.length === 0) return;
  await db.execute(
    sql`insert into compliance_figures (sponsor_licence_number, counts, missing)
        select f.licence, f.counts, f.missing from jsonb_to_recordset(${jsonParam(figures)}) as f(licence text, counts jsonb, missing jsonb)
        on conflict (sponsor_licence_number) do update set counts = excluded.counts, missing = excluded.missing`,
  );
}
