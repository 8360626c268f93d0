/**
 * What `process` and `validate` say of a file that is not clean: one whose every record
 * was refused is not told (nor exited) like a clean one, one with some refused says how
 * many, and a file of another sponsor is refused without writing into the outbox of the
 * sponsor named by a mistyped `--sponsor`.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { casXml, uploadBytes } from '../helpers/bdt.ts';
import { cliOnStore } from '../helpers/cli.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

// The course ends before it starts: the record is refused, the file is not.
const refusedRecord = (applicantId: string) => casXml({ applicantId, courseStart: '2027-09-20', courseEnd: '2027-01-10' });

describe.each(STORE_KINDS)('process outcomes on %s', (kind) => {
  const on = cliOnStore(kind, 'cas-bdt-outcomes-');
  const { cli } = on;
  const L = 'OUTCOME01';
  const outbox = () => path.join(on.root, L, 'outbox');

  beforeAll(async () => {
    expect((await cli('sponsor', 'add', L, '--name', 'Outcome College', '--allocation', '10')).code).toBe(0);
  });

  it('tells a file whose every record was refused from a clean one, and exits 3', async () => {
    const file = path.join(on.cwd, 'all-refused.xml');
    writeFileSync(file, uploadBytes({ licence: L, fileId: 'ALLREF', records: [refusedRecord('R-1'), refusedRecord('R-2')] }));
    const dry = await cli('validate', file, '--sponsor', L);
    expect(dry.code).toBe(3);
    expect(dry.stdout).toContain('all-refused.xml: would be ACCEPTED, but EVERY RECORD REFUSED (nothing would be stored)');
    const res = await cli('process', file, '--sponsor', L);
    expect(res.code, res.stderr).toBe(3);
    expect(res.stdout).toMatch(
      /^all-refused\.xml: ACCEPTED, but EVERY RECORD REFUSED \(nothing stored\) \[submission \d+\] 2 records: 0 created/,
    );
    // Why, record by record.
    expect(res.stdout).toContain('record 1 (ApplicantID R-1): rejected');
    expect(res.stdout).toMatch(/error E_\w+ .*ExpectedCourseEndDate/);
    const listed = await cli('submissions', '--sponsor', L);
    expect(listed.stdout).toContain('ACCEPTED, all records refused');
  });

  it('says how many of a file were refused when some were, and exits 0', async () => {
    const file = path.join(on.cwd, 'some-refused.xml');
    writeFileSync(file, uploadBytes({ licence: L, fileId: 'SOMEREF', records: [casXml({ applicantId: 'S-1' }), refusedRecord('S-2')] }));
    const res = await cli('process', file, '--sponsor', L);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^some-refused\.xml: ACCEPTED, 1 of 2 records refused \[submission \d+\]/);
    expect(res.stdout).toContain('record 2 (ApplicantID S-2): rejected');
    expect(res.stdout).not.toContain('record 1 (ApplicantID S-1)');
  });

  it('tells the first ten refused records with their reasons, and how many more the result lists', async () => {
    const file = path.join(on.cwd, 'many-refused.xml');
    const records = Array.from({ length: 14 }, (_, k) => (k === 0 ? casXml({ applicantId: 'M-1' }) : refusedRecord(`M-${k + 1}`)));
    writeFileSync(file, uploadBytes({ licence: L, fileId: 'MANYREF', records }));
    const res = await cli('process', file, '--sponsor', L);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^many-refused\.xml: ACCEPTED, 13 of 14 records refused/);
    const told = [...res.stdout.matchAll(/record (\d+) \(ApplicantID M-\d+\): rejected/g)].map((m) => Number(m[1]));
    expect(told).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(res.stdout).toContain('error E_COURSE_DATES');
    expect(res.stdout).toContain('... and 3 more refused records (the result file lists them all)');
  });

  it('a clean file is told as before', async () => {
    const file = path.join(on.cwd, 'clean.xml');
    writeFileSync(file, uploadBytes({ licence: L, fileId: 'CLEAN', records: [casXml({ applicantId: 'C-1' })] }));
    const res = await cli('process', file, '--sponsor', L);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^clean\.xml: ACCEPTED \[submission \d+\] 1 record: 1 created/);
    expect(res.stdout.trim().split('\n')).toHaveLength(1);
  });

  it("does not write the refusal of another sponsor's file into the outbox of --sponsor", async () => {
    const before = readdirSync(outbox());
    const file = path.join(on.cwd, 'theirs.xml');
    writeFileSync(file, uploadBytes({ licence: 'OTHER0001', fileId: 'THEIRS' }));
    const res = await cli('process', file, '--sponsor', L, '--json');
    expect(res.code).toBe(3);
    const [summary] = res.json<{ outcome: string; resultFile: string | null; submissionId: number; fileErrors: { code: string }[] }[]>();
    expect(summary).toMatchObject({ outcome: 'REJECTED', resultFile: null, fileErrors: [{ code: 'E_SPONSOR_MISMATCH' }] });
    expect(readdirSync(outbox())).toEqual(before);
    expect(res.stderr).toContain(`theirs.xml: not written to the outbox of ${L}: the file names another sponsor.`);
    expect(res.stderr).toContain(`cas-bdt rerun ${summary!.submissionId} --out DIR`);
    // Where the operator says, it is written.
    const out = path.join(on.cwd, 'out');
    const asked = await cli('process', file, '--sponsor', L, '--out', out, '--json');
    expect(asked.json<{ resultFile: string }[]>()[0]!.resultFile).toMatch(
      new RegExp(`^${out}/theirs\\.\\d+\\.result\\.xml$|^${out}/theirs`),
    );
    expect(readdirSync(out)).toHaveLength(1);
    expect(readdirSync(outbox())).toEqual(before);
  });

  it('validate takes no submission id, and its XML names none, as its JSON says', async () => {
    const write = (name: string, fileId: string, applicantId: string) => {
      const file = path.join(on.cwd, name);
      writeFileSync(file, uploadBytes({ licence: L, fileId, records: [casXml({ applicantId })] }));
      return file;
    };
    const first = await cli('process', write('ids-1.xml', 'IDS1', 'I-1'), '--sponsor', L, '--json');
    const firstId = first.json<{ submissionId: number }[]>()[0]!.submissionId;
    const out = path.join(on.cwd, 'dry');
    for (const n of [1, 2, 3]) {
      const dry = await cli('validate', write(`dry-${n}.xml`, `DRY${n}`, `D-${n}`), '--sponsor', L, '--out', out, '--json');
      expect(dry.code, dry.stderr).toBe(0);
      const [report] = dry.json<{ submissionId: null; resultXml: string; resultFile: string }[]>();
      expect(report!.submissionId).toBeNull();
      expect(report!.resultXml).toContain('<SubmissionId>DRY-RUN</SubmissionId>');
      expect(readFileSync(report!.resultFile, 'utf8')).toContain('<SubmissionId>DRY-RUN</SubmissionId>');
    }
    // A replay's dry run too.
    const again = await cli('validate', path.join(on.cwd, 'ids-1.xml'), '--sponsor', L, '--json');
    expect(again.json<{ replay: boolean; resultXml: string }[]>()[0]).toMatchObject({ replay: true });
    expect(again.json<{ resultXml: string }[]>()[0]!.resultXml).toContain('<SubmissionId>DRY-RUN</SubmissionId>');
    const next = await cli('process', write('ids-2.xml', 'IDS2', 'I-2'), '--sponsor', L, '--json');
    expect(next.json<{ submissionId: number }[]>()[0]!.submissionId).toBe(firstId + 1);
  });
});
