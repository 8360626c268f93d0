/**
 * The checks every provisional schema's own corpus gets (fixtures/<kind>/conformance): each
 * document listed in expected.json, valid and invalid ones present, each judged by the
 * product's validator as listed, and, where Java is installed, by Xerces on the same schema.
 * A test file calls it inside its describe and adds the checks of its kind.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import type { SchemaName } from '../../src/xml/xsd.ts';
import { briefly, hasJava, judge, judgeAll, limiter, REPO_ROOT, type Verdict } from './support.ts';

interface Corpus {
  /** The corpus's documents, sorted. */
  files: string[];
  bytes: (file: string) => Buffer;
}

/** The folder's documents, for the describe's title and the kind's own checks. */
export function corpusOf(dir: string): Corpus {
  const abs = path.join(REPO_ROOT, dir);
  const files = readdirSync(abs)
    .filter((f) => f.endsWith('.xml'))
    .sort();
  return { files, bytes: (f) => readFileSync(path.join(abs, f)) };
}

export function corpusChecks(dir: string, schema: SchemaName, least: { valid: number; invalid: number }): void {
  const { files, bytes } = corpusOf(dir);
  const expected = JSON.parse(readFileSync(path.join(REPO_ROOT, dir, 'expected.json'), 'utf8')) as Record<string, { verdict: Verdict }>;
  const run = limiter(2);

  it('lists every document with a verdict, both verdicts present', () => {
    expect(Object.keys(expected).sort()).toEqual(files);
    expect(files.filter((f) => expected[f]!.verdict === 'valid').length).toBeGreaterThanOrEqual(least.valid);
    expect(files.filter((f) => expected[f]!.verdict === 'invalid').length).toBeGreaterThanOrEqual(least.invalid);
  });

  it.concurrent.each(files)('%s gets its verdict from the product', async (f) => {
    const got = await run(() => judge(bytes(f), schema));
    expect(got.verdict, briefly(got.violations)).toBe(expected[f]!.verdict);
    if (got.verdict === 'invalid')
      expect(
        got.violations.some((v) => (v.line ?? 0) > 0),
        'a violation with a line',
      ).toBe(true);
  });

  it.skipIf(!hasJava())(
    `Xerces gives every document the same verdict on schemas/${schema}.xsd`,
    async () => {
      const judged = await judgeAll(files.map((f) => ({ bytes: bytes(f), schema })));
      const wrong = files.flatMap((f, i) =>
        judged[i]!.verdict === expected[f]!.verdict ? [] : [`${f}: ${judged[i]!.verdict} ${briefly(judged[i]!.violations)}`],
      );
      expect(wrong).toEqual([]);
    },
    120_000,
  );
}
