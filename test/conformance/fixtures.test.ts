/**
 * The project's own conformance corpus (fixtures/conformance, written by
 * generate-fixtures.ts with the reference schema's verdicts) and the base documents the
 * rest of the suite builds on. Runs without the Home Office reference and without Java:
 * the product's verdict on every corpus file is checked against the recorded oracle by
 * oracle.test.ts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SchemaName } from '../../src/xml/xsd.ts';
import { expectedFixtures } from './oracle.ts';
import { REPO_ROOT, briefly, judge, limiter, type Verdict } from './support.ts';

const expected = expectedFixtures();
const files = Object.keys(expected).sort();
const run = limiter(2);

describe(`fixtures/conformance (${files.length} documents)`, () => {
  it('has a corpus with both verdicts for every schema', () => {
    expect(files.length).toBeGreaterThanOrEqual(100);
    for (const schema of ['upload-general', 'upload-child', 'graduate'] as const) {
      for (const verdict of ['valid', 'invalid'] as const) {
        const n = files.filter((f) => expected[f]!.schema === schema && expected[f]!.verdict === verdict).length;
        expect(n, `${schema} ${verdict}`).toBeGreaterThan(0);
      }
    }
  });
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
