/**
 * `cas-bdt validate`: the dry run of `process`. Every check and rule runs against the
 * sponsor's current state (allocation, duplicates already stored, amendments, licence),
 * the database is left exactly as it was (every table's rows, the allocation), and the
 * same file then processed for real gets the same verdicts, with CAS numbers. Both stores.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Db } from '../../src/db/client.ts';
import { changeLicenceStatus } from '../../src/ops/licence.ts';
import { rowsOf } from '../../src/db/sql-util.ts';
import type { RecordResult } from '../../src/domain/result.ts';
import { validateXsd } from '../../src/xml/xsd.ts';
import { casXml, uploadBytes } from '../helpers/bdt.ts';
import { runCli } from '../helpers/cli.ts';
import { licenceFor, Scenario } from '../helpers/lifecycle.ts';
import { parseResult } from '../helpers/pipeline.ts';
import { suiteStore } from '../helpers/fixture.ts';
import { STORE_KINDS, tempDir } from '../helpers/stores.ts';

/** Every row of every table (the migrations' too), as a count and a digest per table. */
async function snapshot(db: Db): Promise<Record<string, { rows: number; digest: string }>> {
  const tables = await rowsOf<{ s: string; t: string }>(
    db,
    sql`select table_schema as s, table_name as t from information_schema.tables
        where table_type = 'BASE TABLE' and table_schema in ('public', 'drizzle') order by 1, 2`,
  );
  const out: Record<string, { rows: number; digest: string }> = {};
  for (const { s, t } of tables) {
    const [row] = await rowsOf<{ n: number; d: string }>(
      db,
      sql.raw(`select count(*)::int as n, coalesce(md5(string_agg(x::text, '|' order by x::text)), '') as d from "${s}"."${t}" x`),
    );
    out[`${s}.${t}`] = { rows: row!.n, digest: row!.d };
  }
  return out;
}

interface Report {
  file: string;
  outcome: string;
  submissionId: number | null;
  dryRun?: boolean;
  resultFile: string | null;
  counts: Record<string, number>;
  fileErrors: { code: string; message: string }[];
  records: RecordResult[];
}

/** What a record was judged: outcome, status, issue codes (not the CAS number). */
const verdicts = (records: { '@_index': string; Outcome: string; Status?: string; Issue?: { '@_code': string }[] }[]) =>
  records.map((r) => ({
    index: Number(r['@_index']),
    outcome: r.Outcome,
    status: r.Status,
    codes: (r.Issue ?? []).map((i) => i['@_code']),
  }));

