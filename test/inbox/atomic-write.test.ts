/**
 * Result and export writes (spec section 3): never overwrite, never follow a link or
 * block on what a link points at, leave no temporary file behind when a write fails,
 * and work without hard links. Real folders, links, FIFOs, and a real full file system
 * (a tiny tmpfs, when this process may mount one).
 */
import { execFileSync } from 'node:child_process';
import {
  lstatSync,
  mkdirSync,
  openSync,
  closeSync,
  constants,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { writeExclusive, writeNewFile } from '../../src/inbox/atomic-write.ts';
import { suiteDir } from '../helpers/fixture.ts';
import { tempDir } from '../helpers/stores.ts';
import { canMountTinyFs, mountTinyFs, unmountTinyFs } from '../helpers/tiny-fs.ts';

/** Resolves with the promise's value, or rejects when it takes longer than `ms`. */
function within<T>(ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`still running after ${ms} ms`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

const canMount = canMountTinyFs;
const tinyFs = (kb: number) => mountTinyFs(kb);
const unmount = unmountTinyFs;

describe('writeNewFile', () => {
  let dir: string;
  let fifos: string[] = [];
  beforeAll(() => {
    dir = tempDir('cas-bdt-write-');
  });
  afterEach(() => {
    // A reader blocked on a FIFO would keep the test process alive: give it an end of file.
    for (const f of fifos) {
      try {
        closeSync(openSync(f, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // No reader: nothing to release.
      }
    }
    fifos = [];
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const fresh = (name: string) => {
    const d = path.join(dir, name);
    mkdirSync(d);
    return d;
  };

  it('a link named like the result, pointing at a FIFO, is neither followed nor waited on', async () => {
    const out = fresh('fifo');
    const fifo = path.join(dir, 'a-fifo');
    execFileSync('mkfifo', [fifo]);
    fifos.push(fifo);
    symlinkSync(fifo, path.join(out, 'n.result.xml'));
    const written = await within(10_000, writeNewFile(out, ['n.result.xml', 'n.7.result.xml'], '<r/>'));
    expect(written).toBe(path.join(out, 'n.7.result.xml'));
    expect(readFileSync(written, 'utf8')).toBe('<r/>');
    expect(lstatSync(path.join(out, 'n.result.xml')).isSymbolicLink()).toBe(true);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  it('a link pointing at /dev/zero is not read', async () => {
    const out = fresh('zero');
    symlinkSync('/dev/zero', path.join(out, 'n.result.xml'));
    const written = await within(5_000, writeNewFile(out, ['n.result.xml', 'n.8.result.xml'], Buffer.alloc(4096)));
    expect(written).toBe(path.join(out, 'n.8.result.xml'));
  });

  it('a FIFO itself named like the result is skipped without blocking', async () => {
    const out = fresh('fifo-direct');
    execFileSync('mkfifo', [path.join(out, 'n.result.xml')]);
    fifos.push(path.join(out, 'n.result.xml'));
    expect(await within(10_000, writeNewFile(out, ['n.result.xml', 'n.9.result.xml'], '<r/>'))).toBe(path.join(out, 'n.9.result.xml'));
  });

  it('never replaces a file; a complete earlier write of the same content is adopted; files are 0640 in 0750 folders', async () => {
    const out = path.join(dir, 'modes', 'outbox');
    const first = await writeNewFile(out, ['n.result.xml', 'n.1.result.xml'], '<same/>');
    expect(first).toBe(path.join(out, 'n.result.xml'));
    expect(await writeNewFile(out, ['n.result.xml', 'n.1.result.xml'], '<same/>')).toBe(first);
    expect(await writeNewFile(out, ['n.result.xml', 'n.1.result.xml'], '<other/>')).toBe(path.join(out, 'n.1.result.xml'));
    expect(readFileSync(first, 'utf8')).toBe('<same/>');
    expect(statSync(first).mode & 0o777).toBe(0o640);
    expect(statSync(out).mode & 0o777).toBe(0o750);
    expect(readdirSync(out).sort()).toEqual(['n.1.result.xml', 'n.result.xml']);
  });

  it('writes a large text in pieces byte for byte (a pair of surrogates across a piece boundary included), and adopts it whole only', async () => {
    const out = path.join(dir, 'large', 'outbox');
    // Characters before and after the 2^20-character piece boundary: a surrogate pair straddles it, then a Latin-1 and an ASCII tail.
    const text = 'x'.repeat((1 << 20) - 1) + '\u{1F600}' + 'é'.repeat(300_000) + '<end/>\n'.repeat(200_000);
    const written = await writeNewFile(out, ['big.result.xml', 'big.1.result.xml'], text);
    expect(readFileSync(written).equals(Buffer.from(text, 'utf8'))).toBe(true);
    expect(await writeNewFile(out, ['big.result.xml', 'big.1.result.xml'], text)).toBe(written);
    // The same length but a different last piece is not the same content.
    const other = text.slice(0, -7) + '<END/>\n';
    expect(await writeNewFile(out, ['big.result.xml', 'big.1.result.xml'], other)).toBe(path.join(out, 'big.1.result.xml'));
  });

  it.skipIf(!canMount)('a write that fails (disk full) leaves no temporary file, however often it is retried', async () => {
    const fs = tinyFs(64)!;
    try {
      const big = Buffer.alloc(256 * 1024, 0x41);
      for (let i = 0; i < 3; i++) await expect(writeNewFile(fs, ['n.result.xml'], big)).rejects.toMatchObject({ code: 'ENOSPC' });
      expect(readdirSync(fs)).toEqual([]);
      // A small write still fits: the space was given back.
      expect(await writeNewFile(fs, ['n.result.xml'], '<r/>')).toBe(path.join(fs, 'n.result.xml'));
    } finally {
      unmount(fs);
    }
  });
});

describe('writeExclusive (file systems without hard links)', () => {
  const dir = suiteDir('cas-bdt-excl-');

  it('skips taken names, links included (even dangling ones), and never writes through them', async () => {
    const target = path.join(dir, 'target');
    symlinkSync(target, path.join(dir, 'n.result.xml'));
    writeFileSync(path.join(dir, 'n.1.result.xml'), 'theirs');
    const written = await writeExclusive(dir, ['n.result.xml', 'n.1.result.xml', 'n.2.result.xml'], Buffer.from('<r/>'));
    expect(written).toBe(path.join(dir, 'n.2.result.xml'));
    expect(readFileSync(written, 'utf8')).toBe('<r/>');
    expect(statSync(written).mode & 0o777).toBe(0o640);
    expect(readFileSync(path.join(dir, 'n.1.result.xml'), 'utf8')).toBe('theirs');
    expect(() => lstatSync(target)).toThrow();
  });

  it.skipIf(!canMount)('a write that fails leaves no partially written final name', async () => {
    const fs = tinyFs(64)!;
    try {
      await expect(writeExclusive(fs, ['n.result.xml'], Buffer.alloc(256 * 1024, 0x41))).rejects.toMatchObject({ code: 'ENOSPC' });
      expect(readdirSync(fs)).toEqual([]);
    } finally {
      unmount(fs);
    }
  });
});
