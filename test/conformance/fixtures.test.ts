/**
 * The project's own conformance corpus (fixtures/conformance, written by
 * generate-fixtures.ts with the reference schema's verdicts) and the base documents the
 * rest of the suite builds on. Runs without the Home Office reference.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SchemaName } from '../../src/xml/xsd.ts';
import { CONFORMANCE_FIXTURES, REPO_ROOT, briefly, judge, judgeAll, limiter, type Judgement, type Verdict } from './support.ts';

interface ExpectedEntry {
  schema: Extract<SchemaName, 'upload-general' | 'upload-child' | 'graduate'>;
  verdict: Verdict;
}

const expected = JSON.parse(readFileSync(path.join(CONFORMANCE_FIXTURES, 'expected.json'), 'utf8')) as Record<
  string,
  ExpectedEntry
>;
const files = Object.keys(expected).sort();
const run = limiter(2);

describe(`fixtures/conformance (${files.length} documents)`, () => {
  const results = new Map<string, Judgement>();

  beforeAll(async () => {
    const judged = await judgeAll(files.map((f) => ({ bytes: readFileSync(path.join(CONFORMANCE_FIXTURES, f)), schema: expected[f]!.schema })));
    files.forEach((f, i) => results.set(f, judged[i]!));
  }, 600_000);

  it('has a corpus with both verdicts for every schema', () => {
    expect(files.length).toBeGreaterThanOrEqual(100);
    for (const schema of ['upload-general', 'upload-child', 'graduate'] as const) {
      for (const verdict of ['valid', 'invalid'] as const) {
        const n = files.filter((f) => expected[f]!.schema === schema && expected[f]!.verdict === verdict).length;
        expect(n, `${schema} ${verdict}`).toBeGreaterThan(0);
      }
    }
  });

  for (const schema of ['upload-general', 'upload-child', 'graduate'] as const) {
    const mine = files.filter((f) => expected[f]!.schema === schema);
    it(`${schema}: ${mine.length} documents get the expected verdict`, () => {
      const problems: string[] = [];
      for (const f of mine) {
        const got = results.get(f);
        if (!got) problems.push(`${f}: not validated`);
        else if (got.verdict !== expected[f]!.verdict) {
          problems.push(`${f}: expected ${expected[f]!.verdict}, got ${got.verdict} ${briefly(got.violations)}`);
        }
      }
      expect(problems).toEqual([]);
    });
  }
});

describe('base documents', () => {
  const doc = (rel: string) => readFileSync(path.join(REPO_ROOT, rel));

  const cases: Array<[string, SchemaName, Verdict]> = [
    ['fixtures/upload/general-basic.xml', 'upload-general', 'valid'],
    ['fixtures/upload/child-basic.xml', 'upload-child', 'valid'],
    ['fixtures/graduate/basic.xml', 'graduate', 'valid'],
    // Each upload schema accepts only its own root: the pipeline picks the schema by root.
    ['fixtures/upload/general-basic.xml', 'upload-child', 'invalid'],
    ['fixtures/upload/child-basic.xml', 'upload-general', 'invalid'],
  ];

  it.concurrent.each(cases)('%s against %s is %s', async (rel, schema, verdict) => {
    const got = await run(() => judge(doc(rel), schema));
    expect(got.verdict, briefly(got.violations)).toBe(verdict);
  });

  it('general-basic.xml is the ISO-8859-1 student document the other tests rely on', () => {
    const bytes = doc('fixtures/upload/general-basic.xml');
    const text = bytes.toString('latin1');
    expect(text).toMatch(/^<\?xml version="1.0" encoding="ISO-8859-1"\?>/);
    expect(bytes.includes(Buffer.from('Müller-Ñúñez', 'latin1'))).toBe(true);
    expect(bytes.includes(Buffer.from('Müller', 'utf8'))).toBe(false);
    for (const s of [
      '<SponsorLicenceNumber>QHDGHB91X</SponsorLicenceNumber>',
      '<SchemaID>T4General Ready To Go</SchemaID>',
      '<CourseStartDate>2027-09-20</CourseStartDate>',
      '<ExpectedCourseEndDate>2028-06-30</ExpectedCourseEndDate>',
      '<FullDate>2001-04-12</FullDate>',
      '<SELTRequired>true</SELTRequired>',
      '<EnglishLanguageLevelAttained>B1</EnglishLanguageLevelAttained>',
      '<TestProvider>IELTS</TestProvider>',
      '<PreviousUKStudy>false</PreviousUKStudy>',
      '<ApplicantHasWorkPlacement>false</ApplicantHasWorkPlacement>',
    ]) {
      expect(text).toContain(s);
    }
  });

  it('child-basic.xml is a Child route document for a 12-year-old', () => {
    const text = doc('fixtures/upload/child-basic.xml').toString('latin1');
    expect(text).toContain('<SchemaID>T4Child Ready To Go</SchemaID>');
    expect(text).toContain('<Category>Child</Category>');
    const born = /<FullDate>(\d{4})-(\d{2})-(\d{2})<\/FullDate>/.exec(text)!;
    const start = /<CourseStartDate>(\d{4})-(\d{2})-(\d{2})<\/CourseStartDate>/.exec(text)!;
    const beforeBirthday = start[2]! + start[3]! < born[2]! + born[3]!;
    expect(Number(start[1]) - Number(born[1]) - (beforeBirthday ? 1 : 0)).toBe(12);
  });

  it('graduate/basic.xml reports two CAS numbers', () => {
    const text = doc('fixtures/graduate/basic.xml').toString('utf8');
    expect(text.match(/<bulk:CASNumber>E4[CG][0-9A-Z]{11}<\/bulk:CASNumber>/g)).toHaveLength(2);
  });
});
