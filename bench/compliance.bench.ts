/**
 * The compliance view at national scale on PostgreSQL: a fresh database filled in SQL with
 * S sponsors and N CAS (default 2,000 and 1,000,000): every CAS used with a visa decision
 * (5% refused) spread over 18 months, course dates spread likewise, and student activity
 * reports on 4% of them (a quarter late); a few ASSIGNED CAS overdue for a report. Then
 * `compliance` for all sponsors, timed (cold, then warm), for one sponsor, and as the command
 * (the built CLI, a process of its own); then the console page `/compliance` as after a start
 * (a new source): the first request ever, the first after a start, after a change to one
 * sponsor, to 100 and to 500, and on the next day. Each line gives the load average.
 *
 *   npx tsx bench/compliance.bench.ts [--sponsors S] [--cas N] [--runs R]
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { openStore } from '../src/db/client.ts';
import { compliancePage, complianceSource } from '../src/http/compliance-page.ts';
import type { Compliance } from '../src/domain/compliance.ts';
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
  const nation = 'england-and-wales';
  const load = () =>
    `load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`;
  const ms = (t: number) => `${(performance.now() - t).toFixed(0)} ms`;

  // `cas-bdt compliance` for all sponsors: computed from the CAS each time.
  for (let r = 1; r <= RUNS; r++) {
    const t = performance.now();
    const rows = await compliance(db, { asOf, nation });
    const took = ms(t);
    const states = rows.reduce<Record<string, number>>((m, c) => ((m[c.refusal.state] = (m[c.refusal.state] ?? 0) + 1), m), {});
    console.log(`run ${r}: compliance for all ${rows.length} sponsors in ${took} (refusal states ${JSON.stringify(states)}; ${load()})`);
  }
  let t = performance.now();
  await compliance(db, { asOf, nation, licence: 'B00000420' });
  console.log(`one sponsor: ${ms(t)}`);
  const cli = fileURLToPath(new URL('../bin/cas-bdt.js', import.meta.url));
  t = performance.now();
  const out = spawnSync(process.execPath, [cli, '--db', pg.url, 'compliance'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (out.status !== 0) throw new Error(`cas-bdt compliance exited ${out.status}: ${out.stderr}`);
  console.log(`the command, cas-bdt compliance (a process of its own, all sponsors): ${ms(t)} (${load()})`);

  // The console page: each `start` is a new source, as a service starting holds nothing in memory.
  const clock = { day: asOf };
  const start = () => complianceSource(db, nation, () => new Date(`${clock.day}T12:00:00Z`));
  const view = async (source: () => Promise<Compliance[]>, what: string) => {
    const p = performance.now();
    const html = await compliancePage(source);
    const took = ms(p);
    if (!html.includes('B00000420')) throw new Error('the page lacks a sponsor');
    console.log(`/compliance ${what}: ${took} (${load()})`);
  };
  await view(start(), 'first request ever (no figures kept yet: every sponsor computed)');
  let source = start();
  await view(source, 'first request after a start, nothing changed');
  for (let r = 1; r <= 3; r++) await view(source, `request ${r + 1} after it`);
  // A visa decision corrected on one CAS, then a report on another sponsor's CAS.
  await db.execute(sql`update cas set decision = 'refused' where id = (select min(id) from cas where decision = 'granted')`);
  source = start();
  await view(source, 'first request after a start and a decision changed');
  await db.execute(
    sql`insert into cas_reports (cas_id, sponsor_licence_number, kind, trigger_date, fields, due_date, received_at, late)
        select id, sponsor_licence_number, 'WITHDRAWN', course_start_date, '{}'::jsonb, course_start_date + 14, now(), true
        from cas where id = 7`,
  );
  await view(source, 'after a report received');
  // A file's worth of changes over 100 sponsors, then 500 (more than are computed one by one).
  for (const n of [100, 500]) {
    await db.execute(
      sql`update cas set decided_on = decided_on + 1 where id in (select min(id) from cas where decision is not null group by sponsor_licence_number order by 1 limit ${n})`,
    );
    await view(source, `after ${n} sponsors' CAS changed`);
  }
  clock.day = '2026-06-01';
  await view(source, 'first request of the next day (every sponsor computed)');
  await view(source, 'the next request');
} finally {
  await store.close();
  await pg.drop();
}
