/**
 * What `process` loads: the libraries of other commands (pdfkit for CAS statements,
 * date-holidays for report due dates) stay out of a `process` of an upload that needs
 * neither, since loading them costs a fifth of a second of every run; a sponsor that is
 * owed statements still gets them (the check can fail both ways). And the launcher pins
 * glibc's mmap threshold, which otherwise climbs with the buffers a large file frees and
 * leaves them resident (a fifth of the peak of 50,000 records on the embedded store).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { casXml, uploadBytes } from '../helpers/bdt.ts';
import { suiteDir } from '../helpers/fixture.ts';
import { BIN } from '../helpers/watch.ts';

const L = 'LAZY00001';
const dir = suiteDir('start-cost');
const HOOK = path.join(import.meta.dirname, '../helpers/module-log.mjs');

function cli(args: string[], log?: string) {
  const res = spawnSync(
    process.execPath,
    [...(log ? ['--import', HOOK] : []), BIN, '--data', path.join(dir, 'data'), '--root', path.join(dir, 'bdt'), ...args],
    {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, CAS_BDT_TEST_MODULE_LOG: log ?? '' },
    },
  );
  expect(res.status, res.stderr).toBe(0);
  return res;
}

function loaded(log: string, pkg: string): boolean {
  return readFileSync(log, 'utf8')
    .split('\n')
    .some((url) => url.includes(`/node_modules/${pkg}/`));
}

describe('what process loads', () => {
  it('loads neither pdfkit nor date-holidays for an upload, and pdfkit once statements are owed', () => {
    cli(['sponsor', 'add', L, '--name', 'Lazy', '--allocation', '5']);
    const upload = (n: number) => {
      const file = path.join(dir, `upload-${n}.xml`);
      writeFileSync(
        file,
        uploadBytes({ licence: L, fileId: `LAZY-${n}`, records: [casXml({ applicantId: `LAZY-${n}`, passport: `PL${n}` })] }),
      );
      return file;
    };

    const plain = path.join(dir, 'plain.log');
    writeFileSync(plain, '');
    const first = cli(['process', upload(1), '--sponsor', L], plain);
    expect(first.stdout).toMatch(/ACCEPTED/);
    expect(loaded(plain, 'postgres') || loaded(plain, '@electric-sql/pglite')).toBe(true);
    expect(loaded(plain, 'pdfkit')).toBe(false);
    expect(loaded(plain, 'date-holidays')).toBe(false);

    cli(['sponsor', 'set', L, '--statements']);
    const owed = path.join(dir, 'owed.log');
    writeFileSync(owed, '');
    const second = cli(['process', upload(2), '--sponsor', L], owed);
    expect(second.stderr).toContain(`Wrote 1 CAS statement to the outbox of ${L}.`);
    expect(loaded(owed, 'pdfkit')).toBe(true);
  });

  it('the launcher, run as a command, starts node with a fixed mmap threshold', () => {
    // The environment of the tests themselves may hold the setting: not passed on.
    const { MALLOC_MMAP_THRESHOLD_: _inherited, ...env } = process.env;
    const run = (command: string, args: string[]) => {
      const log = path.join(dir, `env-${args.length}.log`);
      writeFileSync(log, '');
      const res = spawnSync(command, [...args, '--version'], {
        encoding: 'utf8',
        env: {
          ...env,
          PATH: `${path.dirname(process.execPath)}:${process.env.PATH}`,
          NODE_OPTIONS: `--import ${HOOK}`,
          CAS_BDT_TEST_MODULE_LOG: log,
        },
      });
      expect(res.status, res.stderr).toBe(0);
      return readFileSync(log, 'utf8');
    };
    expect(run(BIN, [])).toContain('env MALLOC_MMAP_THRESHOLD_=131072\n');
    // `node bin/cas-bdt.js` does not read the first line: the setting is the launcher's.
    expect(run(process.execPath, [BIN])).not.toContain('MALLOC_MMAP_THRESHOLD_');
  });
});
