/**
 * An export delivery's delta on PostgreSQL: a sponsor with 100,000 assigned CAS (and as
 * many of another sponsor's, changing too), of which 1,000 changed since the last
 * delivery. Times `deliverExport` (the work of `watch --export-every`: the range of
 * history, the CAS rows, the XML, the zip, the atomic write and its record), then
 * `exportRows --changed-since` (the `cas-bdt export --changed-since` query). The target:
 * under 2 s for the delta. The CAS are inserted by SQL (not through the pipeline), which
 * takes a minute.
 *
 *   npx tsx bench/export-delta.bench.ts [--cas 100000] [--changed 1000] [--rounds 3]
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { openStore } from '../src/db/client.ts';
import { acquireInstanceKey } from '../src/db/claims.ts';
import { exportRows } from '../src/db/export.ts';
import { addSponsor } from '../src/db/sponsors.ts';
import { ensureSponsorFolders, sponsorDir } from '../src/inbox/layout.ts';
import { deliverExport } from '../src/ops/export.ts';
import { createPgDatabase } from '../test/helpers/stores.ts';

const { values } = parseArgs({
  strict: false,
  options: {
    cas: { type: 'string', default: '100000' },
    changed: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '3' },
  },
});
const total = Number(values.cas);
const changed = Number(values.changed);
const rounds = Number(values.rounds);
const L = 'BENCHEXP1';
const NOISE = 'BENCHNOI2';

const pg = await createPgDatabase();
const work = mkdtempSync(path.join(os.tmpdir(), 'cas-bdt-export-bench-'));
const store = await openStore({ databaseUrl: pg.url, dataDir: work });
const db = store.db;
try {
  for (const [licence, letters] of [
    [L, 'AB'],
    [NOISE, 'NB'],
  ] as const) {
    await addSponsor(
      db,
      { licenceNumber: licence, name: `Bench ${licence}`, routes: ['student'], autoAssign: true, allocation: total },
      new Date(),
    );
    await ensureSponsorFolders(work, licence);
    const t0 = performance.now();
    await db.execute(
      sql`insert into batches (sponsor_licence_number, name, route, submission_id) values (${licence}, ${`BATCH-${licence}`}, 'student', 1)`,
    );
    // CAS numbers E4G<d><letters><d>C<dd>D<d>E<d>: distinct per sponsor (letters) and row (six digits).
    await db.execute(sql`
      with b as (select id from batches where sponsor_licence_number = ${licence}),
      ins as (
        insert into cas (sponsor_licence_number, route, batch_id, submission_id, record_index, status, record_key, applicant_id,
          family_name, given_name, nationality, passport_number, date_of_birth, course_title, course_id, course_start_date,
          expected_course_end_date, data, warnings, cas_number, assigned_at, expires_on, status_changed_at, created_at)
        select ${licence}, 'student', b.id, 1, i, 'ASSIGNED', 'K' || i, 'APP-' || i, 'Family' || i, 'Given', 'NGA', 'P' || i, '2001-04-12',
          'MSc Data Science', 'MSC-' || (i % 50), date '2027-09-20', date '2028-06-30',
          jsonb_build_object('ApplicantData', jsonb_build_object('ApplicationID', 'A-' || i),
            'FinancialAndAccommodationDetails', jsonb_build_object('CourseFeesForFirstYearOnly', '24500.00')),
          '[]'::jsonb,
          'E4G' || substr(s, 1, 1) || ${letters}::text || substr(s, 2, 1) || 'C' || substr(s, 3, 2) || 'D' || substr(s, 5, 1) || 'E' || substr(s, 6, 1),
          now(), date '2027-07-05', now(), now()
        from b, generate_series(1, ${total}) as i, lateral (select lpad((i - 1)::text, 6, '0') as s) x
        returning id)
      insert into cas_events (cas_id, from_status, to_status, at, reason)
      select id, 'READY_TO_GO', 'ASSIGNED', now(), 'bench' from ins`);
    console.log(`${licence}: ${total} CAS and their events inserted in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  await db.execute(sql`analyze`);

  const session = await store.session();
  const me = await acquireInstanceKey(session.db);
  const outbox = async (l: string) => ({ dir: sponsorDir(work, l, 'outbox'), realDir: undefined });
  const opts = () => ({ me, leaseMs: 60_000, now: new Date(), minAgeMs: 0, outbox });

  let t = performance.now();
  const first = await deliverExport(db, L, opts());
  console.log(
    `first delivery (everything): ${first!.casCount} CAS, ${(statSync(first!.file).size / 1e6).toFixed(1)} MB zip, ${Math.round(performance.now() - t)} ms`,
  );

  const figures: number[] = [];
  for (let r = 0; r < rounds; r++) {
    // 1,000 of the sponsor's CAS change (a fee update each, with its event), and as many of the other sponsor's.
    const since = new Date();
    await new Promise((res) => setTimeout(res, 5));
    for (const licence of [L, NOISE]) {
      await db.execute(sql`
        with pick as (
          select id from cas where sponsor_licence_number = ${licence} order by id offset ${r * changed} limit ${changed}),
        upd as (
          update cas set fees = jsonb_build_object('course', 2450000, 'coursePaid', ${100 * (r + 1)}::int, 'accommodationPaid', null, 'boardingPaid', null)
          where id in (select id from pick) returning id)
        insert into cas_events (cas_id, from_status, to_status, at, reason, kind)
        select id, 'ASSIGNED', 'ASSIGNED', now(), 'bench fee update', 'FEES_UPDATED' from upd`);
    }
    t = performance.now();
    const d = await deliverExport(db, L, opts());
    const ms = performance.now() - t;
    figures.push(ms);
    if (d?.casCount !== changed) throw new Error(`expected a delta of ${changed} CAS, got ${d?.casCount}`);
    t = performance.now();
    const rows = await exportRows(db, L, { changedSince: since });
    const queryMs = performance.now() - t;
    if (rows.length !== changed) throw new Error(`--changed-since found ${rows.length} CAS, expected ${changed}`);
    console.log(
      `round ${r + 1}: delta delivery of ${d.casCount} CAS of ${total}: ${Math.round(ms)} ms (${path.basename(d.file)}, ${statSync(d.file).size} bytes); export --changed-since query: ${Math.round(queryMs)} ms`,
    );
  }
  const sorted = [...figures].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  console.log(
    `${median < 2000 ? 'OK  ' : 'SLOW'} delta of ${changed} changed CAS among ${total}: median ${Math.round(median)} ms (target < 2000 ms), load average ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  await session.close();
} finally {
  await store.close();
  await pg.drop();
  rmSync(work, { recursive: true, force: true });
}
