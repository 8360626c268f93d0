/**
 * `process` reads, decodes and scans its first file while the store opens: what it says
 * of a command that fails stays as it was. The sponsor is judged before any file, a
 * first file that cannot be read is told in its turn, and one read ahead is processed
 * like the others.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { casXml, uploadBytes } from '../helpers/bdt.ts';
import { cliOnStore } from '../helpers/cli.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

describe.each(STORE_KINDS)('process: the first file read while the store opens, on %s', (kind) => {
  const on = cliOnStore(kind, 'cas-bdt-first-file-');
  const { cli } = on;
  const L = 'FIRSTF001';
  const outbox = () => path.join(on.root, L, 'outbox');
  const upload = (name: string, fileId: string, applicantId: string) => {
    const file = path.join(on.cwd, name);
    writeFileSync(file, uploadBytes({ licence: L, fileId, records: [casXml({ applicantId })] }));
    return file;
  };

  beforeAll(async () => {
    expect((await cli('sponsor', 'add', L, '--name', 'First File College', '--allocation', '10')).code).toBe(0);
  });

  it('refuses an unknown sponsor before any file, and stores nothing of the file read ahead', async () => {
    const file = upload('unknown-sponsor.xml', 'FIRSTUNK', 'U-1');
    const res = await cli('process', file, '--sponsor', 'NOSUCH001');
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('sponsor NOSUCH001');
    expect(res.stdout).toBe('');
    expect((await cli('submissions', '--sponsor', L, '--json')).stdout).not.toContain('FIRSTUNK');
  });

  it('says the sponsor is unknown rather than that the first file is missing', async () => {
    const res = await cli('process', path.join(on.cwd, 'not-there.xml'), '--sponsor', 'NOSUCH001');
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('sponsor NOSUCH001');
    expect(res.stderr).not.toContain('cannot read');
  });

  it('tells a first file that cannot be read, and processes none after it', async () => {
    const later = upload('after-missing.xml', 'FIRSTAFT', 'A-1');
    const res = await cli('process', path.join(on.cwd, 'missing.xml'), later, '--sponsor', L);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/cannot read \S*missing\.xml: /);
    expect(res.stderr).toContain('ENOENT');
    expect(existsSync(outbox()) ? readdirSync(outbox()).filter((n) => n.startsWith('after-missing')) : []).toEqual([]);
  });

  it('tells a first file that is a FIFO, without waiting on it', async () => {
    const fifo = path.join(on.cwd, 'first.fifo');
    execFileSync('mkfifo', [fifo]);
    const res = await cli('process', fifo, '--sponsor', L);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/cannot read \S*first\.fifo: .*not a regular file/);
  });

  it('processes the first file, read ahead, like the ones after it', async () => {
    const first = upload('ahead-1.xml', 'FIRSTOK1', 'F-1');
    const second = upload('ahead-2.xml', 'FIRSTOK2', 'F-2');
    const res = await cli('process', first, second, '--sponsor', L, '--json');
    expect(res.code, res.stderr).toBe(0);
    const summaries = JSON.parse(res.stdout) as { outcome: string; counts: { created: number }; fileId?: string }[];
    expect(summaries.map((s) => [s.outcome, s.counts.created])).toEqual([
      ['ACCEPTED', 1],
      ['ACCEPTED', 1],
    ]);
    expect(
      readdirSync(outbox())
        .filter((n) => n.startsWith('ahead-'))
        .sort(),
    ).toEqual(['ahead-1.result.xml', 'ahead-2.result.xml']);
    // Again: a replay of each, the first read ahead as before.
    const again = await cli('process', first, second, '--sponsor', L, '--json');
    expect(again.code, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as { replay?: boolean }[]).map((s) => s.replay)).toEqual([true, true]);
  });
});
