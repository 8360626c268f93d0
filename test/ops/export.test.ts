/**
 * The export (results.md), version 2: every CAS the sponsor ever assigned with the person,
 * the course, the batch, its current status and fees, ordered by CAS number, valid against
 * schemas/export-v2.xsd (in process and by xmllint); round-tripped against what was
 * uploaded and changed since; the sponsor's export schema; --changed-since and --status;
 * written by `cas-bdt export` into the outbox or --out. Both stores.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportRows } from '../../src/db/export.ts';
import type { ExportRow } from '../../src/domain/export.ts';
import { expireDue } from '../../src/ops/expire.ts';
import { setFees } from '../../src/ops/fees.ts';
import { changeLicenceStatus } from '../../src/ops/licence.ts';
import { useCas } from '../../src/ops/use.ts';
import { withdrawCas } from '../../src/ops/withdraw.ts';
import { renderExport } from '../../src/xml/export-xml.ts';
import { graduateBytes } from '../helpers/bdt.ts';
import { runCli } from '../helpers/cli.ts';
import { expectValidExport, parseExport } from '../helpers/export.ts';
import { licenceFor, Scenario } from '../helpers/lifecycle.ts';
import { suiteStore } from '../helpers/fixture.ts';
import { STORE_KINDS, tempDir } from '../helpers/stores.ts';

const at = (iso: string) => new Date(iso);

const ROW: ExportRow = {
  casNumber: 'E4G1AB2C34D5E6',
  applicantId: 'A&B<1>',
  applicationId: null,
  batch: 'B&1',
  familyName: 'O\'Brien "Müller" & Ñúñez\u0001',
  givenName: null,
  dateOfBirth: '2001-04',
  nationality: 'IRL',
  courseId: null,
  courseTitle: 'MSc <Data> & Science ]]>',
  courseStartDate: '2027-09-20',
  expectedCourseEndDate: '2028-06-30',
  status: 'ASSIGNED',
  statusDate: '2027-03-01',
  assignedDate: '2027-03-01',
  expiryDate: '2027-09-01',
  graduated: false,
  fees: { course: 2450000, coursePaid: 50, accommodationPaid: null, boardingPaid: 0 },
};

describe('renderExport', () => {
  it('escapes markup, keeps Latin-1 letters, replaces characters XML cannot carry, and stays valid', async () => {
    const xml = renderExport({ licence: 'QHDGHB91X', schema: '2.1.1', generatedAt: at('2027-03-02T10:11:12.345Z'), rows: [ROW] });
    await expectValidExport(xml);
    const doc = parseExport(xml);
    expect(doc['@schema']).toBe('2.1.1');
    expect(doc).not.toHaveProperty('ChangedSince');
    const cas = doc.CAS![0]!;
    expect(cas.ApplicantID).toBe('A&B<1>');
    expect(cas.BulkUploadFileId).toBe('B&1');
    expect(cas.FamilyName).toBe('O\'Brien "Müller" & Ñúñez\uFFFD');
    expect(cas.CourseCurriculumTitle).toBe('MSc <Data> & Science ]]>');
    expect(cas.DateOfBirth).toBe('2001-04');
    expect(cas.Graduated).toBe('false');
    for (const absent of ['CourseID', 'ApplicationID', 'GivenName', 'AccommodationFeesPaidToDate']) expect(cas).not.toHaveProperty(absent);
    // Each amount the CAS has, in pounds with two decimals; none for what was never given.
    expect(cas).toMatchObject({ CourseFeesForFirstYearOnly: '24500.00', CourseFeesPaidToDate: '0.50', BoardingFeesPaidToDate: '0.00' });
    expect(xml).toContain('<GeneratedAt>2027-03-02T10:11:12.345Z</GeneratedAt>');
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<CASExport xmlns="urn:cas-bdt:export:2" schema="2.1.1">\n')).toBe(true);
  });

  it('in schema 1.1.1 has no Graduated; a delta says ChangedSince; valid with no CAS at all', async () => {
    const legacy = renderExport({
      licence: 'QHDGHB91X',
      schema: '1.1.1',
      generatedAt: at('2027-03-02T10:00:00Z'),
      changedSince: at('2027-03-01T09:00:00Z'),
      rows: [{ ...ROW, graduated: true, givenName: 'Ada', applicationId: 'APP-1' }],
    });
    await expectValidExport(legacy);
    const doc = parseExport(legacy);
    expect(doc['@schema']).toBe('1.1.1');
    expect(doc.ChangedSince).toBe('2027-03-01T09:00:00.000Z');
    expect(doc.CAS![0]).not.toHaveProperty('Graduated');
    expect(doc.CAS![0]).toMatchObject({ GivenName: 'Ada', ApplicationID: 'APP-1' });

    const empty = renderExport({ licence: 'QHDGHB91X', schema: '2.1.1', generatedAt: new Date(), rows: [] });
    await expectValidExport(empty);
    expect(parseExport(empty).CAS).toBeUndefined();
  });
});

describe.each(STORE_KINDS)('export on %s', (kind) => {
  const t = suiteStore(kind);
  let s: Scenario;
  let L: string;
  let expected: Record<string, string>[];
  const root = tempDir('cas-bdt-export-');

  beforeAll(async () => {
    s = new Scenario(t.store);
    L = await s.sponsor(licenceFor('EXPO'), { routes: ['student', 'child'] });
    const other = await s.sponsor(licenceFor('OTHE'));
    const person = { passport: 'X12345678', nationality: 'IRL' };
    // Expires 2027-06-01, before the others (2027-07-05), so one sweep expires it alone.
    await s.upload(
      L,
      'EX-0',
      [
        {
          applicantId: 'EXP',
          passport: 'X0000004',
          courseId: null,
          courseTitle: 'Foundation & Access',
          givenName: null,
          dateOfBirth: '<Year>1999</Year>',
        },
      ],
      { now: at('2026-12-01T09:00:00Z') },
    );
    await s.upload(
      L,
      'EX-1',
      [
        { applicantId: 'ASG', applicationId: 'APP-77/B', passport: 'X0000001', familyName: 'Müller & <Sons>', givenName: 'Zoë' },
        { applicantId: 'USE', ...person, courseId: 'MSC-1', dateOfBirth: '<YearMonth>2000-05</YearMonth>' },
        { applicantId: 'WDR', passport: 'X0000003', courseEnd: '2029-01-31' },
        { applicantId: 'OBS', ...person, courseId: 'MSC-2', courseStart: '2027-10-01' },
      ],
      { now: at('2027-01-05T09:00:00Z') },
    );
    await s.upload(L, 'EX-C', [{ applicantId: 'CAN', passport: 'X0000005' }], { route: 'child', now: at('2027-01-05T09:00:00Z') });
    // Never assigned: absent from the export. Neither is another sponsor's CAS.
    await s.upload(L, 'EX-2', [{ applicantId: 'WIP', passport: 'X0000006', evidence: null }]);
    await s.upload(other, 'OT-1', [{ applicantId: 'OTH', passport: 'X0000007' }]);

    const v = Object.fromEntries(
      await Promise.all(['EXP', 'ASG', 'USE', 'WDR', 'OBS', 'CAN'].map(async (a) => [a, await s.cas(L, a)] as const)),
    );
    await withdrawCas(s.db, { casNumber: v.WDR!.casNumber! }, at('2027-02-01T10:00:00Z'));
    await useCas(s.db, { casNumber: v.USE!.casNumber! }, '2027-02-15', at('2027-03-01T10:00:00Z'));
    await changeLicenceStatus(s.db, L, { status: 'surrendered', route: 'child' }, at('2027-04-01T10:00:00Z'));
    await expireDue(s.db, '2027-06-02', at('2027-06-02T00:30:00Z'));
    expect(
      (await setFees(s.db, v.ASG!.casNumber!, { coursePaid: 700000, accommodationPaid: 12345 }, at('2027-06-10T10:00:00Z'))).kind,
    ).toBe('done');
    await s.process(L, graduateBytes('EX-GRAD', [v.USE!.casNumber!]), 'grad.xml', at('2028-07-01T10:00:00Z'));

    // Everything as uploaded (casXml's defaults) and as changed since, in the contract's order.
    const row = (a: string, batch: string, status: string, statusDate: string, extra: Record<string, string | undefined> = {}) => {
      const r: Record<string, string | undefined> = {
        CASNumber: v[a]!.casNumber!,
        ApplicantID: a,
        ApplicationID: undefined,
        BulkUploadFileId: batch,
        FamilyName: 'Okafor',
        GivenName: 'Ada',
        DateOfBirth: '2001-04-12',
        Nationality: 'NGA',
        CourseID: 'MSC-DS-27',
        CourseCurriculumTitle: 'MSc Data Science',
        CourseStartDate: '2027-09-20',
        ExpectedCourseEndDate: '2028-06-30',
        Status: status,
        StatusDate: statusDate,
        AssignedDate: '2027-01-05',
        ExpiryDate: '2027-07-05',
        Graduated: 'false',
        CourseFeesForFirstYearOnly: '24500.00',
      };
      Object.assign(r, extra);
      return Object.fromEntries(Object.entries(r).filter(([, x]) => x !== undefined)) as Record<string, string>;
    };
    expected = [
      row('EXP', 'EX-0', 'EXPIRED', '2027-06-02', {
        CourseID: undefined,
        GivenName: undefined,
        DateOfBirth: '1999',
        CourseCurriculumTitle: 'Foundation & Access',
        AssignedDate: '2026-12-01',
        ExpiryDate: '2027-06-01',
      }),
      row('ASG', 'EX-1', 'ASSIGNED', '2027-01-05', {
        ApplicationID: 'APP-77/B',
        FamilyName: 'Müller & <Sons>',
        GivenName: 'Zoë',
        CourseFeesPaidToDate: '7000.00',
        AccommodationFeesPaidToDate: '123.45',
      }),
      row('USE', 'EX-1', 'USED', '2027-03-01', { Nationality: 'IRL', DateOfBirth: '2000-05', CourseID: 'MSC-1', Graduated: 'true' }),
      row('WDR', 'EX-1', 'WITHDRAWN', '2027-02-01', { ExpectedCourseEndDate: '2029-01-31' }),
      row('OBS', 'EX-1', 'OBSOLETE', '2027-03-01', { Nationality: 'IRL', CourseID: 'MSC-2', CourseStartDate: '2027-10-01' }),
      row('CAN', 'EX-C', 'CANCELLED', '2027-04-01', { DateOfBirth: '2015-03-01' }),
    ].sort((a, b) => (a.CASNumber! < b.CASNumber! ? -1 : 1));
  });

  it('round-trips every ever-assigned CAS of the sponsor: what was uploaded, and what changed since, by CAS number', async () => {
    const xml = renderExport({ licence: L, schema: '2.1.1', generatedAt: new Date(), rows: await exportRows(s.db, L) });
    await expectValidExport(xml);
    const doc = parseExport(xml);
    expect(doc.SponsorLicenceNumber).toBe(L);
    expect(doc.CAS).toEqual(expected);
    // Element order is the contract.
    const asg = expected.find((c) => c.ApplicantID === 'ASG')!;
    expect(Object.keys(doc.CAS!.find((c) => c.ApplicantID === 'ASG')!)).toEqual(Object.keys(asg));
    expect(Object.keys(asg)).toEqual([
      'CASNumber',
      'ApplicantID',
      'ApplicationID',
      'BulkUploadFileId',
      'FamilyName',
      'GivenName',
      'DateOfBirth',
      'Nationality',
      'CourseID',
      'CourseCurriculumTitle',
      'CourseStartDate',
      'ExpectedCourseEndDate',
      'Status',
      'StatusDate',
      'AssignedDate',
      'ExpiryDate',
      'Graduated',
      'CourseFeesForFirstYearOnly',
      'CourseFeesPaidToDate',
      'AccommodationFeesPaidToDate',
    ]);
  });

  it('narrows to the CAS changed since a time (history or graduation) and to one status', async () => {
    const pick = (rows: ExportRow[]) => rows.map((r) => r.applicantId).sort();
    expect(pick(await exportRows(s.db, L, { changedSince: at('2027-03-01T10:00:00Z') }))).toEqual(['ASG', 'CAN', 'EXP', 'OBS', 'USE']);
    expect(pick(await exportRows(s.db, L, { changedSince: at('2027-06-03T00:00:00Z') }))).toEqual(['ASG', 'USE']);
    // The graduation report alone.
    expect(pick(await exportRows(s.db, L, { changedSince: at('2028-01-01T00:00:00Z') }))).toEqual(['USE']);
    expect(pick(await exportRows(s.db, L, { status: 'OBSOLETE' }))).toEqual(['OBS']);
    expect(pick(await exportRows(s.db, L, { status: 'USED', changedSince: at('2030-01-01T00:00:00Z') }))).toEqual([]);
  });

  it('`cas-bdt export` writes it into the outbox or --out, never over an existing file; --changed-since, --status, the export schema', async () => {
    await t.store.close(); // the in-process CLI opens the embedded store itself
    const args = [...t.cliArgs, '--root', root];
    const r = await runCli([...args, 'export', '--sponsor', L, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = r.json<{ file: string; casCount: number; sponsorLicenceNumber: string; schema: string }>();
    expect(out).toMatchObject({ sponsorLicenceNumber: L, casCount: expected.length, schema: '2.1.1' });
    expect(path.dirname(out.file)).toBe(path.join(root, L, 'outbox'));
    expect(path.basename(out.file)).toMatch(new RegExp(`^CASEXPORT-${L}-\\d{8}T\\d{6}Z\\.xml$`));
    expect(readdirSync(path.join(root, L, 'outbox'))).toEqual([path.basename(out.file)]);
    const written = readFileSync(out.file);
    await expectValidExport(written);
    expect(parseExport(written.toString('utf8')).CAS).toEqual(expected);

    const target = path.join(root, 'mine.xml');
    writeFileSync(target, 'keep me');
    const refused = await runCli([...args, 'export', '--sponsor', L, '--out', target]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('already exists');
    expect(readFileSync(target, 'utf8')).toBe('keep me');

    const elsewhere = path.join(root, 'sub', 'export.xml');
    const w = await runCli([...args, 'export', '--sponsor', L, '--out', elsewhere]);
    expect(w.code).toBe(0);
    expect(w.stdout).toBe(`Exported ${expected.length} CAS of ${L} to ${elsewhere}.\n`);
    expect(existsSync(elsewhere)).toBe(true);

    const delta = path.join(root, 'delta.xml');
    expect(
      (await runCli([...args, 'export', '--sponsor', L, '--changed-since', '2027-06-03', '--status', 'used', '--out', delta])).code,
    ).toBe(0);
    const deltaDoc = parseExport(readFileSync(delta, 'utf8'));
    await expectValidExport(readFileSync(delta));
    expect(deltaDoc.ChangedSince).toBe('2027-06-03T00:00:00.000Z');
    expect(deltaDoc.CAS).toEqual(expected.filter((c) => c.ApplicantID === 'USE'));
    const since = await runCli([
      ...args,
      'export',
      '--sponsor',
      L,
      '--changed-since',
      '2027-06-02T01:30:00+01:00',
      '--json',
      '--out',
      path.join(root, 'd2.xml'),
    ]);
    expect(since.json<{ casCount: number; changedSince: string }>()).toMatchObject({
      casCount: 3,
      changedSince: '2027-06-02T00:30:00.000Z',
    });

    for (const bad of [
      ['--changed-since', 'yesterday'],
      ['--changed-since', '2027-06-02T10:00:00'],
      ['--status', 'READY_TO_GO'],
    ]) {
      const u = await runCli([...args, 'export', '--sponsor', L, ...bad, '--out', path.join(root, 'never.xml')]);
      expect(u.code, bad.join(' ')).toBe(2);
    }
    expect(existsSync(path.join(root, 'never.xml'))).toBe(false);

    // The legacy schema, chosen per sponsor: no Graduated, everything else as before.
    expect((await runCli([...args, 'sponsor', 'set', L, '--export-schema', '3.0'])).code).toBe(2);
    const set = await runCli([...args, 'sponsor', 'set', L, '--export-schema', '1.1.1', '--json']);
    expect(set.code, set.stderr).toBe(0);
    expect(set.json<{ exportSchema: string }>().exportSchema).toBe('1.1.1');
    const legacy = path.join(root, 'legacy.xml');
    expect((await runCli([...args, 'export', '--sponsor', L, '--out', legacy])).code).toBe(0);
    const legacyDoc = parseExport(readFileSync(legacy, 'utf8'));
    await expectValidExport(readFileSync(legacy));
    expect(legacyDoc['@schema']).toBe('1.1.1');
    expect(legacyDoc.CAS).toEqual(expected.map(({ Graduated: _g, ...rest }) => rest));

    expect((await runCli([...args, 'export', '--sponsor', 'ZZZZZZZZ9'])).code).toBe(4);
  });
});
