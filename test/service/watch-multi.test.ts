/**
 * Two real `cas-bdt watch` processes on one PostgreSQL database and one folder tree:
 * every file is processed by exactly one of them, including files dropped while both run
 * and the files one of them was working on when it was killed (the other takes them over
 * as soon as its liveness lock is gone, without waiting for the lease).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { suiteChildren, suiteCliStore, suiteDir } from '../helpers/fixture.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { waitFor } from '../helpers/wait.ts';
import { checkInvariants, drop, ls, upload, waitForLog, type Child, watchArgs } from '../helpers/watch.ts';

const processedLines = (c: Child) => (c.stderr().match(/INFO\s+(processed|finished \(left unfinished earlier\)) /g) ?? []).length;
const instanceOf = (c: Child) => Number(/instance=(\d+)/.exec(c.stderr())?.[1]);

describe.skipIf(!STORE_KINDS.includes('postgres'))('two watch instances on one PostgreSQL and one tree', () => {
  const work = suiteDir('cas-bdt-multi-');
  const root = path.join(work, 'bdt');
  const db = suiteCliStore('postgres', work);
  const spawn = suiteChildren();

  // A long lease: a takeover within this test can only come from the liveness lock.
  const watch = () => spawn(watchArgs(db.cliArgs, root, 600_000));
  // Files one at a time, so that an instance has finished one file and is inside the
  // transaction of the next (a kill inside a group is the chaos test's: test/chaos).
  const watchFileByFile = () => spawn([...watchArgs(db.cliArgs, root, 600_000), '--group-files', '1']);

  it('processes each file exactly once, also after one instance is killed mid-file', async () => {
    const licences = ['MULTI0001', 'MULTI0002'];
    for (const l of licences) {
      const r = await runCli(['sponsor', 'add', l, '--name', `Multi ${l}`, '--allocation', '100000', ...db.cliArgs, '--root', root]);
      expect(r.code, r.stderr).toBe(0);
    }
    const records = 200;
    const perSponsor = 9;
    const names = Array.from({ length: perSponsor }, (_, i) => `m-${String(i).padStart(2, '0')}.xml`);
    const inbox = (l: string) => path.join(root, l, 'inbox');
    // A third of the files before the start, the rest dropped while both run.
    for (const l of licences) names.slice(0, 3).forEach((n, i) => writeFileSync(path.join(inbox(l), n), upload(l, `${l}-${i}`, records)));

    const a = watchFileByFile();
    const b = watchFileByFile();
    await Promise.all([waitForLog(a, /INFO\s+ready/, 90_000), waitForLog(b, /INFO\s+ready/, 90_000)]);
    for (const l of licences) names.slice(3).forEach((n, i) => drop(inbox(l), n, upload(l, `${l}-${i + 3}`, records)));

    // Kill A while it holds a file inside its transaction.
    const observer = db.observer();
    try {
      // The victim has finished a file already and is inside the transaction of another.
      const victim = await waitFor(
        async () => {
          const [row] = await observer`select c.owner from file_claims c
            where c.state = 'claimed' and exists (select 1 from file_claims d where d.owner = c.owner and d.state = 'done') limit 1`;
          return row?.owner as number | undefined;
        },
        { timeoutMs: 90_000, intervalMs: 5, what: 'an instance inside a transaction after finishing a file' },
      );
      const target = victim === instanceOf(a) ? a : b;
      target.kill('SIGKILL');
      expect(await target.exited).toBe(137);
      const survivor = target === a ? b : a;

      await waitFor(() => licences.every((l) => ls(inbox(l)).length === 0 && ls(path.join(root, l, 'archive')).length >= perSponsor), {
        timeoutMs: 180_000,
        what: 'all files archived by the survivor',
      });
      await waitFor(async () => (await observer`select count(*)::int as n from file_claims where state <> 'done'`)[0]!.n === 0, {
        what: 'claims done',
      });
      survivor.kill('SIGTERM');
      expect(await survivor.exited, survivor.stderr()).toBe(0);
      // Counted in the database, not in log lines (the victim may die between finishing a
      // file and logging it): one finished claim per file, and both instances did work.
      const done = await observer`select owner, count(*)::int as n, count(distinct (sponsor_licence_number, file_name))::int as files
        from file_claims where state = 'done' group by owner`;
      const byOwner = new Map(done.map((r) => [r.owner as number, r.n as number]));
      expect(done.reduce((sum, r) => sum + (r.n as number), 0)).toBe(licences.length * perSponsor);
      expect(byOwner.get(victim)).toBeGreaterThan(0);
      const survivorDone = byOwner.get(instanceOf(survivor)) ?? 0;
      expect(survivorDone).toBeGreaterThan(0);
      // The survivor logged every file it finished, those it took over from the victim included.
      expect(processedLines(survivor), survivor.stderr()).toBe(survivorDone);
    } finally {
      await observer.end({ timeout: 1 });
    }

    const store = await db.open();
    try {
      for (const l of licences) await checkInvariants(store.db, root, l, names, records);
    } finally {
      await store.close();
    }
  }, 300_000);

  it('keeps running when the database drops its connection mid-transaction, and processes the file once', async () => {
    const licence = 'DBDOWN001';
    const r = await runCli(['sponsor', 'add', licence, '--name', 'Outage College', '--allocation', '10000', ...db.cliArgs, '--root', root]);
    expect(r.code, r.stderr).toBe(0);
    const service = watch();
    await waitForLog(service, /INFO\s+ready/, 90_000);
    drop(path.join(root, licence, 'inbox'), 'outage.xml', upload(licence, 'OUT', 1500));
    const admin = db.observer();
    try {
      // The server closes the connection holding the file's transaction, until the service has hit it.
      await waitFor(
        async () => {
          await admin`select pg_terminate_backend(pid) from pg_stat_activity
            where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend'
              and (state like 'idle in transaction%' or xact_start < query_start)`;
          return /infrastructure fault.* file=outage.xml/.test(service.stderr());
        },
        { timeoutMs: 90_000, intervalMs: 10, what: 'the fault' },
      );
    } finally {
      await admin.end({ timeout: 1 });
    }
    await waitForLog(service, /processed sponsor=DBDOWN001 file=outage.xml outcome=ACCEPTED submission=\d+ records=1500/, 90_000);
    service.kill('SIGTERM');
    expect(await service.exited, service.stderr()).toBe(0);
    expect(service.stderr()).not.toMatch(/FATAL/);
    const store = await db.open();
    try {
      await checkInvariants(store.db, root, licence, ['outage.xml'], 1500);
    } finally {
      await store.close();
    }
  }, 300_000);
});
