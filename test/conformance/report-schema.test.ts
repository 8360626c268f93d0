/**
 * The student activity report schema (schemas/report.xsd, provisional: no Home Office
 * schema exists) against its own corpus, fixtures/report/conformance: a valid file of each
 * of the seven kinds, and invalid ones (wrong order, missing fields, bad dates, notes too
 * long, an unknown CASReport or block). Every file gets the verdict expected.json gives it
 * from the product's validator, and, where Java is installed, from Xerces on the same
 * schema. Then the pipeline's view: a valid file is typed REPORT with its header read.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectFile } from '../../src/pipeline/inspect.ts';
import { briefly, hasJava, judge, judgeAll, limiter, REPO_ROOT, type Verdict } from './support.ts';

const DIR = path.join(REPO_ROOT, 'fixtures/report/conformance');
const expected = JSON.parse(readFileSync(path.join(DIR, 'expected.json'), 'utf8')) as Record<string, { verdict: Verdict }>;
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.xml'))
  .sort();
const bytes = (f: string) => readFileSync(path.join(DIR, f));
const run = limiter(2);

describe(`fixtures/report/conformance (${files.length} documents)`, () => {
  it('lists every document with a verdict, both verdicts present', () => {
    expect(Object.keys(expected).sort()).toEqual(files);
    expect(files.filter((f) => expected[f]!.verdict === 'valid').length).toBeGreaterThanOrEqual(7);
    expect(files.filter((f) => expected[f]!.verdict === 'invalid').length).toBeGreaterThanOrEqual(15);
  });

  it.concurrent.each(files)('%s gets its verdict from the product', async (f) => {
    const got = await run(() => judge(bytes(f), 'report'));
    expect(got.verdict, briefly(got.violations)).toBe(expected[f]!.verdict);
    if (got.verdict === 'invalid')
      expect(
        got.violations.some((v) => (v.line ?? 0) > 0),
        'a violation with a line',
      ).toBe(true);
  });

  it.skipIf(!hasJava())(
    'Xerces gives every document the same verdict on schemas/report.xsd',
    async () => {
      const judged = await judgeAll(files.map((f) => ({ bytes: bytes(f), schema: 'report' as const })));
      const wrong = files.flatMap((f, i) =>
        judged[i]!.verdict === expected[f]!.verdict ? [] : [`${f}: ${judged[i]!.verdict} ${briefly(judged[i]!.violations)}`],
      );
      expect(wrong).toEqual([]);
    },
    120_000,
  );

  it('a valid report file is typed REPORT, its header read; in the graduate namespace it is a graduate notification', async () => {
    const inspected = await inspectFile(bytes('008-all-kinds.xml'));
    expect(inspected.ok && inspected.file.fileType).toBe('REPORT');
    expect(inspected.ok && inspected.file.header).toMatchObject({ fileId: 'REPORTS-2027-01', sponsorLicenceNumber: 'QHDGHB91X' });
    const graduate = await inspectFile(
      Buffer.from(
        bytes('001-not-enrolled.xml').toString('utf8').replace('bulk-cas-reporting-200910', 'bulk-cas-reporting-graduated-202102'),
      ),
    );
    // Typed as a graduate notification, whose schema it then fails.
    expect(graduate.ok ? graduate.file.fileType : [graduate.fileType, [...new Set(graduate.errors.map((e) => e.code))]]).toEqual([
      'GRADUATE_REPORT',
      ['E_SCHEMA'],
    ]);
  });
});
