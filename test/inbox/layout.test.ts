/**
 * Creating sponsor folders: mode 0750, nothing created through a link, links left in
 * place for the health check to report. Real folders and links.
 */
import { lstatSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSponsorFolders } from '../../src/inbox/folder-health.ts';
import { ensureSponsorFolders } from '../../src/inbox/layout.ts';
import { suiteDir } from '../helpers/fixture.ts';

describe('ensureSponsorFolders', () => {
  const base = suiteDir('cas-bdt-layout-');

  it('creates the root, the sponsor folder and its four subfolders 0750', async () => {
    const root = path.join(base, 'new-root');
    await ensureSponsorFolders(root, 'L1');
    for (const d of [root, path.join(root, 'L1'), ...['inbox', 'outbox', 'archive', 'rejected'].map((f) => path.join(root, 'L1', f))]) {
      expect(statSync(d).mode & 0o777).toBe(0o750);
    }
    expect(await checkSponsorFolders(root, 'L1')).toEqual({ ok: true });
  });

  it('creates nothing through a linked sponsor folder, and leaves links (even dangling ones) in place', async () => {
    const root = path.join(base, 'linked');
    const elsewhere = path.join(base, 'elsewhere');
    mkdirSync(root);
    mkdirSync(elsewhere);
    symlinkSync(elsewhere, path.join(root, 'L2'));
    await ensureSponsorFolders(root, 'L2');
    expect(readdirSync(elsewhere)).toEqual([]);
    expect(await checkSponsorFolders(root, 'L2')).toEqual({ ok: false, unsafe: true, reasons: ['L2 is a symbolic link'] });

    mkdirSync(path.join(root, 'L3'));
    symlinkSync(path.join(base, 'nowhere'), path.join(root, 'L3', 'rejected'));
    await ensureSponsorFolders(root, 'L3');
    expect(lstatSync(path.join(root, 'L3', 'rejected')).isSymbolicLink()).toBe(true);
    expect(readdirSync(path.join(root, 'L3')).sort()).toEqual(['archive', 'inbox', 'outbox', 'rejected']);
    expect(await checkSponsorFolders(root, 'L3')).toEqual({ ok: false, unsafe: true, reasons: ['L3/rejected is a symbolic link'] });
  });

  it('a missing or non-directory folder is unhealthy but not unsafe', async () => {
    const root = path.join(base, 'plain');
    await ensureSponsorFolders(root, 'L4');
    rmSync(path.join(root, 'L4', 'outbox'), { recursive: true });
    expect(await checkSponsorFolders(root, 'L4')).toEqual({ ok: false, unsafe: false, reasons: ['L4/outbox is missing'] });
  });
});
