/**
 * The export (results.md): every CAS the sponsor ever assigned with its current status,
 * status date and graduated flag, ordered by CAS number, valid against schemas/export.xsd;
 * written by `cas-bdt export` into the outbox or --out. Both stores.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expireDue } from '../../src/ops/expire.ts';
import { exportRows } from '../../src/db/export.ts';
import type { ExportRow } from '../../src/domain/export.ts';
import { changeLicenceStatus } from '../../src/ops/licence.ts';
import { useCas } from '../../src/ops/use.ts';
import { withdrawCas } from '../../src/ops/withdraw.ts';
import { renderExport } from '../../src/xml/export-xml.ts';
import { validateXsd } from '../../src/xml/xsd.ts';
import { graduateBytes } from '../helpers/bdt.ts';
import { runCli } from '../helpers/cli.ts';
import { licenceFor, Scenario } from '../helpers/lifecycle.ts';
import { openTestStore, STORE_KINDS, tempDir, type TestStore } from '../helpers/stores.ts';

const parser = new XMLParser({ parseTagValue: false, removeNSPrefix: true, isArray: (name) => name === 'CAS' });
type Parsed = { SponsorLicenceNumber: string; GeneratedAt: string; CAS?: Record<string, string>[] };
const parse = (xml: string) => (parser.parse(xml) as { CASExport: Parsed }).CASExport;
const at = (iso: string) => new Date(iso);

describe('renderExport', () => {
  it('escapes markup, keeps Latin-1 letters, replaces characters XML cannot carry, and stays valid', async () => {
    const row: ExportRow = {
      casNumber: 'E4G1AB2C34D5E6',
      applicantId: 'A&B<1>',
      familyName: 'O\'Brien "Müller" & Ñúñez\u0001',
      courseId: null,
      courseTitle: 'MSc <Data> & Science ]]>',
      courseStartDate: '2027-09-20',
      status: 'ASSIGNED',
      statusDate: '2027-03-01',
      assignedDate: '2027-03-01',
      expiryDate: '2027-09-01',
      graduated: false,
      fees: { course: 2450000, coursePaid: 50, accommodationPaid: null, boardingPaid: 0 },
    };
    const xml = renderExport({ licence: 'QHDGHB91X', generatedAt: at('2027-03-02T10:11:12.345Z'), rows: [row] });
    expect(await validateXsd({ bytes: Buffer.from(xml, 'utf8') }, 'export')).toEqual([]);
    const cas = parse(xml).CAS![0]!;
    expect(cas.ApplicantID).toBe('A&B<1>');
    expect(cas.FamilyName).toBe('O\'Brien "Müller" & Ñúñez\uFFFD');
    expect(cas.CourseCurriculumTitle).toBe('MSc <Data> & Science ]]>');
    expect(cas).not.toHaveProperty('CourseID');
    // Each amount the CAS has, in pounds with two decimals; none for what was never given.
    expect(cas).toMatchObject({ CourseFeesForFirstYearOnly: '24500.00', CourseFeesPaidToDate: '0.50', BoardingFeesPaidToDate: '0.00' });
    expect(cas).not.toHaveProperty('AccommodationFeesPaidToDate');
    expect(xml).toContain('<GeneratedAt>2027-03-02T10:11:12.345Z</GeneratedAt>');
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<CASExport xmlns="urn:cas-bdt:export:1">\n')).toBe(true);
  });

  it('is valid with no CAS at all', async () => {
    const xml = renderExport({ licence: 'QHDGHB91X', generatedAt: new Date(), rows: [] });
    expect(await validateXsd({ bytes: Buffer.from(xml) }, 'export')).toEqual([]);
    expect(parse(xml).CAS).toBeUndefined();
  });
});

describe.each(STORE_KINDS)('export on %s', (kind) => {
  let t: TestStore;
  let s: Scenario;
  let L: string;
  let expected: Record<string, string>[];
  const root = tempDir('cas-bdt-export-');

  beforeAll(async () => {
    t = await openTestStore(kind);
    s = new Scenario(t.store);
    L = await s.sponsor(licenceFor('EXPO'), { routes: ['student', 'child'] });
    const other = await s.sponsor(licenceFor('OTHE'));
    const person = { passport: 'X12345678', nationality: 'IRL' };
    // Expires 2027-06-01, before the others (2027-07-05), so one sweep expires it alone.
    await s.upload(L, 'EX-0', [{ applicantId: 'EXP', passport: 'X0000004', courseId: null, courseTitle: 'Foundation & Access' }], {
      now: at('2026-12-01T09:00:00Z'),
    });
    await s.upload(
      L,
      'EX-1',
      [
        { applicantId: 'ASG', passport: 'X0000001', familyName: 'Müller & <Sons>' },
        { applicantId: 'USE', ...person, courseId: 'MSC-1' },
        { applicantId: 'WDR', passport: 'X0000003' },
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
    await s.process(L, graduateBytes('EX-GRAD', [v.USE!.casNumber!]), 'grad.xml', at('2028-07-01T10:00:00Z'));

    const row = (a: string, status: string, statusDate: string, extra: Record<string, string> = {}) => ({
      CASNumber: v[a]!.casNumber!,
      ApplicantID: a,
      FamilyName: 'Okafor',
      CourseID: 'MSC-DS-27',
      CourseCurriculumTitle: 'MSc Data Science',
      CourseStartDate: '2027-09-20',
      Status: status,
      StatusDate: statusDate,
      AssignedDate: '2027-01-05',
      ExpiryDate: '2027-07-05',
      Graduated: 'false',
      CourseFeesForFirstYearOnly: '24500.00',
      ...extra,
    });
    const exp = row('EXP', 'EXPIRED', '2027-06-02', {
      CourseCurriculumTitle: 'Foundation & Access',
      AssignedDate: '2026-12-01',
      ExpiryDate: '2027-06-01',
    });
    delete (exp as Partial<typeof exp>).CourseID;
    expected = [
      exp,
      row('ASG', 'ASSIGNED', '2027-01-05', { FamilyName: 'Müller & <Sons>' }),
      row('USE', 'USED', '2027-03-01', { CourseID: 'MSC-1', Graduated: 'true' }),
      row('WDR', 'WITHDRAWN', '2027-02-01'),
      row('OBS', 'OBSOLETE', '2027-03-01', { CourseID: 'MSC-2', CourseStartDate: '2027-10-01' }),
      row('CAN', 'CANCELLED', '2027-04-01'),
    ].sort((a, b) => (a.CASNumber < b.CASNumber ? -1 : 1));
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('holds every ever-assigned CAS of the sponsor with its current status, status date and graduated flag, by CAS number', async () => {
    const xml = renderExport({ licence: L, generatedAt: new Date(), rows: await exportRows(s.db, L) });
    expect(await validateXsd({ bytes: Buffer.from(xml) }, 'export')).toEqual([]);
    const doc = parse(xml);
    expect(doc.SponsorLicenceNumber).toBe(L);
    expect(doc.CAS).toEqual(expected);
    // Element order is the contract.
    expect(Object.keys(doc.CAS!.find((c) => c.ApplicantID === 'ASG')!)).toEqual([
      'CASNumber',
      'ApplicantID',
      'FamilyName',
      'CourseID',
      'CourseCurriculumTitle',
      'CourseStartDate',
      'Status',
      'StatusDate',
      'AssignedDate',
      'ExpiryDate',
      'Graduated',
      'CourseFeesForFirstYearOnly',
    ]);
  });

  it('`cas-bdt export` writes it into the outbox or --out, never over an existing file', async () => {
    await t.store.close(); // the in-process CLI opens the embedded store itself
    const args = [...t.cliArgs, '--root', root];
    const r = await runCli([...args, 'export', '--sponsor', L, '--json']);
    expect(r.code).toBe(0);
    const out = r.json<{ file: string; casCount: number; sponsorLicenceNumber: string }>();
    expect(out).toMatchObject({ sponsorLicenceNumber: L, casCount: expected.length });
    expect(path.dirname(out.file)).toBe(path.join(root, L, 'outbox'));
    expect(path.basename(out.file)).toMatch(/^export-\d{8}T\d{6}Z\.xml$/);
    expect(readdirSync(path.join(root, L, 'outbox'))).toEqual([path.basename(out.file)]);
    expect(await validateXsd({ file: out.file }, 'export')).toEqual([]);
    expect(parse(readFileSync(out.file, 'utf8')).CAS).toEqual(expected);

    const target = path.join(root, 'mine.xml');
    writeFileSync(target, 'keep me');
    const refused = await runCli([...args, 'export', '--sponsor', L, '--out', target]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('already exists');
    expect(readFileSync(target, 'utf8')).toBe('keep me');

    const elsewhere = path.join(root, 'sub', 'export.xml');
    const written = await runCli([...args, 'export', '--sponsor', L, '--out', elsewhere]);
    expect(written.code).toBe(0);
    expect(written.stdout).toBe(`Exported ${expected.length} CAS of ${L} to ${elsewhere}.\n`);
    expect(existsSync(elsewhere)).toBe(true);

    expect((await runCli([...args, 'export', '--sponsor', 'ZZZZZZZZ9'])).code).toBe(4);
  });
});
