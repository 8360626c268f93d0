/**
 * Scenario 7: export deliveries (`watch --export-every`) by several instances on one
 * PostgreSQL, with CAS changing between rounds and SIGKILL to a random instance while
 * rounds run (forced on every instance at once with SIGUSR2). At the end every sponsor's
 * deliveries must cover its history once: their ranges follow each other without gap or
 * overlap up to past the last change, each delivery has exactly one file in the outbox
 * with the content it recorded, holding exactly the CAS changed in its range.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { changedInRange } from '../../src/db/export.ts';
import { rowsOf } from '../../src/db/sql-util.ts';
import { sponsorDir } from '../../src/inbox/layout.ts';
import { setFees } from '../../src/ops/fees.ts';
import { waitFor } from '../../test/helpers/wait.ts';
import { randomPause, scenarioDatabase, seconds, WATCH_FLAGS, type ScenarioResult } from '../common.ts';
import { Fleet } from '../instances.ts';
import { addSponsors, licences, rng } from '../tree.ts';

export interface ExportsOptions {
  adminUrl: string;
  work: string;
  instances: number;
  sponsors: number;
  /** Assigned CAS per sponsor. */
  cas: number;
  /** Rounds of changes, each followed by forced deliveries and, mostly, a kill. */
  rounds: number;
  /** CAS changed per sponsor and round. */
  changesPerRound: number;
  seed: number;
  timeoutMs: number;
}

interface DeliveryRow {
  id: number;
  file_name: string;
  sha256: string | null;
  state: string;
  from_tx: number;
  to_tx: number;
  cas_count: number | null;
}

