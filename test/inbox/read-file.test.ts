/**
 * Reading a received file: exactly the size that was checked against the limit, never
 * more, even when the file grows between the stat and the read. Real files.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readFromHandle } from '../../src/inbox/read-file.ts';
import { suiteDir } from '../helpers/fixture.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const received = { fileName: 'f.xml', sponsorLicenceNumber: 'QHDGHB91X', receivedAt: new Date() };

describe('readFromHandle', () => {
  const dir = suiteDir('cas-bdt-read-');

  it('a file that grows past the limit after its stat is read up to the stat size only', async () => {
    const file = path.join(dir, 'grows.xml');
    const first = Buffer.alloc(1000, 0x61);
    writeFileSync(file, first);
    const h = await open(file, 'r');
    try {
      const st = await h.stat();
      appendFileSync(file, Buffer.alloc(5000, 0x62));
      const r = await readFromHandle(h, st, received, 2000);
      expect(r.size).toBe(1000);
      expect(r.bytes).toHaveLength(1000);
      expect(r.bytes!.equals(first)).toBe(true);
      expect(r.sha256).toBe(sha(first));
    } finally {
      await h.close();
    }
  });

  it('a file over the limit is fingerprinted over its stat size only', async () => {
    const file = path.join(dir, 'large.xml');
    const first = Buffer.alloc(3000, 0x61);
    writeFileSync(file, first);
    const h = await open(file, 'r');
    try {
      const st = await h.stat();
      appendFileSync(file, Buffer.alloc(3000, 0x62));
      const r = await readFromHandle(h, st, received, 2000);
      expect(r.bytes).toBeUndefined();
      expect(r.size).toBe(3000);
      expect(r.sha256).toBe(sha(first));
    } finally {
      await h.close();
    }
  });

  it('an empty file is read as empty', async () => {
    const file = path.join(dir, 'empty.xml');
    writeFileSync(file, '');
    const h = await open(file, 'r');
    try {
      const r = await readFromHandle(h, await h.stat(), received, 2000);
      expect(r.size).toBe(0);
      expect(r.sha256).toBe(sha(Buffer.alloc(0)));
    } finally {
      await h.close();
    }
  });
});