describe.each(STORE_KINDS)('validate on %s', (kind) => {
  const t = suiteStore(kind);
  let L: string;
  const root = tempDir('cas-bdt-validate-');
  const dir = tempDir('cas-bdt-validate-files-');
  let args: string[];
  /** A look at the store between CLI runs (the embedded one is the CLI's while it runs). */
  const look = async <T>(f: (db: Db) => Promise<T>): Promise<T> => {
    const store = kind === 'pglite' ? await t.reopen() : t.store;
    try {
      return await f(store.db);
    } finally {
      if (kind === 'pglite') await store.close();
    }
  };

  beforeAll(async () => {
    const s = new Scenario(t.store);
    // Allocation 4: one used by ASSIGNED below, three left for the file's four READY_TO_GO records.
    L = await s.sponsor(licenceFor('VALI'), { allocation: 4 });
    await s.upload(L, 'EARLIER', [
      { applicantId: 'ASSIGNED', passport: 'V0000001' },
      { applicantId: 'WIP', passport: 'V0000002', evidence: null },
    ]);
    args = [...t.cliArgs, '--root', root];
    writeFileSync(
      path.join(dir, 'mixed.xml'),
      uploadBytes({
        licence: L,
        fileId: 'MIXED-1',
        records: [
          casXml({ applicantId: 'NEW-1', passport: 'V0000011' }),
          casXml({ applicantId: 'ASSIGNED', passport: 'V0000001' }), // E_DUPLICATE_CAS: already assigned
          casXml({ applicantId: 'WIP', passport: 'V0000002' }), // amends the stored WIP CAS, now clean
          casXml({ applicantId: 'NEW-2', passport: 'V0000012', evidence: null }), // a warning: work in progress
          casXml({ applicantId: 'NEW-3', passport: 'V0000013', courseEnd: '2027-01-01' }), // E_COURSE_DATES
          casXml({ applicantId: 'NEW-4', passport: 'V0000014' }),
          casXml({ applicantId: 'NEW-5', passport: 'V0000015' }), // beyond the allocation: W_NO_ALLOCATION
        ],
      }),
    );
    writeFileSync(
      path.join(dir, 'broken.xml'),
      uploadBytes({ licence: L, fileId: 'BROKEN-1', records: [casXml().replace('<Gender>2</Gender>', '')] }),
    );
    if (kind === 'pglite') await t.store.close(); // the in-process CLI opens the embedded store itself
  });

  it('judges every record against the stored state, stores nothing, and the same file then processes for real alike', async () => {
    const before = await look(snapshot);

    const out = path.join(dir, 'out');
    const dry = await runCli([...args, 'validate', path.join(dir, 'mixed.xml'), '--sponsor', L, '--out', out, '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    const [report] = dry.json<Report[]>();
    expect(report).toMatchObject({ outcome: 'ACCEPTED', submissionId: null, dryRun: true });
    expect(report!.counts).toMatchObject({ records: 7, created: 4, amended: 1, rejected: 2, assigned: 3, readyToGo: 1, workInProgress: 1 });
    expect(report!.records.every((r) => r.casNumber === undefined)).toBe(true);
    // The would-be result: valid, with statuses and expiry dates but no CAS number and no payment.
    const wouldBe = readFileSync(report!.resultFile!, 'utf8');
    expect(path.basename(report!.resultFile!)).toBe('mixed.dry-run.result.xml');
    expect(await validateXsd({ bytes: Buffer.from(wouldBe) }, 'result')).toEqual([]);
    const parsedDry = parseResult(wouldBe);
    expect(parsedDry.Payment).toBeUndefined();
    expect(wouldBe).not.toContain('<CASNumber>');
    expect(wouldBe).toContain('<Status>ASSIGNED</Status>');

    const after = await look(snapshot);
    expect(after).toEqual(before);

    const real = await runCli([...args, 'process', path.join(dir, 'mixed.xml'), '--sponsor', L, '--out', path.join(dir, 'real'), '--json']);
    expect(real.code, real.stderr).toBe(0);
    const [processed] = real.json<Report[]>();
    expect(processed!.counts).toEqual(report!.counts);
    const parsedReal = parseResult(readFileSync(processed!.resultFile!, 'utf8'));
    expect(verdicts(parsedReal.Records!.Record)).toEqual(verdicts(parsedDry.Records!.Record));
    expect(verdicts(parsedDry.Records!.Record).map((v) => v.codes)).toEqual([
      [],
      ['E_DUPLICATE_CAS'],
      [],
      ['W_SELT_NOT_PROVIDED'],
      ['E_COURSE_DATES'],
      [],
      ['W_NO_ALLOCATION'],
    ]);
    expect(parsedReal.Records!.Record.filter((r) => r.CASNumber).length).toBe(3);
    expect(parsedReal.Payment?.['@_casCount']).toBe('3');

    // Now the allocation is spent and the file accepted: validating it again says so, and still stores nothing.
    const stored = await look(snapshot);
    const again = await runCli([...args, 'validate', path.join(dir, 'mixed.xml'), '--sponsor', L]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('identical to a file already accepted');
    expect(again.stdout).toContain('Dry run: nothing was stored');
    expect(await look(snapshot)).toEqual(stored);
  });

  it('prints what a refused file and a refused licence would get, with exit 3, and exit 4 for an unknown sponsor', async () => {
    const before = await look(snapshot);
    const broken = await runCli([...args, 'validate', path.join(dir, 'broken.xml'), '--sponsor', L]);
    expect(broken.code).toBe(3);
    expect(broken.stdout).toContain('broken.xml: would be REJECTED');
    expect(broken.stdout).toMatch(/E_SCHEMA at \d+:\d+: /);

    const suspended = await look(async (db) => {
      await changeLicenceStatus(db, L, { status: 'suspended' }, new Date());
      return snapshot(db);
    });
    // A file not yet accepted (an accepted one would be a replay, whatever the licence).
    writeFileSync(
      path.join(dir, 'fresh.xml'),
      uploadBytes({ licence: L, fileId: 'FRESH-1', records: [casXml({ applicantId: 'FRESH', passport: 'V0000021' })] }),
    );
    const refused = await runCli([...args, 'validate', path.join(dir, 'fresh.xml'), '--sponsor', L, '--json']);
    expect(refused.code).toBe(3);
    expect(refused.json<Report[]>()[0]!.fileErrors.map((e) => e.code)).toEqual(['E_LICENCE_NOT_ACTIVE']);
    expect(await look(snapshot)).toEqual(suspended);
    expect(Object.keys(suspended)).toEqual(Object.keys(before));

    expect((await runCli([...args, 'validate', path.join(dir, 'mixed.xml'), '--sponsor', 'ZZZZZZZZ9'])).code).toBe(4);
  });
});