export async function exportsScenario(o: ExportsOptions): Promise<ScenarioResult> {
  const title = `export deliveries, ${o.instances} instances, ${o.sponsors} sponsors x ${o.cas} CAS, ${o.rounds} rounds of changes with kill -9`;
  const { url, store } = await scenarioDatabase(o.adminUrl, 'chaos_exports');
  const root = path.join(o.work, 'exports');
  mkdirSync(root, { recursive: true });
  const sponsors = licences('EXD', o.sponsors);
  const random = rng(o.seed);
  const failures: string[] = [];
  let fleet: Fleet | undefined;
  const db = store.db;
  try {
    await addSponsors(db, root, sponsors, 10_000_000);
    for (const [k, licence] of sponsors.entries()) {
      const letters = String.fromCharCode(65 + (k % 26)) + String.fromCharCode(65 + Math.floor(k / 26));
      await db.execute(
        sql`insert into batches (sponsor_licence_number, name, route, submission_id) values (${licence}, 'CHAOS-1', 'student', 1)`,
      );
      await db.execute(sql`
        with b as (select id from batches where sponsor_licence_number = ${licence}),
        ins as (
          insert into cas (sponsor_licence_number, route, batch_id, submission_id, record_index, status, record_key, applicant_id,
            family_name, nationality, passport_number, date_of_birth, course_title, course_start_date, expected_course_end_date,
            data, warnings, cas_number, assigned_at, expires_on, status_changed_at, created_at)
          select ${licence}, 'student', b.id, 1, i, 'ASSIGNED', 'K' || i, 'APP-' || i, 'Family', 'NGA', 'P' || i, '2001-04-12',
            'MSc Chaos', date '2027-09-20', date '2028-06-30', '{}'::jsonb, '[]'::jsonb,
            'E4G' || substr(s, 1, 1) || ${letters}::text || substr(s, 2, 1) || 'C' || substr(s, 3, 2) || 'D' || substr(s, 5, 1) || 'E' || substr(s, 6, 1),
            now(), date '2027-07-05', now(), now()
          from b, generate_series(1, ${o.cas}) as i, lateral (select lpad((i - 1)::text, 6, '0') as s) x
          returning id)
        insert into cas_events (cas_id, from_status, to_status, at, reason) select id, 'READY_TO_GO', 'ASSIGNED', now(), 'chaos' from ins`);
    }
    const numbers = new Map<string, string[]>();
    for (const l of sponsors) {
      const rows = await rowsOf<{ n: string }>(db, sql`select cas_number as n from cas where sponsor_licence_number = ${l} order by id`);
      numbers.set(
        l,
        rows.map((r) => r.n),
      );
    }

    const t0 = performance.now();
    fleet = new Fleet(() => ['--db', url, '--root', root, ...WATCH_FLAGS, '--export-every', '5m'], o.instances);
    const f = fleet;
    await waitFor(() => f.ready(), { timeoutMs: 120_000, what: 'the instances ready' });
    let changes = 0;
    let midDelivery = 0;
    for (let round = 0; round < o.rounds; round++) {
      for (const l of sponsors) {
        const list = numbers.get(l)!;
        for (let c = 0; c < o.changesPerRound; c++) {
          const n = list[Math.floor(random() * list.length)]!;
          const res = await setFees(db, n, { coursePaid: 100 * (round * o.changesPerRound + c + 1) }, new Date());
          if (res.kind === 'done') changes++;
        }
      }
      // Every instance at once, then (mostly) a kill: of the instance writing a delivery
      // when one is seen in time (a delta takes tens of milliseconds), else of a random one.
      for (const m of f.members) if (m.saw(/INFO\s+ready/)) m.proc.kill('SIGUSR2');
      if (random() < 0.8) {
        const until = Date.now() + 1000 * random();
        let slot: number | undefined;
        while (slot === undefined && Date.now() < until) {
          const [p] = await rowsOf<{ owner: number }>(db, sql`select owner from export_deliveries where state = 'pending' limit 1`);
          if (p) slot = f.slotOf(p.owner);
        }
        if (slot !== undefined) midDelivery++;
        else await randomPause(random, 60);
        await f.killAndRestart(slot ?? Math.floor(random() * o.instances));
      }
    }
    // Settle: forced rounds until a round leaves nothing pending and nothing to deliver.
    await waitFor(() => f.ready(), { timeoutMs: 120_000, what: 'the restarted instances ready' });
    const deadline = Date.now() + o.timeoutMs;
    for (;;) {
      if (Date.now() > deadline) throw new Error('deliveries did not settle');
      const before = await rowsOf<{ n: number }>(db, sql`select count(*)::int as n from export_deliveries`);
      const marks = f.members.map((m) => (m.log().match(/SIGUSR2 export round finished/g) ?? []).length);
      for (const m of f.members) m.proc.kill('SIGUSR2');
      await waitFor(() => f.members.every((m, i) => (m.log().match(/SIGUSR2 export round finished/g) ?? []).length > marks[i]!), {
        timeoutMs: 120_000,
        what: 'the settling rounds',
      });
      const after = await rowsOf<{ n: number; pending: number }>(
        db,
        sql`select count(*)::int as n, count(*) filter (where state = 'pending')::int as pending from export_deliveries`,
      );
      const [lastEvent] = await rowsOf<{ tx: number }>(db, sql`select max(tx)::bigint as tx from cas_events`);
      const [covered] = await rowsOf<{ tx: number }>(
        db,
        sql`select min(m)::bigint as tx from (select max(to_tx) as m from export_deliveries where state = 'done' group by sponsor_licence_number) x`,
      );
      if (after[0]!.n === before[0]!.n && after[0]!.pending === 0 && Number(covered?.tx ?? 0) > Number(lastEvent!.tx)) break;
    }
    const wallS = seconds(t0);
    // Deliveries a killed instance had opened, finished by a survivor (as the survivors logged them; a killed one's log is gone).
    const finishedForAnother = f.members.reduce((sum, m) => sum + (m.log().match(/resumed=true/g) ?? []).length, 0);
    const codes = await f.stop();
    if (codes.some((c) => c !== 0)) failures.push(`exit codes at the end: ${codes.join(', ')}`);
    for (const c of f.crashes) failures.push(c);

    // The checks, per sponsor.
    let deliveries = 0;
    let gaps = 0;
    let overlaps = 0;
    let undelivered = 0;
    let filesMissing = 0;
    let filesExtra = 0;
    let filesWrong = 0;
    for (const l of sponsors) {
      const rows = (
        await rowsOf<DeliveryRow>(db, sql`select * from export_deliveries where sponsor_licence_number = ${l} order by from_tx`)
      ).map((r) => ({ ...r, from_tx: Number(r.from_tx), to_tx: Number(r.to_tx) }));
      deliveries += rows.length;
      let at = 0;
      for (const r of rows) {
        if (r.from_tx > at) gaps++;
        if (r.from_tx < at) overlaps++;
        at = r.to_tx;
      }
      const [late] = await rowsOf<{ n: number }>(
        db,
        sql`select count(*)::int as n from cas_events e join cas c on c.id = e.cas_id where c.sponsor_licence_number = ${l} and e.tx >= ${at}`,
      );
      undelivered += late!.n;
      const outbox = sponsorDir(root, l, 'outbox');
      const files = readdirSync(outbox).filter((n) => n.startsWith('CASEXPORT-'));
      const named = new Set(rows.map((r) => r.file_name));
      filesExtra += files.filter((n) => !named.has(n)).length;
      for (const r of rows) {
        if (!files.includes(r.file_name)) {
          filesMissing++;
          continue;
        }
        const bytes = readFileSync(path.join(outbox, r.file_name));
        const xml = execFileSync('unzip', ['-p', path.join(outbox, r.file_name)], { encoding: 'utf8', maxBuffer: 1 << 30 });
        const inFile = [...xml.matchAll(/<CASNumber>([^<]+)<\/CASNumber>/g)].map((m) => m[1]!).sort();
        const { ids } = await changedInRange(db, l, r.from_tx, r.to_tx);
        const expected = ids.length
          ? (await rowsOf<{ n: string }>(db, sql`select cas_number as n from cas where id in ${sql.raw(`(${ids.join(',')})`)}`))
              .map((x) => x.n)
              .sort()
          : [];
        const sha = createHash('sha256').update(bytes).digest('hex');
        if (sha !== r.sha256 || r.state !== 'done' || r.cas_count !== inFile.length || inFile.join() !== expected.join()) {
          filesWrong++;
          if (failures.length < 10)
            failures.push(`${l} ${r.file_name}: ${inFile.length} CAS in the file, ${expected.length} changed in its range`);
        }
      }
    }
    const figures = {
      files: 0,
      processed: 0,
      notOneResult: 0,
      casTwice: 0,
      numbersTwice: 0,
      drift: 0,
      inputsLost: 0,
      inputsTwice: 0,
      recordsMissing: 0,
      halfWritten: readdirSync(root, { recursive: true }).filter((n) => /\.tmp|\.partial|~$/.test(String(n))).length,
      claimsOpen: 0,
      problems: [],
    };
    for (const [what, n] of Object.entries({ gaps, overlaps, undelivered, filesMissing, filesExtra, filesWrong }))
      if (n) failures.push(`${what}: ${n}`);
    return {
      title,
      figures,
      wallS,
      extra: {
        changes,
        deliveries,
        kills: f.kills,
        'kills-mid-delivery': midDelivery,
        'finished-for-a-killed-one': finishedForAnother,
        'ranges-with-gap': gaps,
        'ranges-overlapping': overlaps,
        'events-undelivered': undelivered,
        'files-missing': filesMissing,
        'files-extra': filesExtra,
        'files-wrong': filesWrong,
      },
      failures,
      run: { root, url, inputs: [] },
    };
  } finally {
    await fleet?.kill().catch(() => {});
    await store.close();
  }
}
