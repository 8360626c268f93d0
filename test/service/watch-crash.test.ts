/**
 * The real `cas-bdt watch` process stopped hard during a backlog of large files, at
 * different points: a second SIGINT inside a file's transaction (exit 130), then SIGKILL
 * after a commit and right after a move; restarted each time until the inbox is empty and
 * stopped with SIGTERM (exit 0). Every crash invariant is checked on the store afterwards.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { suiteChildren, suiteCliStore, suiteDir } from '../helpers/fixture.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { waitFor } from '../helpers/wait.ts';
import { checkInvariants, ls, upload, waitForLog, watchArgs } from '../helpers/watch.ts';

const PLAN = {
  postgres: { files: 12, records: 1000 },
  pglite: { files: 6, records: 800 },
} as const;

describe.each(STORE_KINDS)('watch stopped hard on %s', (kind) => {
  const licence = kind === 'postgres' ? 'KILLPG001' : 'KILLPL001';
  const work = suiteDir('cas-bdt-kill-');
  const root = path.join(work, 'bdt');
  const db = suiteCliStore(kind, path.join(work, 'data'));
  const spawn = suiteChildren();
  const cli = (...args: string[]) => runCli([...args, ...db.cliArgs, '--root', root]);

  const watch = () => spawn(watchArgs(db.cliArgs, root, 3_000));

  it('finishes every file exactly once after repeated kills', async () => {
    const { files, records } = PLAN[kind];
    const added = await cli('sponsor', 'add', licence, '--name', 'Crash University', '--allocation', String(files * records));
    expect(added.code, added.stderr).toBe(0);
    const inbox = path.join(root, licence, 'inbox');
    const archive = path.join(root, licence, 'archive');
    mkdirSync(inbox, { recursive: true });
    const names = Array.from({ length: files }, (_, i) => `batch-${String(i).padStart(2, '0')}.xml`);
    // Half the backlog is there before the first start, the rest arrives while it runs.
    names.slice(0, files / 2).forEach((n, i) => writeFileSync(path.join(inbox, n), upload(licence, `K${kind[1]}${i}`, records)));

    /** Kill points, each made when its run starts. */
    const killPoints: (() => (sql: postgres.Sql) => Promise<boolean>)[] = [
      // Inside a file's transaction.
      () => async (sql) => (await sql`select count(*)::int as n from file_claims where state = 'claimed'`)[0]!.n > 0,
      // Committed, result or move not done yet; that window is short, so after a while
      // settle for the moment just after a move.
      () => {
        const since = Date.now();
        const archived = ls(archive).length;
        return async (sql) =>
          (await sql`select count(*)::int as n from file_claims where state = 'stored'`)[0]!.n > 0 ||
          (Date.now() - since > 20_000 && ls(archive).length > archived);
      },
      // Just after an input was moved.
      () => {
        const archived = ls(archive).length;
        return async () => ls(archive).length > archived;
      },
    ];
    const killedAt: string[] = [];
    for (const [k, makePoint] of killPoints.entries()) {
      const c = watch();
      await waitForLog(c, /INFO\s+ready/, 90_000);
      if (k === 0)
        names
          .slice(files / 2)
          .forEach((n, i) => writeFileSync(path.join(inbox, n), upload(licence, `K${kind[1]}${files / 2 + i}`, records)));
      const sql = db.observer();
      try {
        const point = makePoint();
        await waitFor(() => point(sql), { timeoutMs: 90_000, intervalMs: 5, what: `kill point ${k}` });
        if (k === 0) {
          // The operator's double Ctrl-C: the second signal stops at once, mid-transaction.
          c.kill('SIGINT');
          await waitForLog(c, /SIGINT: no new files/);
          c.kill('SIGINT');
          expect(await c.exited).toBe(130);
        } else {
          c.kill('SIGKILL');
          expect(await c.exited).toBe(137);
        }
        killedAt.push(`${ls(archive).length} archived`);
      } finally {
        c.kill('SIGKILL');
        await sql.end({ timeout: 1 }).catch(() => {});
      }
    }

    const last = watch();
    await waitForLog(last, /INFO\s+ready/, 90_000);
    await waitFor(() => ls(inbox).length === 0 && ls(archive).length >= files, { timeoutMs: 180_000, what: 'backlog finished' }).catch(
      (err: Error) => {
        throw new Error(
          `${err.message}; still in the inbox: ${ls(inbox).join(', ')}; the last instance said:\n${last.stderr().slice(-6000)}`,
        );
      },
    );
    last.kill('SIGTERM');
    expect(await last.exited, last.stderr()).toBe(0);
    expect(last.stderr()).toMatch(/INFO\s+stopped/);

    const store = await db.open();
    try {
      const inv = await checkInvariants(store.db, root, licence, names, records);
      expect(inv).toEqual({ submissions: files, cas: files * records, casNumbers: files * records });
    } finally {
      await store.close();
    }
    // Each kill happened with work in flight.
    expect(killedAt).toHaveLength(3);
  }, 300_000);
});
