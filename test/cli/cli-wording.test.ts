/**
 * Words a newcomer reads: the sponsor mismatch under `process` speaks of `--sponsor`, not
 * of an inbox; a CAS number with a wrong check character is said to be mistyped, not
 * merely unknown; a missing PostgreSQL database comes with how to create it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { casXml, graduateBytes, uploadBytes } from '../helpers/bdt.ts';
import { cliOnStore, runCli } from '../helpers/cli.ts';
import { parseResult } from '../helpers/pipeline.ts';
import { PG_ADMIN_URL, STORE_KINDS, tempDir } from '../helpers/stores.ts';

describe.each(STORE_KINDS)('wording on %s', (kind) => {
  const on = cliOnStore(kind, 'cas-bdt-wording-');
  const { cli } = on;

  beforeAll(async () => {
    expect((await cli('sponsor', 'add', 'WORDING01', '--name', 'Wording College', '--allocation', '5')).code).toBe(0);
  });

  it("says --sponsor, not inbox, when process is given another sponsor's file", async () => {
    const file = path.join(on.cwd, 'theirs.xml');
    writeFileSync(file, uploadBytes({ licence: 'OTHER0001', fileId: 'THEIRS' }));
    const res = await cli('process', file, '--sponsor', 'WORDING01', '--json');
    expect(res.code).toBe(3);
    const [summary] = res.json<{ fileErrors: { code: string; message: string }[] }[]>();
    expect(summary!.fileErrors).toEqual([
      {
        code: 'E_SPONSOR_MISMATCH',
        message: 'SponsorLicenceNumber OTHER0001 is not the sponsor it was processed for (--sponsor WORDING01)',
      },
    ]);
  });

  it('tells a mistyped check character in a graduate report from an unknown CAS number', async () => {
    const upload = path.join(on.cwd, 'one.xml');
    writeFileSync(upload, uploadBytes({ licence: 'WORDING01', fileId: 'ONE', records: [casXml({ applicantId: 'W-1' })] }));
    expect((await cli('process', upload, '--sponsor', 'WORDING01')).code).toBe(0);
    const [cas] = (await cli('cas', 'list', '--sponsor', 'WORDING01', '--json')).json<{ casNumber: string }[]>();
    const real = cas!.casNumber;
    const last = real[13]!;
    const mistyped = real.slice(0, 13) + (last === '1' ? '2' : '1');
    const report = path.join(on.cwd, 'graduates.xml');
    writeFileSync(report, graduateBytes('GRAD-1', [mistyped]));
    const res = await cli('process', report, '--sponsor', 'WORDING01', '--json');
    // Its only record refused: the file is ACCEPTED, yet nothing came of it (exit 3).
    expect(res.code, res.stderr).toBe(3);
    const [summary] = res.json<{ resultFile: string }[]>();
    const record = parseResult(readFileSync(summary!.resultFile, 'utf8')).Records!.Record[0]!;
    expect(record.Issue![0]!['@_code']).toBe('E_CAS_NOT_FOUND');
    expect(record.Issue![0]!['#text']).toBe(
      `CAS ${mistyped} is not a valid CAS number: its last character (the check character) does not match the others, so it is probably mistyped`,
    );
    // From the command line, the same number is a usage error that says so.
    const shown = await cli('cas', 'show', mistyped);
    expect(shown.code).toBe(2);
    expect(shown.stderr).toContain('check character does not match');
  });
});

describe.skipIf(!STORE_KINDS.includes('postgres'))('a missing PostgreSQL database', () => {
  it('is reported with how to create it, not as a raw 3D000', async () => {
    const u = new URL(PG_ADMIN_URL);
    u.pathname = '/cas_bdt_no_such_database';
    const res = await runCli(['--db', u.toString(), 'sponsor', 'list', '--json'], { cwd: tempDir('cas-bdt-nodb-') });
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(
      `cas-bdt: the PostgreSQL database "cas_bdt_no_such_database" does not exist on ${u.hostname}:${u.port || '5432'}: create it ` +
        `(createdb -h ${u.hostname} -p ${u.port || '5432'}${u.username ? ` -U ${u.username}` : ''} cas_bdt_no_such_database, or CREATE DATABASE "cas_bdt_no_such_database" as a user allowed to), ` +
        'then run the command again; cas-bdt creates its tables itself\n',
    );
    expect(res.json<{ error: { code: string } }>().error.code).toBe('failed');
  });
});

describe('a PostgreSQL server that is down', () => {
  it('is said in words, with the host and port, not as a raw ECONNREFUSED', async () => {
    // Nothing listens on port 1 of the loopback: the connection is refused at once.
    const res = await runCli(['--db', 'postgres://cas@127.0.0.1:1/cas_bdt', 'sponsor', 'list', '--json'], {
      cwd: tempDir('cas-bdt-pgdown-'),
    });
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(
      'cas-bdt: cannot reach the PostgreSQL database at 127.0.0.1:1: connection refused: nothing listens there (ECONNREFUSED). ' +
        'Check that the server is running and listening there, and that --db or DATABASE_URL names it\n',
    );
    expect(res.json<{ error: { code: string } }>().error.code).toBe('failed');
  });
});
