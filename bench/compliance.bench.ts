/**
 * The compliance view at national scale on PostgreSQL: a fresh database filled in SQL with
 * S sponsors and N CAS (default 2,000 and 1,000,000): every CAS used with a visa decision
 * (5% refused) spread over 18 months, course dates spread likewise, and student activity
 * reports on 4% of them (a quarter late); a few ASSIGNED CAS overdue for a report. Then
 * `compliance` for all sponsors, timed (cold, then warm), and for one sponsor.
 *
 *   npx tsx bench/compliance.bench.ts [--sponsors S] [--cas N] [--runs R]
 */
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { openStore } from '../src/db/client.ts';
import { compliancePage, complianceSource } from '../src/http/compliance-page.ts';
import { compliance } from '../src/ops/compliance.ts';
import { createPgDatabase } from '../test/helpers/stores.ts';

const { values } = parseArgs({
  options: {
    sponsors: { type: 'string', default: '2000' },
    cas: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '3' },
  },
  strict: false,
});
const S = Number(values.sponsors);
const N = Number(values.cas);
const RUNS = Number(values.runs);

const pg = await createPgDatabase();
const store = await openStore({ databaseUrl: pg.url, dataDir: '/nonexistent', migrate: true });
const db = store.db;
const t0 = performance.now();
try {
  const lic = (i: string) => sql.raw(`'B' || lpad((${i})::text, 7, '0') || '0'`);
  await db.execute(
    sql`insert into sponsors (licence_number, name, routes) select ${lic('s')}, 'Sponsor ' || s, '{student}' from generate_series(1, ${S}) s`,
  );
  await db.execute(
    sql`insert into batches (sponsor_licence_number, name, route, submission_id) select ${lic('s')}, 'BENCH', 'student', 0 from generate_series(1, ${S}) s`,
  );
  // CAS i belongs to sponsor (i % S) + 1; dates spread over 2025-01-01 .. 2026-06-30.
  await db.execute(sql`
    insert into cas (sponsor_licence_number, route, batch_id, submission_id, record_index, status, record_key, applicant_id, family_name,
                     nationality, passport_number, date_of_birth, course_title, course_start_date, expected_course_end_date, data, warnings,
                     cas_number, assigned_at, expires_on, used_on, decision, decided_on, status_changed_at, created_at)
    select ${lic('(i % ' + S + ') + 1')}, 'student', (i % ${S}) + 1, 0, i, case when i % 997 = 0 then 'ASSIGNED' else 'USED' end,
           'k' || i, 'A' || i, 'Family', 'FRA', 'P' || i, '2000-01-01', 'Course',
           date '2025-01-01' + (i % 545), date '2025-01-01' + (i % 545) + 300, '{}'::jsonb, '[]'::jsonb,
           'E4G' || lpad(i::text, 11, '0'), now(), date '2027-01-01',
           case when i % 997 = 0 then null else date '2024-12-01' + (i % 545) end,
           case when i % 997 = 0 then null when (i / ${S}) % 20 = 0 then 'refused' else 'granted' end,
           case when i % 997 = 0 then null else date '2024-12-15' + (i % 545) end,
           now(), now()
    from generate_series(1, ${N}) i`);
  // Reports on 4% of the CAS: NOT_ENROLLED, WITHDRAWN, COURSE_CHANGED in turn; every fourth late.
  await db.execute(sql`
    insert into cas_reports (cas_id, sponsor_licence_number, kind, trigger_date, fields, due_date, received_at, late)
    select c.id, c.sponsor_licence_number, k.kind, c.course_start_date,
           case k.kind when 'COURSE_CHANGED' then jsonb_build_object('EffectiveDate', c.course_start_date::text, 'NewCourseEndDate', (c.course_start_date + 500)::text)
                       else jsonb_build_object('EffectiveDate', c.course_start_date::text) end,
           c.course_start_date + 14, (c.course_start_date + case when c.id % 4 = 0 then 30 else 5 end)::timestamptz, c.id % 4 = 0
    from cas c cross join lateral (select (array['NOT_ENROLLED', 'WITHDRAWN', 'COURSE_CHANGED'])[(c.id / 25) % 3 + 1] as kind) k
    where c.id % 25 = 0`);
  await db.execute(sql`analyze`);
  const filled = (performance.now() - t0) / 1000;
  const [counts] = (await db.execute(
    sql`select (select count(*) from cas) as cas, (select count(*) from cas_reports) as reports`,
  )) as unknown as {
    cas: string;
    reports: string;
  }[];
  console.log(`filled ${S} sponsors, ${counts!.cas} CAS, ${counts!.reports} reports in ${filled.toFixed(1)} s`);

  const asOf = '2026-05-31';
  for (let r = 1; r <= RUNS; r++) {
    const t = performance.now();
    const rows = await compliance(db, { asOf, nation: 'england-and-wales' });
    const ms = performance.now() - t;
    const states = rows.reduce<Record<string, number>>((m, c) => ((m[c.refusal.state] = (m[c.refusal.state] ?? 0) + 1), m), {});
    console.log(`run ${r}: compliance for all ${rows.length} sponsors in ${ms.toFixed(0)} ms (refusal states ${JSON.stringify(states)})`);
  }
  const t = performance.now();
  await compliance(db, { asOf, nation: 'england-and-wales', licence: 'B00000420' });
  console.log(`one sponsor: ${(performance.now() - t).toFixed(0)} ms`);

  // The console page: the first request computes (as above), later ones render the reused figures.
  const source = complianceSource(db, 'england-and-wales', () => new Date(`${asOf}T12:00:00Z`));
  const first = performance.now();
  await compliancePage(source);
  const firstMs = performance.now() - first;
  const times: number[] = [];
  for (let r = 0; r < 5; r++) {
    const p = performance.now();
    const html = await compliancePage(source);
    times.push(performance.now() - p);
    if (!html.includes('B00000420')) throw new Error('the page lacks a sponsor');
  }
  console.log(`/compliance page: first ${firstMs.toFixed(0)} ms, then ${times.map((x) => x.toFixed(0)).join(', ')} ms`);
} finally {
  await store.close();
  await pg.drop();
}
