/**
 * Export deliveries by real `cas-bdt watch --export-every 5m` processes on one PostgreSQL
 * database and one folder tree: two instances deliver each change exactly once (rounds
 * forced on both at once with SIGUSR2, the test's way of not waiting 5 minutes; the period
 * itself cannot be set below 5m); an instance killed with SIGKILL inside a delivery,
 * before its file and after it, loses and doubles nothing: a survivor finishes it.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { parseExport, unzipOne, expectValidExport } from '../helpers/export.ts';
import { suiteChildren, suiteCliStore, suiteDir } from '../helpers/fixture.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { waitFor } from '../helpers/wait.ts';
import { ls, upload, waitForLog, type Child } from '../helpers/watch.ts';

interface Delivery {
  state: string;
  file: string;
  casCount: number | null;
  lastEventId: number | null;
}

const count = (c: Child, re: RegExp) => (c.stderr().match(new RegExp(re.source, 'g')) ?? []).length;
const ROUND_DONE = /SIGUSR2 export round finished/;

describe.skipIf(!STORE_KINDS.includes('postgres'))('export deliveries by two watch instances on one PostgreSQL', () => {
  const work = suiteDir('cas-bdt-watchexports-');
  const root = path.join(work, 'bdt');
  const db = suiteCliStore('postgres', work);
  const spawn = suiteChildren();
  const L = 'DELIV0001';
  const cli = (...args: string[]) => runCli([...args, ...db.cliArgs, '--root', root]);
  const deliveries = async () => {
    const r = await cli('exports', '--sponsor', L, '--json');
    expect(r.code, r.stderr).toBe(0);
    return r.json<Delivery[]>().reverse();
  };
  const zips = () => ls(path.join(root, L, 'outbox')).filter((f) => f.endsWith('.zip'));
  const watch = (env: NodeJS.ProcessEnv = {}) =>
    spawn(['watch', ...db.cliArgs, '--root', root, '--export-every', '5m', '--http', 'off', '--settle-ms', '200'], { env });
  /** Forces a round on each instance at once and waits until each has finished it. */
  const roundOn = async (...cs: Child[]) => {
    const before = cs.map((c) => count(c, ROUND_DONE));
    for (const c of cs) c.kill('SIGUSR2');
    await waitFor(() => cs.every((c, i) => count(c, ROUND_DONE) > before[i]!), { timeoutMs: 60_000, what: 'the forced export rounds' });
  };
  /**
   * Forced rounds on both until the deltas (every delivery after the first) hold `n` CAS
   * in all. A delivery covers the history written by transactions that had all ended when
   * it looked, and a long transaction anywhere on the server (another suite's) holds that
   * point back: a change is then delivered by a later round, so how changes are grouped
   * into deltas is not fixed, only that each is delivered once.
   */
  const deliveredUpTo = async (n: number, ...cs: Child[]) => {
    for (let i = 0; i < 40; i++) {
      await roundOn(...cs);
      const done = (await deliveries()).filter((d) => d.state === 'done');
      if (done.slice(1).reduce((sum, d) => sum + d.casCount!, 0) >= n) return;
    }
    throw new Error(`fewer than ${n} changes delivered after 40 rounds`);
  };
  /** Forces rounds on the instance until it has paused inside a delivery. */
  const pausedIn = async (c: Child) =>
    waitFor(
      () => {
        if (/export delivery paused for a test/.test(c.stderr())) return true;
        if (count(c, /SIGUSR2 export round finished/) >= count(c, /SIGUSR2: delivering exports now/)) c.kill('SIGUSR2');
        return false;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'a delivery paused' },
    );
  /** Which CAS numbers each delivered file holds, with their status, read back from the zips. */
  const delivered = async (list: Delivery[]) => {
    const out: Map<string, string>[] = [];
    for (const d of list) {
      const { bytes } = unzipOne(path.join(root, L, 'outbox', d.file));
      await expectValidExport(bytes);
      out.push(new Map((parseExport(bytes.toString('utf8')).CAS ?? []).map((c) => [c.CASNumber!, c.Status!])));
    }
    return out;
  };
  let numbers: string[] = [];

  beforeAll(async () => {
    expect((await cli('sponsor', 'add', L, '--name', 'Delivery College', '--allocation', '100')).code).toBe(0);
    const file = path.join(work, 'six.xml');
    writeFileSync(file, upload(L, 'DV', 6));
    expect((await cli('process', file, '--sponsor', L)).code).toBe(0);
    const list = await cli('cas', 'list', '--sponsor', L, '--json');
    numbers = list.json<{ casNumber: string }[]>().map((c) => c.casNumber);
    expect(numbers).toHaveLength(6);
  });

  it('two instances deliver each change exactly once; a kill inside a delivery loses and doubles nothing', async () => {
    const a = watch();
    const b = watch();
    await Promise.all([waitForLog(a, /INFO\s+ready/, 90_000), waitForLog(b, /INFO\s+ready/, 90_000)]);
    // The first round of whichever instance gets there first: every CAS.
    // (Forced rounds until then: a long transaction elsewhere on the server may hold the first back.)
    for (let i = 0; !(await deliveries()).some((d) => d.state === 'done'); i++) {
      if (i === 40) throw new Error('no delivery after 40 rounds');
      await roundOn(a, b);
    }
    await roundOn(a, b);
    let list = await deliveries();
    expect(list.map((d) => [d.state, d.casCount])).toEqual([['done', 6]]);

    // Changes between rounds, each round forced on both instances at once.
    const withdraw = async (n: string) => expect((await cli('cas', 'withdraw', n)).code).toBe(0);
    await withdraw(numbers[0]!);
    await withdraw(numbers[1]!);
    await deliveredUpTo(2, a, b);
    await withdraw(numbers[2]!);
    await deliveredUpTo(3, a, b);
    const before = (await deliveries()).length;
    await roundOn(a, b); // nothing changed: nothing delivered
    list = await deliveries();
    expect(list).toHaveLength(before);
    expect(list.every((d) => d.state === 'done')).toBe(true);
    expect(count(a, /INFO\s+export delivered/) + count(b, /INFO\s+export delivered/)).toBe(list.length);

    // Killed after writing its file, before recording it: the survivor finds the file and writes none.
    const c = watch({ CAS_BDT_TEST_DELIVERY_PAUSE: 'after-file' });
    await waitForLog(c, /INFO\s+ready/, 90_000);
    await withdraw(numbers[3]!);
    await pausedIn(c);
    c.kill('SIGKILL');
    expect(await c.exited).toBe(137);
    expect(zips()).toHaveLength(list.length + 1);
    await deliveredUpTo(4, a, b);
    expect(count(a, /its file was written before a stop/) + count(b, /its file was written before a stop/)).toBe(1);

    // Killed before writing its file: the survivor writes it.
    const d = watch({ CAS_BDT_TEST_DELIVERY_PAUSE: 'before-file' });
    await waitForLog(d, /INFO\s+ready/, 90_000);
    const zipsBefore = zips().length;
    await withdraw(numbers[4]!);
    await pausedIn(d);
    d.kill('SIGKILL');
    expect(await d.exited).toBe(137);
    expect(zips()).toHaveLength(zipsBefore);
    await deliveredUpTo(5, a, b);

    list = await deliveries();
    expect(list.every((x) => x.state === 'done')).toBe(true);
    expect(list[0]!.casCount).toBe(6);
    // One file per delivery, nothing else, and each change in exactly one delta.
    expect(zips().sort()).toEqual(list.map((x) => x.file).sort());
    const files = await delivered(list);
    expect([...files[0]!.keys()].sort()).toEqual([...numbers].sort());
    const deltas = files.slice(1).flatMap((m) => [...m.entries()]);
    expect(deltas.map(([n]) => n).sort()).toEqual(numbers.slice(0, 5).sort());
    expect(deltas.every(([, status]) => status === 'WITHDRAWN')).toBe(true);
    expect(files.slice(1).every((m) => m.size > 0)).toBe(true);
    const events = list.map((x) => x.lastEventId!);
    expect(events).toEqual([...events].sort((x, y) => x - y));

    const human = await cli('exports');
    expect(human.code).toBe(0);
    expect(human.stdout.split('\n')[0]).toMatch(/^DELIVERED\s+SPONSOR\s+FILE\s+CAS\s+LAST EVENT\s+CHANGED SINCE/);
    for (const x of list) expect(human.stdout).toContain(x.file);
    expect((await cli('exports', '--sponsor', 'NOSUCH001')).code).toBe(4);

    for (const s of [a, b]) s.kill('SIGTERM');
    expect(await a.exited, a.stderr()).toBe(0);
    expect(await b.exited, b.stderr()).toBe(0);
  }, 300_000);
});
