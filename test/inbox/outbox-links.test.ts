/**
 * `cas-bdt process` (a real process) with an outbox holding links named like its
 * results: one to a FIFO (which hung it), one to /dev/zero (which it read without end).
 * Neither is followed; the results get the next free name. Both stores.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, lstatSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submissions } from '../../src/db/schema.ts';
import { suiteStore } from '../helpers/fixture.ts';
import { STORE_KINDS, tempDir } from '../helpers/stores.ts';
import { ls, spawnCli, upload, type Child } from '../helpers/watch.ts';

describe.each(STORE_KINDS)('process with links in the outbox, on %s', (kind) => {
  const t = suiteStore(kind);
  let dir: string;
  const root = () => path.join(dir, 'bdt');
  const run = async (...args: string[]) => {
    const child: Child = spawnCli([...t.cliArgs, '--root', root(), ...args], { cwd: dir });
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    try {
      return { code: await child.exited, stderr: child.stderr() };
    } finally {
      clearTimeout(timer);
    }
  };

  beforeAll(async () => {
    // The CLI opens the embedded store itself: release this process's handle.
    if (kind === 'pglite') await t.store.close();
    dir = tempDir('cas-bdt-outbox-links-');
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('neither hangs on a FIFO nor reads /dev/zero; results take the next free names', async () => {
    const licence = 'OUTLNK001';
    expect((await run('sponsor', 'add', licence, '--name', 'Links University', '--allocation', '10')).code).toBe(0);
    const outbox = path.join(root(), licence, 'outbox');
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    symlinkSync(fifo, path.join(outbox, 'f.result.xml'));
    symlinkSync('/dev/zero', path.join(outbox, 'g.result.xml'));
    const f = path.join(dir, 'f.xml');
    const g = path.join(dir, 'g.xml');
    writeFileSync(f, upload(licence, 'OUTF'));
    writeFileSync(g, upload(licence, 'OUTG'));
    try {
      const r = await run('process', f, g, '--sponsor', licence, '--json');
      expect(r.code, r.stderr).toBe(0);
    } finally {
      // Release a reader blocked on the FIFO, if any, so nothing is left hanging.
      try {
        closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // No reader.
      }
    }
    const results = ls(outbox);
    expect(results).toHaveLength(4);
    const written = results.filter((n) => !lstatSync(path.join(outbox, n)).isSymbolicLink());
    expect(written).toEqual([expect.stringMatching(/^f\.\d+\.result\.xml$/), expect.stringMatching(/^g\.\d+\.result\.xml$/)]);
    for (const n of written) {
      expect(readFileSync(path.join(outbox, n), 'utf8')).toContain('ACCEPTED');
      expect(lstatSync(path.join(outbox, n)).mode & 0o777).toBe(0o640);
    }
  });

  it('refuses, before storing anything, to write results or exports through an outbox that is a link', async () => {
    const licence = 'OUTLNK002';
    expect((await run('sponsor', 'add', licence, '--name', 'Linked Outbox', '--allocation', '10')).code).toBe(0);
    const outbox = path.join(root(), licence, 'outbox');
    const elsewhere = path.join(dir, 'elsewhere');
    execFileSync('mkdir', [elsewhere]);
    rmSync(outbox, { recursive: true });
    symlinkSync(elsewhere, outbox);
    const f = path.join(dir, 'h.xml');
    writeFileSync(f, upload(licence, 'OUTH'));
    const r = await run('process', f, '--sponsor', licence);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/outbox is a symbolic link/);
    expect(ls(elsewhere)).toEqual([]);
    // Exports (family names) neither.
    const e = await run('export', '--sponsor', licence);
    expect(e.code).toBe(1);
    expect(e.stderr).toMatch(/outbox is a symbolic link/);
    expect(ls(elsewhere)).toEqual([]);
    // Nothing stored (the embedded store is opened here again, the CLI being done with it).
    const store = await t.reopen();
    expect(await store.db.select().from(submissions).where(eq(submissions.sponsorLicenceNumber, licence))).toEqual([]);
  });
});
