/**
 * Out-of-range and malformed input on the command line is a usage error (exit 2) before
 * any database is asked: numbers past their bounds, a --db that is not a URL, a CAS number
 * whose check character is wrong, settings past their upper bounds from flags, environment
 * or config file. Control and bidi characters in file names are escaped in CLI output.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliOnStore, runCli } from '../helpers/cli.ts';
import { STORE_KINDS, tempDir } from '../helpers/stores.ts';
import { upload } from '../helpers/watch.ts';

describe('usage errors for out-of-range input (no store needed)', () => {
  const cwd = tempDir('cas-bdt-limits-');
  const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(args, { cwd, env });

  it.each([
    [['sponsor', 'allocate', 'QHDGHB91X', '99999999999'], 'from 1 to 1000000'],
    [['sponsor', 'allocate', 'QHDGHB91X', '0'], 'from 1 to 1000000'],
    [['sponsor', 'add', 'QHDGHB91X', '--name', 'X', '--allocation', '1000001'], 'from 0 to 1000000'],
    [['cas', 'show', '--id', '12345678901234567890'], 'from 1 to 9007199254740991'],
    [['cas', 'delete', '--id', '99999999999999999999'], 'from 1 to 9007199254740991'],
    [['rerun', '123456789012345678901'], 'from 1 to 9007199254740991'],
    [['cas', 'show', 'E4G1AB2C34D5E7'], 'not a valid CAS number'],
    [['cas', 'withdraw', 'E4G1AB2C34D5E7'], 'not a valid CAS number'],
    [['--db', 'notaurl', 'sponsor', 'list'], 'db must be a PostgreSQL URL'],
    [['--concurrency', '10000', 'sponsor', 'list'], 'concurrency must be a whole number from 1 to 64'],
    [['--group-files', '65', 'sponsor', 'list'], 'group-files must be a whole number from 1 to 64'],
    [['--group-files', '0', 'sponsor', 'list'], 'group-files must be a whole number from 1 to 64'],
    [['--scan-interval-ms', '10', 'sponsor', 'list'], 'scan-interval-ms must be a whole number from 500 to 86400000'],
    [['--scan-interval-ms', '86400001', 'sponsor', 'list'], 'from 500 to 86400000'],
    [['--fee', '10000.01', 'sponsor', 'list'], 'fee must be at most 10000.00'],
    [['--fee', '99999999999999999999', 'sponsor', 'list'], 'fee must be an amount in GBP'],
    [['--validity-months', '61', 'sponsor', 'list'], 'from 1 to 60'],
    [['--settle-ms', '3600001', 'sponsor', 'list'], 'from 0 to 3600000'],
    [['--max-file-mb', '4096', 'sponsor', 'list'], 'at most 2048'],
    [['--validate-timeout-s', '3601', 'sponsor', 'list'], 'from 1 to 3600'],
  ])('%j exits 2', async (args, message) => {
    const r = await cli(args);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it.each([
    [{ DATABASE_URL: 'notaurl' }, 'db must be a PostgreSQL URL'],
    [{ CAS_BDT_CONCURRENCY: '65' }, 'from 1 to 64'],
    [{ CAS_BDT_SCAN_INTERVAL_MS: '10' }, 'from 500 to 86400000'],
  ])('environment %j exits 2', async (env, message) => {
    const r = await cli(['sponsor', 'list'], env);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it('a config file past the bounds exits 2', async () => {
    const file = path.join(cwd, 'bad.json');
    writeFileSync(file, JSON.stringify({ validityMonths: 600 }));
    const r = await cli(['--config', file, 'sponsor', 'list']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('validity-months must be a whole number from 1 to 60');
  });

  it('says the ranges in --help', async () => {
    const r = await cli(['--help']);
    const help = r.stdout.replace(/\s+/g, ' ');
    for (const range of ['0.00 to 10000.00', '1 to 60', '0 to 3600000', '500 to 86400000', 'at most 2048', '1 to 64', '1 to 3600'])
      expect(help).toContain(range);
  });
});

describe.skipIf(STORE_KINDS.length === 0)('the bounds on a store, and escaped file names', () => {
  const { t, cwd: dir, root } = cliOnStore(STORE_KINDS[0]!, 'cas-bdt-limits-store-');
  const L = 'LIMITS001';
  const cli = (...args: string[]) => runCli([...args, ...t.cliArgs, '--root', root], { cwd: dir });

  it('accepts the values at the bounds and says "not found" only for a well-formed CAS number', async () => {
    const added = await cli(
      'sponsor',
      'add',
      L,
      '--name',
      'Limits \x1b[2KCollege\u202E',
      '--allocation',
      '1000000',
      '--concurrency',
      '64',
      '--fee',
      '10000.00',
    );
    expect(added.code, added.stderr).toBe(0);
    expect((await cli('sponsor', 'allocate', L, '1000000')).code).toBe(0);
    expect((await cli('cas', 'show', 'E4G1AB2C34D5E6')).code).toBe(4);
    expect((await cli('cas', 'show', '--id', '9007199254740991')).code).toBe(4);
    const list = await cli('sponsor', 'list');
    expect(list.stdout).toContain('Limits \\x1B[2KCollege\\u202E');
    expect(list.stdout).not.toMatch(/[\x1b\u202e]/);
  });

  it('escapes control and bidi characters of file names in what the CLI prints', async () => {
    const name = 'a\x1b[2Kb\u202Elmx.xml';
    const file = path.join(dir, name);
    writeFileSync(file, upload(L, 'LIM1', 1));
    const processed = await cli('process', file, '--sponsor', L);
    expect([0, 3]).toContain(processed.code);
    const submissions = await cli('submissions');
    for (const out of [processed.stdout, processed.stderr, submissions.stdout]) expect(out).not.toMatch(/[\x1b\u202e]/);
    expect(submissions.stdout).toContain('a\\x1B[2Kb\\u202Elmx.xml');
  });
});
