/**
 * Exactly once for zips (spec section 4a): the real `cas-bdt watch` killed with SIGKILL
 * in the middle of a zip (some of its entries stored, the zip itself not), then started
 * again: every entry has exactly one submission (those stored before the kill keep
 * theirs), every CAS is created once with a CAS number of its own, allocation `used`
 * equals the CAS assigned, and the result zip lists every entry.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sql as dsql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/sql-util.ts';
import { runCli } from '../helpers/cli.ts';
import { suiteChildren, suiteCliStore, suiteDir } from '../helpers/fixture.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { waitFor } from '../helpers/wait.ts';
import { ls, upload, waitForLog } from '../helpers/watch.ts';
import { readResultZip, zipOf } from '../helpers/zips.ts';

const ENTRIES = 6;
const RECORDS = { postgres: 300, pglite: 200 } as const;
const ZIP = 'EXP-2024-02-02-092514533.zip';

describe.each(STORE_KINDS)('watch killed in the middle of a zip on %s', (kind) => {
  const licence = kind === 'postgres' ? 'ZKILLPG01' : 'ZKILLPL01';
  const work = suiteDir('cas-bdt-zipkill-');
  const root = path.join(work, 'bdt');
  const db = suiteCliStore(kind, path.join(work, 'data'));
  const spawn = suiteChildren();
  const cli = (...args: string[]) => runCli([...args, ...db.cliArgs, '--root', root]);

  const watch = () =>
    spawn(['watch', ...db.cliArgs, '--root', root, '--settle-ms', '200', '--scan-interval-ms', '500', '--lease-ms', '3000']);

  it('gives every entry exactly one submission and every CAS once', async () => {
    const records = RECORDS[kind];
    const added = await cli('sponsor', 'add', licence, '--name', 'Zip Crash College', '--allocation', String(ENTRIES * records));
    expect(added.code, added.stderr).toBe(0);
    const inbox = path.join(root, licence, 'inbox');
    mkdirSync(inbox, { recursive: true });
    const names = Array.from({ length: ENTRIES }, (_, i) => `upload-${i + 1}.xml`);
    const zip = await zipOf(names.map((name, i) => ({ name, data: upload(licence, `Z${kind[1]}${i}`, records) })));

    const first = watch();
    await waitForLog(first, /INFO\s+ready/, 90_000);
    writeFileSync(path.join(inbox, ZIP), zip);
    const sql = db.observer();
    let storedAtKill = 0;
    try {
      // Killed once two entries are stored and the zip itself is not.
      await waitFor(
        async () => {
          const [row] = await sql<
            { n: number }[]
          >`select count(*)::int as n from file_claims, jsonb_object_keys(entries) where state = 'claimed'`;
          storedAtKill = row?.n ?? 0;
          return storedAtKill >= 2;
        },
        { timeoutMs: 120_000, intervalMs: 5, what: 'two entries of the zip stored' },
      );
      first.kill('SIGKILL');
      expect(await first.exited).toBe(137);
    } finally {
      await sql.end({ timeout: 1 }).catch(() => {});
    }
    expect(storedAtKill).toBeLessThan(ENTRIES);
    expect(ls(path.join(root, licence, 'outbox'))).toEqual([]);

    const second = watch();
    await waitForLog(second, /INFO\s+ready/, 90_000);
    const archive = path.join(root, licence, 'archive');
    await waitFor(() => ls(inbox).length === 0 && ls(archive).length === 1, { timeoutMs: 180_000, what: 'the zip finished' });
    second.kill('SIGTERM');
    expect(await second.exited, second.stderr()).toBe(0);

    const { container } = await readResultZip(path.join(root, licence, 'outbox', 'EXP-2024-02-02-092514533.result.zip'));
    expect(container.Outcome).toBe('ACCEPTED');
    expect(container.Entry.map((e) => [e['@_name'], e['#text']])).toEqual(names.map((n) => [n, 'ACCEPTED']));

    const store = await db.open();
    try {
      const subs = await rowsOf<{ file_name: string; n: number; replays: number }>(
        store.db,
        dsql`select file_name, count(*)::int as n, count(replay_of)::int as replays from submissions group by file_name order by file_name`,
      );
      expect(subs).toEqual([ZIP, ...names.map((n) => `${ZIP}!${n}`)].sort().map((f) => ({ file_name: f, n: 1, replays: 0 })));
      // The result zip names the very submissions stored before the kill.
      const ids = await rowsOf<{ id: number }>(
        store.db,
        dsql`select id::int as id from submissions where file_name like ${`${ZIP}!%`} order by id`,
      );
      expect(container.Entry.map((e) => Number(e['@_submissionId'])).sort((a, b) => a - b)).toEqual(ids.map((r) => r.id));
      const [c] = await rowsOf<{ n: number; numbers: number; used: number }>(
        store.db,
        dsql`select count(*)::int as n, count(distinct cas_number)::int as numbers,
               (select allocation_used from sponsors where licence_number = ${licence})::int as used from cas`,
      );
      expect(c).toEqual({ n: ENTRIES * records, numbers: ENTRIES * records, used: ENTRIES * records });
    } finally {
      await store.close();
    }
  }, 400_000);
});
