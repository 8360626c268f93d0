/**
 * A zip bomb costs time bounded by the limits and no memory: `cas-bdt process` (the built
 * CLI, in a child process) on a zip holding a good upload and three bombs (300 MB of
 * zeros stated honestly, the same stated as 55 MB so that it passes the header checks and
 * is inflated until the stated size is passed, and 1 MB at 1,000x) peaks at most 64 MB
 * above the same command on the good upload alone. Peak RSS is the kernel's, read with
 * GNU time (`%M`).
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { deflateRawSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { casXml, uploadBytes } from '../helpers/bdt.ts';
import { cliOnStore } from '../helpers/cli.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { BIN } from '../helpers/watch.ts';
import { deflatedZeros, rawZip } from '../helpers/zips.ts';

const run = promisify(execFile);

let zeros: Buffer;
beforeAll(async () => {
  zeros = await deflatedZeros(300 * 1024 * 1024);
}, 60_000);

/** Peak RSS in MB and wall time of `cas-bdt ARGS`, and its exit code. */
async function measured(args: string[], cwd: string): Promise<{ peakMb: number; ms: number; code: number; stdout: string }> {
  const started = performance.now();
  const got = await run('/usr/bin/time', ['-f', 'PEAK_KB=%M', process.execPath, BIN, ...args], { cwd, maxBuffer: 1 << 24 }).catch(
    (err: { code: number; stdout: string; stderr: string }) => ({ ...err, failed: err.code }),
  );
  const ms = performance.now() - started;
  const kb = /PEAK_KB=(\d+)/.exec(got.stderr)?.[1];
  if (!kb) throw new Error(`no peak RSS in: ${got.stderr}`);
  return { peakMb: Number(kb) / 1024, ms, code: 'failed' in got ? got.failed : 0, stdout: got.stdout };
}

describe.each(STORE_KINDS)('a zip bomb and memory on %s', (kind) => {
  const on = cliOnStore(kind, 'cas-bdt-zipmem-');

  it('raises peak RSS by less than 64 MB and is refused in seconds', async () => {
    const licence = 'ZIPMM0001';
    expect((await on.cli('sponsor', 'add', licence, '--name', 'Bomb College', '--allocation', '100')).code).toBe(0);
    const good = (n: number) =>
      uploadBytes({ licence, fileId: `MEM-${n}`, records: [casXml({ applicantId: `M-${n}`, passport: `MEM${n}` })] });
    const oneMb = Buffer.alloc(1 << 20);
    writeFileSync(path.join(on.cwd, 'plain.zip'), rawZip([{ name: 'good.xml', data: good(1) }]));
    writeFileSync(
      path.join(on.cwd, 'bomb.zip'),
      rawZip([
        { name: 'good.xml', data: good(2) },
        { name: 'honest.xml', data: Buffer.alloc(0), compressed: zeros, statedSize: 300 * 1024 * 1024, crc: 0 },
        { name: 'understated.xml', data: Buffer.alloc(0), compressed: zeros, statedSize: 55 * 1024 * 1024, crc: 0 },
        { name: 'ratio.xml', data: oneMb, compressed: deflateRawSync(oneMb, { level: 9 }) },
      ]),
    );
    const args = (zip: string) => [
      ...on.t.cliArgs,
      '--root',
      on.root,
      'process',
      zip,
      '--sponsor',
      licence,
      '--out',
      path.join(on.cwd, 'out'),
    ];
    const plain = await measured(args('plain.zip'), on.cwd);
    const bomb = await measured(args('bomb.zip'), on.cwd);
    expect(plain.code).toBe(0);
    expect(bomb.code).toBe(3);
    expect(bomb.stdout).toMatch(/understated\.xml: REFUSED E_ZIP_ENTRY: the entry inflates to another size/);
    expect(bomb.stdout).toMatch(/honest\.xml: REFUSED E_ZIP_ENTRY: the entry expands to 300\.0 MB/);
    expect(bomb.stdout).toMatch(/ratio\.xml: REFUSED E_ZIP_ENTRY: the entry expands to more than 200 times/);
    console.log(
      `zip bomb on ${kind}: peak RSS ${bomb.peakMb.toFixed(0)} MB (plain zip ${plain.peakMb.toFixed(0)} MB), ${Math.round(bomb.ms)} ms (plain ${Math.round(plain.ms)} ms)`,
    );
    expect(bomb.peakMb - plain.peakMb).toBeLessThan(64);
    expect(bomb.ms - plain.ms).toBeLessThan(15_000);
  }, 120_000);
});
