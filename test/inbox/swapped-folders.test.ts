/**
 * A sponsor folder swapped for a link after the folders were checked (the window Node's
 * lack of openat(2) leaves): reads, result writes and moves that would go through the
 * link are refused or undone, so nothing reaches another sponsor's folders. The swap is
 * made before the call, which is the worst case of the race. Real folders and links.
 */
import { mkdirSync, readdirSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeNewFile } from '../../src/inbox/atomic-write.ts';
import { realSponsorDir } from '../../src/inbox/fd-path.ts';
import { moveNoClobber } from '../../src/inbox/move.ts';
import { readCandidate } from '../../src/inbox/read.ts';
import { tempDir } from '../helpers/stores.ts';

const onLinux = process.platform === 'linux';

describe.skipIf(!onLinux)('folders swapped for links between check and use', () => {
  let root: string;
  let n = 0;
  beforeAll(() => {
    root = tempDir('cas-bdt-swap-');
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  /** Sponsors A and B with their four folders; `swap` replaces A's folder by a link to B's. */
  const tree = (swap: 'inbox' | 'outbox' | 'rejected', to: 'inbox' | 'archive') => {
    n++;
    const a = `A${n}`;
    const b = `B${n}`;
    for (const l of [a, b])
      for (const f of ['inbox', 'outbox', 'archive', 'rejected']) mkdirSync(path.join(root, l, f), { recursive: true });
    rmSync(path.join(root, a, swap), { recursive: true });
    symlinkSync(path.join(root, b, to), path.join(root, a, swap));
    return { a, b, dir: (l: string, f: string) => path.join(root, l, f) };
  };

  it("a read through A's inbox linked to B's archive gives nothing", async () => {
    const { a, b, dir } = tree('inbox', 'archive');
    writeFileSync(path.join(dir(b, 'archive'), 'x.xml'), '<x/>');
    const read = await readCandidate(
      path.join(dir(a, 'inbox'), 'x.xml'),
      'x.xml',
      a,
      1e6,
      new Date(),
      await realSponsorDir(root, a, 'inbox'),
    );
    expect(read).toBeUndefined();
    expect(readdirSync(dir(b, 'archive'))).toEqual(['x.xml']);
  });

  it("a result written through A's outbox linked to B's inbox is removed and the write fails", async () => {
    const { a, b, dir } = tree('outbox', 'inbox');
    await expect(writeNewFile(dir(a, 'outbox'), ['x.result.xml'], '<r/>', await realSponsorDir(root, a, 'outbox'))).rejects.toMatchObject({
      code: 'E_SPONSOR_FOLDERS',
    });
    expect(readdirSync(dir(b, 'inbox'))).toEqual([]);
  });

  it("a move into A's rejected linked to B's inbox is undone: the input stays in A's inbox", async () => {
    const { a, b, dir } = tree('rejected', 'inbox');
    const from = path.join(dir(a, 'inbox'), 'x.xml');
    writeFileSync(from, '<x/>');
    const to = path.join(dir(a, 'rejected'), 'stamp_x.xml');
    const realTo = path.join(await realSponsorDir(root, a, 'rejected'), 'stamp_x.xml');
    await expect(moveNoClobber(from, to, statSync(from), realTo)).rejects.toMatchObject({ code: 'E_SPONSOR_FOLDERS' });
    expect(readdirSync(dir(b, 'inbox'))).toEqual([]);
    expect(readdirSync(dir(a, 'inbox'))).toEqual(['x.xml']);
  });

  it('the same calls go through when the folders are real', async () => {
    n++;
    const a = `A${n}`;
    for (const f of ['inbox', 'outbox', 'rejected']) mkdirSync(path.join(root, a, f), { recursive: true });
    const from = path.join(root, a, 'inbox', 'x.xml');
    writeFileSync(from, '<x/>');
    expect(await readCandidate(from, 'x.xml', a, 1e6, new Date(), await realSponsorDir(root, a, 'inbox'))).toBeDefined();
    expect(await writeNewFile(path.join(root, a, 'outbox'), ['x.result.xml'], '<r/>', await realSponsorDir(root, a, 'outbox'))).toBe(
      path.join(root, a, 'outbox', 'x.result.xml'),
    );
    const to = path.join(root, a, 'rejected', 'stamp_x.xml');
    expect(await moveNoClobber(from, to, statSync(from), path.join(realpathSync(root), a, 'rejected', 'stamp_x.xml'))).toBe('moved');
  });
});
