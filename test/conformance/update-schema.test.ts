/**
 * The fee update schema (schemas/update.xsd, provisional: no Home Office schema exists)
 * against its own corpus, fixtures/update/conformance: every file gets the verdict
 * expected.json gives it from the product's validator, and, where Java is installed, from
 * Xerces on the same schema, so that the in-process engine and the reference engine agree
 * on the project's own contract. Then the pipeline's view: a schema-valid update file with
 * its root in another namespace is not an update file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectFile } from '../../src/pipeline/inspect.ts';
import { briefly, hasJava, judge, judgeAll, limiter, REPO_ROOT, type Verdict } from './support.ts';

const DIR = path.join(REPO_ROOT, 'fixtures/update/conformance');
const expected = JSON.parse(readFileSync(path.join(DIR, 'expected.json'), 'utf8')) as Record<string, { verdict: Verdict }>;
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.xml'))
  .sort();
const bytes = (f: string) => readFileSync(path.join(DIR, f));
const run = limiter(2);

describe(`fixtures/update/conformance (${files.length} documents)`, () => {
  it('lists every document with a verdict, both verdicts present', () => {
    expect(Object.keys(expected).sort()).toEqual(files);
    expect(files.filter((f) => expected[f]!.verdict === 'valid').length).toBeGreaterThanOrEqual(5);
    expect(files.filter((f) => expected[f]!.verdict === 'invalid').length).toBeGreaterThanOrEqual(20);
  });

  it.concurrent.each(files)('%s gets its verdict from the product', async (f) => {
    const got = await run(() => judge(bytes(f), 'update'));
    expect(got.verdict, briefly(got.violations)).toBe(expected[f]!.verdict);
    if (got.verdict === 'invalid')
      expect(
        got.violations.some((v) => (v.line ?? 0) > 0),
        'a violation with a line',
      ).toBe(true);
  });

  it.skipIf(!hasJava())(
    'Xerces gives every document the same verdict on schemas/update.xsd',
    async () => {
      const judged = await judgeAll(files.map((f) => ({ bytes: bytes(f), schema: 'update' as const })));
      const wrong = files.flatMap((f, i) =>
        judged[i]!.verdict === expected[f]!.verdict ? [] : [`${f}: ${judged[i]!.verdict} ${briefly(judged[i]!.violations)}`],
      );
      expect(wrong).toEqual([]);
    },
    120_000,
  );

  it('the base document fixtures/update/basic.xml is an update file the pipeline types as UPDATE_FEES', async () => {
    const inspected = await inspectFile(readFileSync(path.join(REPO_ROOT, 'fixtures/update/basic.xml')));
    expect(inspected.ok && inspected.file.fileType).toBe('UPDATE_FEES');
    expect(inspected.ok && inspected.file.header).toMatchObject({ fileId: 'FEES-2027-09', sponsorLicenceNumber: 'QHDGHB91X' });
  });

  it('an update root in another namespace is E_UNKNOWN_FILE_TYPE, not a schema error', async () => {
    const other = readFileSync(path.join(REPO_ROOT, 'fixtures/update/basic.xml'), 'utf8').replace(
      'bulk-cas-update-200910',
      'bulk-cas-update-209912',
    );
    const inspected = await inspectFile(Buffer.from(other));
    expect(inspected.ok).toBe(false);
    expect(!inspected.ok && inspected.errors.map((e) => e.code)).toEqual(['E_UNKNOWN_FILE_TYPE']);
  });
});
