/**
 * `cas-bdt demo --home-office DIR`: a folder of Home Office example files, which all share
 * one BulkUploadFileId and one ApplicantID, runs with fresh ids so that every example is
 * judged on its own; each outcome is told in words, then the progression rule is shown
 * (the person's CAS used, an example without PreviousUKStudy sent again and warned). The
 * folder is only read. Runs on a generated folder always, and on the Home Office's own
 * examples when ../shared/reference is there.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { casXml, uploadBytes } from '../helpers/bdt.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/stores.ts';

const EXAMPLES = path.resolve(import.meta.dirname, '../../../shared/reference/homeoffice-bdt-v2.1/examples');
const NO_PREVIOUS = '<SELTRequired>false</SELTRequired><ReasonSELTNotRequired>ENG_COUNTRY</ReasonSELTNotRequired>';

describe('cas-bdt demo --home-office', () => {
  it(
    'runs files sharing one file id and ApplicantID with fresh ones, tells each outcome and the progression rule',
    { timeout: 180_000 },
    async () => {
      const cwd = tempDir('cas-bdt-demo-ho-');
      const dir = path.join(cwd, 'examples');
      mkdirSync(dir);
      // As the Home Office's: the same file id, ApplicantID and person in every file.
      const same = { applicantId: '1234567890ABCDEFH', passport: '16836723SDE', nationality: 'AFG' };
      const files: Record<string, Buffer> = {
        '1. SELT required.xml': uploadBytes({ licence: 'QHDGHB91X', fileId: 'oneBasicCAS', records: [casXml(same)] }),
        '2. SELT not required.xml': uploadBytes({
          licence: 'QHDGHB91X',
          fileId: 'oneBasicCAS',
          records: [casXml({ ...same, evidence: NO_PREVIOUS })],
        }),
        '10. Course ends first.xml': uploadBytes({
          licence: 'QHDGHB91X',
          fileId: 'oneBasicCAS',
          records: [casXml({ ...same, courseStart: '2027-09-20', courseEnd: '2027-06-30' })],
        }),
        'notes.txt': Buffer.from('not an example'),
      };
      for (const [name, bytes] of Object.entries(files)) writeFileSync(path.join(dir, name), bytes);

      const r = await runCli(['demo', '--home-office', 'examples'], { cwd });
      expect(r.code, r.stderr).toBe(0);
      const out = r.stdout;
      // In the order of their numbers, each judged on its own: no E_DUPLICATE_FILE_ID, no E_DUPLICATE_CAS.
      const order = ['1. SELT required.xml (', '2. SELT not required.xml (', '10. Course ends first.xml ('].map((s) => out.indexOf(s));
      expect(order.every((i) => i >= 0)).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
      expect(out).toMatch(/1\. SELT required\.xml \(a Home Office example\): ACCEPTED: 1 CAS assigned/);
      expect(out).toMatch(/2\. SELT not required\.xml \(a Home Office example\): ACCEPTED: 1 CAS assigned/);
      expect(out).toMatch(/10\. Course ends first\.xml \(a Home Office example\): ACCEPTED: 1 record\(s\) refused/);
      expect(out).toContain('error E_COURSE_DATES');
      expect(out).not.toContain('notes.txt');
      expect(out).not.toMatch(/E_DUPLICATE/);
      // The progression rule, on the example without PreviousUKStudy.
      expect(out).toMatch(/CAS E4G[0-9A-Z]{11} \(from 2\. SELT not required\.xml\) is now recorded as used/);
      expect(out).toMatch(/the person's 1 other assigned CAS for overlapping courses became OBSOLETE/);
      expect(out).toMatch(
        /again - 2\. SELT not required\.xml \(the same person, now with a used CAS\): ACCEPTED: 1 saved as work in progress/,
      );
      expect(out).toContain('warning W_PROGRESSION_NOT_PROVIDED EvidenceDetails/PreviousUKStudy');
      expect(out).toContain('Allocation of QHDGHB91X: granted 4, used 2, unused 2.');
      // The folder is only read.
      expect(readdirSync(dir).sort()).toEqual(Object.keys(files).sort());
      for (const [name, bytes] of Object.entries(files)) expect(readFileSync(path.join(dir, name)).equals(bytes)).toBe(true);
      rmSync(cwd, { recursive: true, force: true });
    },
  );

  it('refuses a folder without XML files as a usage error', async () => {
    const cwd = tempDir('cas-bdt-demo-ho-empty-');
    const r = await runCli(['demo', '--home-office', cwd], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no .xml files in it');
    const missing = await runCli(['demo', '--home-office', path.join(cwd, 'nope')], { cwd });
    expect(missing.code).toBe(2);
    rmSync(cwd, { recursive: true, force: true });
  });

  it.skipIf(!existsSync(EXAMPLES))(
    "runs the Home Office's own examples: every upload accepted and assigned",
    { timeout: 180_000 },
    async () => {
      const r = await runCli(['demo', '--home-office', EXAMPLES]);
      expect(r.code, r.stderr).toBe(0);
      const uploads = readdirSync(EXAMPLES).filter((f) => f.endsWith('.xml') && !/Graduate/i.test(f));
      expect(uploads.length).toBeGreaterThan(1);
      for (const f of uploads) expect(r.stdout).toContain(`${f} (a Home Office example): ACCEPTED: 1 CAS assigned`);
      expect(r.stdout).toContain('warning W_PROGRESSION_NOT_PROVIDED');
    },
  );
});
