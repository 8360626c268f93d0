/**
 * Temporary files a killed writer left in an outbox are removed: at once when the writer
 * was on this host and is gone, by age otherwise; a live writer's file, a link or a
 * folder with such a name, and every other file are left alone. The service sweeps each
 * sponsor's outbox when it starts watching it.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, realpathSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureSponsorFolders } from '../../src/inbox/layout.ts';
import { sweepTemporaries, temporaryName } from '../../src/inbox/temporaries.ts';
import { storeTest, suiteDir } from '../helpers/fixture.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { waitFor } from '../helpers/wait.ts';
import { ls } from '../helpers/watch.ts';

/** The PID of a process that has exited. */
const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!;

describe('stale temporary files', () => {
  const dir = suiteDir('cas-bdt-tmp-');

  it('removes those of a writer gone from this host, and any older than the limit', async () => {
    const box = path.join(dir, 'outbox');
    mkdirSync(box);
    const dead = temporaryName(deadPid());
    const live = temporaryName();
    const parent = temporaryName(process.ppid);
    const oldFormatYoung = `.${deadPid()}.0123456789ab.tmp`;
    const oldFormatOld = `.${deadPid()}.ba9876543210.tmp`;
    const elsewhereOld = `.${process.pid}.ffffffff.0123456789ab.tmp`;
    for (const n of [dead, live, parent, oldFormatYoung, oldFormatOld, elsewhereOld, 'a.result.xml', '.hidden.tmp'])
      writeFileSync(path.join(box, n), 'partial');
    const hourAgo = new Date(Date.now() - 2 * 3_600_000);
    utimesSync(path.join(box, oldFormatOld), hourAgo, hourAgo);
    utimesSync(path.join(box, elsewhereOld), hourAgo, hourAgo);
    // A link and a folder with a temporary's name are never touched.
    const linked = temporaryName(deadPid());
    symlinkSync(path.join(box, 'a.result.xml'), path.join(box, linked));
    const folder = temporaryName(deadPid());
    mkdirSync(path.join(box, folder));

    expect(await sweepTemporaries(box)).toBe(3);
    expect(ls(box)).toEqual([live, parent, oldFormatYoung, '.hidden.tmp', linked, folder, 'a.result.xml'].sort());
  });

  it('sweeps nothing through a folder that is not where it must really be (a link to another folder)', async () => {
    const other = path.join(dir, 'other-outbox');
    const own = path.join(dir, 'own');
    mkdirSync(other);
    mkdirSync(own);
    const left = temporaryName(deadPid());
    writeFileSync(path.join(other, left), 'partial');
    // `own/outbox` leads to another folder: what is there is not this outbox's to remove.
    symlinkSync(other, path.join(own, 'outbox'));
    expect(await sweepTemporaries(path.join(own, 'outbox'), { realDir: path.join(realpathSync(own), 'outbox') })).toBe(0);
    expect(ls(other)).toEqual([left]);
    // Checked where it really is, the same file is swept.
    expect(await sweepTemporaries(other, { realDir: realpathSync(other) })).toBe(1);
    expect(ls(other)).toEqual([]);
  });
});

describe.each(STORE_KINDS)('the service sweeps outboxes on %s', (kind) => {
  storeTest.override({ kind });

  storeTest('removes what a killed instance was writing when it starts watching the sponsor', async ({ root, licence, start }) => {
    await ensureSponsorFolders(root, licence);
    const outbox = path.join(root, licence, 'outbox');
    const left = temporaryName(deadPid());
    writeFileSync(path.join(outbox, left), '<?xml version="1.0"?><Result');
    writeFileSync(path.join(outbox, 'kept.result.xml'), '<Result/>');
    const running = await start();
    await waitFor(() => !ls(outbox).includes(left), { timeoutMs: 30_000, what: 'the leftover removed' });
    expect(ls(outbox)).toEqual(['kept.result.xml']);
    // The line is written after the removal: wait for it rather than expect it at once.
    await waitFor(() => /removed 1 temporary file/.test(running.logs.join('')), { timeoutMs: 30_000, what: 'the sweep logged' });
  });
});
