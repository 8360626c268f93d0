/**
 * What `watch` tells the operator beyond one line per file: progress while a large file is
 * processed, a WARN line when the allocation ran out, and a folder under the root that is
 * not a registered sponsor, said once.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { ensureSponsorFolders } from '../../src/inbox/layout.ts';
import { storeTest as it } from '../helpers/fixture.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { waitFor } from '../helpers/wait.ts';
import { drop, nextLicence, sponsor, upload, waitProcessed, type InProcessService } from '../helpers/watch.ts';

describe.each(STORE_KINDS)('watch log lines on %s', (kind) => {
  it.override({ kind });
  const lines = (running: InProcessService, pattern: RegExp) => running.logs.filter((l) => pattern.test(l));

  it('logs progress while a large file is processed', async ({ t, root, start }) => {
    const licence = await sponsor(t.store.db, nextLicence('P'), 5000);
    await ensureSponsorFolders(root, licence);
    const running = await start({ progressLogMs: 20 });
    drop(path.join(root, licence, 'inbox'), 'large.xml', upload(licence, 'LARGE', 3000));
    await waitProcessed(root, licence, ['large.xml'], 180_000);
    const progress = lines(running, /INFO\s+processing /);
    expect(progress.length, running.logs.join('')).toBeGreaterThan(0);
    expect(progress[0]).toMatch(new RegExp(`sponsor=${licence} file=large\\.xml done=\\d{1,2}% bytes=\\d+ seconds=\\d+`));
    // The finished line comes after every progress line.
    // The input is moved before the line is written.
    const finished =
      (await waitFor(() => 1 + running.logs.findIndex((l) => /INFO\s+processed /.test(l)), { what: 'the processed line' })) - 1;
    expect(running.logs.indexOf(progress.at(-1)!)).toBeLessThan(finished);
  }, 240_000);

  it('says WARN when the allocation ran out and READY TO GO CAS were left unassigned', async ({ t, root, start }) => {
    const licence = await sponsor(t.store.db, nextLicence('A'), 1);
    await ensureSponsorFolders(root, licence);
    const running = await start();
    drop(path.join(root, licence, 'inbox'), 'three.xml', upload(licence, 'THREE', 3));
    await waitProcessed(root, licence, ['three.xml']);
    await waitFor(() => lines(running, /WARN\s+allocation exhausted/).length === 1, { what: 'the allocation warning' });
    expect(lines(running, /WARN\s+allocation exhausted/)[0]).toMatch(
      new RegExp(`sponsor=${licence} file=three\\.xml submission=\\d+ notAssigned=2`),
    );
    // A file fully assigned says nothing of the kind.
    const other = await sponsor(t.store.db, nextLicence('A'), 10);
    await ensureSponsorFolders(root, other);
    drop(path.join(root, other, 'inbox'), 'fits.xml', upload(other, 'FITS', 2));
    await waitProcessed(root, other, ['fits.xml']);
    expect(lines(running, new RegExp(`allocation exhausted.*sponsor=${other}`))).toEqual([]);
  });

  it('says once that a folder under the root is not a registered sponsor', async ({ root, start }) => {
    mkdirSync(path.join(root, 'QHDGHB9IX'), { recursive: true });
    mkdirSync(path.join(root, '.hidden'), { recursive: true });
    const running = await start();
    await waitFor(() => lines(running, /folder=QHDGHB9IX/).length > 0, { what: 'the stranger folder to be reported' });
    mkdirSync(path.join(root, 'LATER0001'), { recursive: true });
    await running.service.scan();
    await waitFor(() => lines(running, /folder=LATER0001/).length > 0, { what: 'a folder made later to be reported' });
    // Several more refreshes: still said once each; registered sponsors' folders never.
    await running.service.scan();
    await running.service.scan();
    expect(lines(running, /folder=QHDGHB9IX/)).toHaveLength(1);
    expect(lines(running, /folder=LATER0001/)).toHaveLength(1);
    expect(
      lines(running, /WARN\s+a folder under the root is not a registered sponsor/).every((l) => /folder=(QHDGHB9IX|LATER0001)\n?$/.test(l)),
    ).toBe(true);
  });
});
