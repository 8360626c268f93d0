/**
 * `cas-bdt demo`: runs the whole flow in a temporary store and folder tree, never the
 * configured ones, prints each file's result in words, exits 0; `--keep` leaves a tree
 * and store the other commands can open. (The demo's store is always the embedded one.)
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/stores.ts';

const LICENCE = 'DEMO00001';

/** The temporary folder the demo names on its first line. */
const demoDir = (stdout: string) => /in (\S+) \(your own store/.exec(stdout)?.[1];

describe('cas-bdt demo', () => {
  it(
    'shows the four files and a zip and their results in words, in a tree it removes, leaving the configured store alone',
    { timeout: 180_000 },
    async () => {
      const cwd = tempDir('cas-bdt-demo-cwd-');
      const configured = path.join(cwd, 'configured-store');
      const r = await runCli(['demo'], { cwd, env: { CAS_BDT_DATA: configured, CAS_BDT_ROOT: path.join(cwd, 'configured-root') } });
      expect(r.code, r.stderr).toBe(0);
      const out = r.stdout;
      expect(out).toMatch(/1-good\.xml \(two complete records\): ACCEPTED: 2 CAS assigned/);
      expect(out.match(/created -> assigned E4G[0-9A-Z]{11} \(expires \d{4}-\d{2}-\d{2}\)/g)).toHaveLength(3);
      expect(out).toMatch(/2-warnings\.xml .*: ACCEPTED: 2 saved as work in progress/);
      expect(out).toContain('warning W_SELT_NOT_PROVIDED EvidenceDetails');
      expect(out).toContain('warning W_WORK_PLACEMENT WorkPlacementDetails/WorkPlacementPercentage');
      expect(out).toMatch(/3-one-refused\.xml .*: ACCEPTED: 1 CAS assigned .*; 1 record\(s\) refused/);
      expect(out).toContain(
        'error E_COURSE_DATES CourseDetails/ExpectedCourseEndDate: ExpectedCourseEndDate (2027-06-30) is not after CourseStartDate (2027-09-20)',
      );
      expect(out).toMatch(/4-broken\.xml .*: REFUSED as a whole/);
      expect(out).toContain(
        "CAS[1]/ApplicantData/FamilyName (ApplicantID DEMO-007): FamilyName 'Wałęsa' has characters outside the Home Office set: U+0142 'ł', U+0119 'ę'",
      );
      expect(out).toContain("write it as 'Walesa'");
      expect(out).toContain('CAS[2]/ApplicantData/CountryOfBirth (ApplicantID DEMO-008)');
      // The zip: each of its files a file of its own.
      expect(out).toMatch(/EXP-2027-01-15-093000123\.zip \(.*\): each \.xml file in it is processed as a file of its own/);
      expect(out).toMatch(/\n {2}upload\.xml \(in the zip\): ACCEPTED: 1 ready to go but not assigned/);
      expect(out).toMatch(/\n {2}graduates\.xml \(in the zip\): ACCEPTED: 1 record\(s\) refused/);
      expect(out).toMatch(/\n {2}reports\.xml \(in the zip\): ACCEPTED: 1 record\(s\) refused/);
      expect(out).toMatch(/E_CAS_NOT_FOUND[^\n]*/);
      expect(out).toContain(`Allocation of ${LICENCE}: granted 3, used 3, unused 0.`);
      // The compliance command, run on the demo store after two visa decisions, and what it shows.
      expect(out).toMatch(/decided \(`cas use`, then `cas decide`\): E4G[0-9A-Z]{11} granted, E4G[0-9A-Z]{11} refused\./);
      expect(out).toMatch(/npx cas-bdt --data \S+ --root \S+ compliance --sponsor DEMO00001\n/);
      const shown = out.slice(out.indexOf('compliance --sponsor'), out.indexOf('What it shows:'));
      expect(shown).toMatch(/\n {2}Sponsor DEMO00001, 12 months \d{4}-\d{2}-\d{2} to \d{4}-\d{2}-\d{2}:\n/);
      expect(shown).toMatch(/\n {2}refusal +50\.0% \(1\/2\) +below \d+% +too few\n/);
      expect(shown).toMatch(/\n {2}enrolment +- \(0\/0\) +at least \d+% +too few\n/);
      expect(shown).toContain('\n  Late reports: 0\n');
      expect(shown).toContain('\n  Missing reports (NOT_ENROLLED overdue): 0\n');
      expect(out).toContain("only over 50 cases or more: below that it is 'too few', as here.");
      // Every command it suggests runs as pasted from the repository: with npx.
      expect(out).toContain('`npx cas-bdt demo --keep`');
      const howToGoOn = out.slice(out.indexOf('How to go on'));
      expect(howToGoOn.match(/`cas-bdt /g)).toBeNull();
      expect(howToGoOn.match(/`npx cas-bdt /g)).toHaveLength(5);
      const dir = demoDir(out)!;
      expect(out).toContain(path.join(dir, 'bdt', LICENCE, 'outbox'));
      expect(existsSync(dir)).toBe(false);
      expect(existsSync(configured)).toBe(false);
      expect(existsSync(path.join(cwd, 'configured-root'))).toBe(false);
      rmSync(cwd, { recursive: true, force: true });
    },
  );

  it('--keep leaves the tree and a store the other commands open', { timeout: 180_000 }, async () => {
    const r = await runCli(['demo', '--keep']);
    expect(r.code, r.stderr).toBe(0);
    const dir = demoDir(r.stdout)!;
    try {
      const folder = (f: string) => readdirSync(path.join(dir, 'bdt', LICENCE, f)).sort();
      expect(folder('outbox')).toEqual([
        '1-good.result.xml',
        '2-warnings.result.xml',
        '3-one-refused.result.xml',
        '4-broken.result.xml',
        'EXP-2027-01-15-093000123.result.zip',
      ]);
      // Both files in the zip were accepted: the zip is archived.
      expect(folder('archive')).toHaveLength(4);
      expect(folder('rejected')).toHaveLength(1);
      expect(folder('inbox')).toEqual([]);
      const listed = /npx cas-bdt (--data \S+ --root \S+) cas list/.exec(r.stdout)![1]!.split(' ');
      const cas = await runCli([...listed, 'cas', 'list', '--sponsor', LICENCE, '--json']);
      expect(cas.code, cas.stderr).toBe(0);
      expect(
        cas
          .json<{ status: string }[]>()
          .map((c) => c.status)
          .sort(),
      ).toEqual(['ASSIGNED', 'READY_TO_GO', 'USED', 'USED', 'WORK_IN_PROGRESS', 'WORK_IN_PROGRESS']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
