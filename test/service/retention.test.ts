/**
 * What the service keeps, and how: `--retain-days` removes from archive/, rejected/ and
 * outbox/ the regular files placed there longer ago (the service's clock is set days
 * ahead), never a link, a folder or what a link points to, and never through a folder
 * swapped for a link; an input refused for its name, renamed into rejected/, is 0640
 * like every moved input, whatever mode it was uploaded with.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/sql-util.ts';
import { ensureSponsorFolders } from '../../src/inbox/layout.ts';
import { sweepRetained } from '../../src/inbox/retention.ts';
import { suiteDir, suiteStore } from '../helpers/fixture.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { waitFor } from '../helpers/wait.ts';
import { drop, ls, nextLicence, sponsor, startInProcess, upload, waitProcessed } from '../helpers/watch.ts';

const DAY = 86_400_000;

describe('the retention sweep of one folder', () => {
  const work = suiteDir('cas-bdt-retain-');

  it('removes old regular files only, and nothing through a folder swapped for a link', async () => {
    const dir = path.join(work, 'archive');
    const elsewhere = path.join(work, 'elsewhere');
    mkdirSync(dir);
    mkdirSync(elsewhere);
    writeFileSync(path.join(dir, 'old.xml'), 'x');
    writeFileSync(path.join(elsewhere, 'target.xml'), 'keep');
    symlinkSync(path.join(elsewhere, 'target.xml'), path.join(dir, 'link.xml'));
    mkdirSync(path.join(dir, 'sub'));
    writeFileSync(path.join(dir, 'sub', 'inner.xml'), 'x');
    // Not old yet at `now`: kept.
    expect(await sweepRetained(dir, { olderThanMs: 2 * DAY, nowMs: Date.now() + DAY, realDir: dir })).toBe(0);
    // The folder swapped for a link to another: nothing there is removed.
    const swapped = path.join(work, 'swapped');
    symlinkSync(elsewhere, swapped);
    expect(await sweepRetained(swapped, { olderThanMs: DAY, nowMs: Date.now() + 3 * DAY, realDir: dir })).toBe(0);
    expect(readdirSync(elsewhere)).toEqual(['target.xml']);

    expect(await sweepRetained(dir, { olderThanMs: DAY, nowMs: Date.now() + 3 * DAY, realDir: dir })).toBe(1);
    expect(readdirSync(dir).sort()).toEqual(['link.xml', 'sub']);
    expect(readdirSync(path.join(dir, 'sub'))).toEqual(['inner.xml']);
    expect(readdirSync(elsewhere)).toEqual(['target.xml']);
  });
});

describe.each(STORE_KINDS)('what the service keeps, on %s', (kind) => {
  const t = suiteStore(kind);
  const root = suiteDir('cas-bdt-keep-');

  it('makes an input refused for its name 0640 in rejected/', async () => {
    const L = await sponsor(t.store.db, nextLicence('M'));
    await ensureSponsorFolders(root, L);
    const svc = await startInProcess(t.store, root);
    try {
      const inbox = path.join(root, L, 'inbox');
      const tmp = path.join(inbox, '.upload');
      writeFileSync(tmp, upload(L, `${L}N`));
      chmodSync(tmp, 0o666);
      renameSync(tmp, Buffer.concat([Buffer.from(`${inbox}/`), Buffer.from([0x61, 0xff, 0x2e, 0x78, 0x6d, 0x6c])]));
      // Finished: its claim is done only once the move (the rename, then the mode) is over.
      await waitFor(
        async () =>
          (
            await rowsOf<{ n: number }>(
              t.store.db,
              sql`select count(*)::int as n from file_claims where sponsor_licence_number = ${L} and state = 'done'`,
            )
          )[0]!.n === 1,
        { what: 'the input moved to rejected/' },
      );
      expect(ls(path.join(root, L, 'rejected'))).toHaveLength(1);
      const [moved] = ls(path.join(root, L, 'rejected'));
      expect((lstatSync(path.join(root, L, 'rejected', moved!)).mode & 0o777).toString(8)).toBe('640');
    } finally {
      await svc.stop();
    }
  });

  it('removes what is past --retain-days from archive/, rejected/ and outbox/, and leaves links alone', async () => {
    const L = await sponsor(t.store.db, nextLicence('R'));
    await ensureSponsorFolders(root, L);
    const dir = path.join(root, L);
    const outside = path.join(root, 'outside.xml');
    writeFileSync(outside, "not the service's");
    symlinkSync(outside, path.join(dir, 'archive', 'planted.xml'));
    mkdirSync(path.join(dir, 'outbox', 'kept'));
    // Processed first on the real clock, kept (no retention).
    let svc = await startInProcess(t.store, root);
    try {
      drop(path.join(dir, 'inbox'), 'good.xml', upload(L, `${L}G`));
      drop(path.join(dir, 'inbox'), 'bad.xml', Buffer.from('<?xml version="1.0"?><unknown/>'));
      await waitProcessed(root, L, ['good.xml', 'bad.xml']);
    } finally {
      await svc.stop();
    }
    expect(ls(path.join(dir, 'archive'))).toHaveLength(2);
    expect(ls(path.join(dir, 'rejected'))).toHaveLength(1);

    // Three days on, with a retention of two: the sweep removes them.
    svc = await startInProcess(t.store, root, { retainDays: 2, clock: () => new Date(Date.now() + 3 * DAY), sweepIntervalMs: 200 });
    try {
      await waitFor(() => ls(path.join(dir, 'rejected')).length === 0 && ls(path.join(dir, 'outbox')).join() === 'kept', {
        what: 'old files removed',
      });
      expect(ls(path.join(dir, 'archive'))).toEqual(['planted.xml']);
      expect(readdirSync(root)).toContain('outside.xml');
      expect(svc.logs.join('')).toMatch(/past the retention/);
    } finally {
      await svc.stop();
    }
  });
});
