/**
 * Moving a processed input (spec section 3): never replacing a file in archive/ or
 * rejected/, never moving a file other than the one processed, never deleting an input,
 * and completing a move interrupted between its two steps. Real folders and files.
 */
import {
  linkSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asideName, completeMove, moveByCopy, moveNoClobber } from '../../src/inbox/move.ts';
import { tempDir } from '../helpers/stores.ts';
import { canMountTinyFs, mountTinyFs, unmountTinyFs } from '../helpers/tiny-fs.ts';

describe('moveNoClobber', () => {
  let base: string;
  let n = 0;
  beforeAll(() => {
    base = tempDir('cas-bdt-move-');
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  /** A fresh inbox and archive. */
  const folders = () => {
    const d = path.join(base, String(++n));
    mkdirSync(path.join(d, 'inbox'), { recursive: true });
    mkdirSync(path.join(d, 'archive'));
    return { inbox: path.join(d, 'inbox'), archive: path.join(d, 'archive') };
  };
  const ls = (dir: string) => readdirSync(dir).sort();

  it('two moves to the same name at once: one wins, the other is refused, nothing is lost', async () => {
    const { inbox, archive } = folders();
    writeFileSync(path.join(inbox, 'a.xml'), 'A');
    writeFileSync(path.join(inbox, 'b.xml'), 'B');
    const to = path.join(archive, 'stamp_x.xml');
    const results = await Promise.allSettled([moveNoClobber(path.join(inbox, 'a.xml'), to), moveNoClobber(path.join(inbox, 'b.xml'), to)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: 'EEXIST' } });
    // Both contents still exist somewhere: one archived, the other still in the inbox.
    const contents = [...ls(inbox).map((f) => readFileSync(path.join(inbox, f), 'utf8')), readFileSync(to, 'utf8')].sort();
    expect(contents).toEqual(['A', 'B']);
  });

  it('an existing destination is never replaced', async () => {
    const { inbox, archive } = folders();
    writeFileSync(path.join(inbox, 'a.xml'), 'new');
    writeFileSync(path.join(archive, 'stamp_a.xml'), 'old');
    await expect(moveNoClobber(path.join(inbox, 'a.xml'), path.join(archive, 'stamp_a.xml'))).rejects.toMatchObject({ code: 'EEXIST' });
    expect(readFileSync(path.join(archive, 'stamp_a.xml'), 'utf8')).toBe('old');
    expect(readFileSync(path.join(inbox, 'a.xml'), 'utf8')).toBe('new');
  });

  it('a file swapped in after it was processed is left in the inbox, not archived', async () => {
    const { inbox, archive } = folders();
    const file = path.join(inbox, 'a.xml');
    writeFileSync(file, 'processed');
    const processed = statSync(file);
    // The sponsor replaces it under the same name before the move.
    writeFileSync(path.join(inbox, '.a.upload'), 'replacement');
    renameSync(path.join(inbox, '.a.upload'), file);
    expect(await moveNoClobber(file, path.join(archive, 'stamp_a.xml'), processed)).toBe('changed');
    expect(ls(archive)).toEqual([]);
    expect(ls(inbox)).toEqual(['a.xml']);
    expect(readFileSync(file, 'utf8')).toBe('replacement');
  });

  it('a file rewritten in place after it was processed (a new upload under the same name) is left in the inbox, not archived', async () => {
    const { inbox, archive } = folders();
    const file = path.join(inbox, 'a.xml');
    writeFileSync(file, 'processed');
    const processed = statSync(file);
    // An SFTP put of the same name opens the file with O_TRUNC: the same inode, new bytes.
    writeFileSync(file, 'the second upload');
    expect(statSync(file).ino).toBe(processed.ino);
    expect(await moveNoClobber(file, path.join(archive, 'stamp_a.xml'), processed)).toBe('changed');
    expect(ls(archive)).toEqual([]);
    expect(ls(inbox)).toEqual(['a.xml']);
    expect(readFileSync(file, 'utf8')).toBe('the second upload');
  });

  it('a symbolic link at the inbox name is not moved, nor what it points at', async () => {
    const { inbox, archive } = folders();
    const target = path.join(base, `target-${n}`);
    writeFileSync(target, 'elsewhere');
    symlinkSync(target, path.join(inbox, 'a.xml'));
    expect(await moveNoClobber(path.join(inbox, 'a.xml'), path.join(archive, 'stamp_a.xml'))).toBe('changed');
    expect(ls(archive)).toEqual([]);
    expect(lstatSync(path.join(inbox, 'a.xml')).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe('elsewhere');
  });

  it('moves the processed file, leaves no helper names, and archives it 0640', async () => {
    const { inbox, archive } = folders();
    const file = path.join(inbox, 'a.xml');
    writeFileSync(file, 'content', { mode: 0o666 });
    const st = statSync(file);
    expect(await moveNoClobber(file, path.join(archive, 'stamp_a.xml'), st)).toBe('moved');
    expect(ls(inbox)).toEqual([]);
    expect(ls(archive)).toEqual(['stamp_a.xml']);
    const archived = statSync(path.join(archive, 'stamp_a.xml'));
    expect(archived.ino).toBe(st.ino);
    expect(archived.mode & 0o777).toBe(0o640);
  });

  it('a move interrupted after the link is completed; a new drop of the same name is kept', async () => {
    const { inbox, archive } = folders();
    const file = path.join(inbox, 'a.xml');
    writeFileSync(file, 'content');
    linkSync(file, path.join(archive, 'stamp_a.xml'));
    await completeMove(file, path.join(archive, 'stamp_a.xml'));
    expect(ls(inbox)).toEqual([]);
    expect(readFileSync(path.join(archive, 'stamp_a.xml'), 'utf8')).toBe('content');

    writeFileSync(file, 'new drop');
    await completeMove(file, path.join(archive, 'stamp_a.xml'));
    expect(readFileSync(file, 'utf8')).toBe('new drop');
  });

  it('a move interrupted while its inbox name was taken aside leaves no hidden file behind', async () => {
    const { inbox, archive } = folders();
    const file = path.join(inbox, 'a.xml');
    const to = path.join(archive, 'stamp_a.xml');
    writeFileSync(file, 'content');
    linkSync(file, to);
    // The crash came between the rename aside and its unlink.
    renameSync(file, asideName(file, to));
    await completeMove(file, to);
    expect(ls(inbox)).toEqual([]);
    expect(readFileSync(to, 'utf8')).toBe('content');
  });

  it('after a move by copy, the copy left aside is removed only when it holds the same bytes', async () => {
    const { inbox, archive } = folders();
    const file = path.join(inbox, 'a.xml');
    const to = path.join(archive, 'stamp_a.xml');
    writeFileSync(to, 'content');
    writeFileSync(asideName(file, to), 'content');
    await completeMove(file, to);
    expect(ls(inbox)).toEqual([]);

    // A different file taken aside (swapped in during the move) goes back under its name.
    writeFileSync(asideName(file, to), 'swapped in');
    await completeMove(file, to);
    expect(ls(inbox)).toEqual(['a.xml']);
    expect(readFileSync(file, 'utf8')).toBe('swapped in');
  });
});

describe('moveByCopy (file systems without hard links)', () => {
  let base: string;
  let n = 0;
  beforeAll(() => {
    base = tempDir('cas-bdt-copy-');
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));
  const folders = () => {
    const d = path.join(base, String(++n));
    mkdirSync(path.join(d, 'inbox'), { recursive: true });
    mkdirSync(path.join(d, 'archive'));
    return { inbox: path.join(d, 'inbox'), archive: path.join(d, 'archive') };
  };

  it('copies the processed file to a new 0640 file and removes only its inbox name', async () => {
    const { inbox, archive } = folders();
    const from = path.join(inbox, 'a.xml');
    writeFileSync(from, 'content', { mode: 0o644 });
    expect(await moveByCopy(from, path.join(archive, 'stamp_a.xml'), statSync(from), undefined)).toBe('moved');
    expect(readdirSync(inbox)).toEqual([]);
    expect(readFileSync(path.join(archive, 'stamp_a.xml'), 'utf8')).toBe('content');
    expect(statSync(path.join(archive, 'stamp_a.xml')).mode & 0o777).toBe(0o640);
  });

  it('never replaces a taken name, and leaves a swapped file in the inbox', async () => {
    const { inbox, archive } = folders();
    const from = path.join(inbox, 'a.xml');
    writeFileSync(from, 'new');
    writeFileSync(path.join(archive, 'stamp_a.xml'), 'old');
    await expect(moveByCopy(from, path.join(archive, 'stamp_a.xml'), statSync(from), undefined)).rejects.toMatchObject({ code: 'EEXIST' });
    expect(readFileSync(path.join(archive, 'stamp_a.xml'), 'utf8')).toBe('old');
    const processed = statSync(from);
    writeFileSync(path.join(inbox, '.up'), 'replacement');
    renameSync(path.join(inbox, '.up'), from);
    expect(await moveByCopy(from, path.join(archive, 'stamp_b.xml'), processed, undefined)).toBe('changed');
    expect(readdirSync(archive)).toEqual(['stamp_a.xml']);
    expect(readFileSync(from, 'utf8')).toBe('replacement');
  });

  it('does not copy a file rewritten in place since it was processed', async () => {
    const { inbox, archive } = folders();
    const from = path.join(inbox, 'a.xml');
    writeFileSync(from, 'processed');
    const processed = statSync(from);
    writeFileSync(from, 'the second upload');
    expect(await moveByCopy(from, path.join(archive, 'stamp_a.xml'), processed, undefined)).toBe('changed');
    expect(readdirSync(archive)).toEqual([]);
    expect(readFileSync(from, 'utf8')).toBe('the second upload');
  });

  it.skipIf(!canMountTinyFs)(
    'moveNoClobber falls back to the copy where link(2) cannot be used (EXDEV: archive on another mount)',
    async () => {
      const { inbox } = folders();
      const archive = mountTinyFs(1024)!;
      try {
        const from = path.join(inbox, 'a.xml');
        writeFileSync(from, 'content');
        expect(await moveNoClobber(from, path.join(archive, 'stamp_a.xml'), statSync(from))).toBe('moved');
        expect(readdirSync(inbox)).toEqual([]);
        expect(readFileSync(path.join(archive, 'stamp_a.xml'), 'utf8')).toBe('content');
        writeFileSync(from, 'second');
        await expect(moveNoClobber(from, path.join(archive, 'stamp_a.xml'), statSync(from))).rejects.toMatchObject({ code: 'EEXIST' });
        expect(readFileSync(path.join(archive, 'stamp_a.xml'), 'utf8')).toBe('content');
        expect(readdirSync(inbox)).toEqual(['a.xml']);
      } finally {
        unmountTinyFs(archive);
      }
    },
  );

  it.skipIf(!canMountTinyFs)('a copy that fails (disk full) leaves no partial archive file and the input in place', async () => {
    const { inbox } = folders();
    const full = mountTinyFs(64)!;
    try {
      const from = path.join(inbox, 'a.xml');
      writeFileSync(from, Buffer.alloc(256 * 1024, 0x41));
      await expect(moveByCopy(from, path.join(full, 'stamp_a.xml'), statSync(from), undefined)).rejects.toMatchObject({ code: 'ENOSPC' });
      expect(readdirSync(full)).toEqual([]);
      expect(readdirSync(inbox)).toEqual(['a.xml']);
    } finally {
      unmountTinyFs(full);
    }
  });
});
