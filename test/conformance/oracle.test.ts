/**
 * The product's validator against the recorded oracle (fixtures/conformance/oracle.json):
 * every catalogue case and every committed fixture is built, checked to be the very
 * document the oracle judged (sha256), and validated with validateXsd, whose verdict
 * must be the oracle's. Needs no Java. The catalogue cases are built from the Home
 * Office examples: without ../shared/reference they are skipped (said so) and the
 * committed fixtures are still checked.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ALL_CASES } from './cases.ts';
import {
  ORACLE_FILE,
  REGENERATE,
  disagreement,
  expectedFixtures,
  judgeWithProduct,
  oracleDocs,
  readOracle,
  sha256,
  type OracleDoc,
} from './oracle.ts';
import { REFERENCE_DIR, type Judgement } from './support.ts';

const recorded = readOracle();
const { docs, skipped } = oracleDocs();
if (skipped) {
  console.warn(`[conformance] ${skipped} (${REFERENCE_DIR}): skipping them; the committed fixtures are still checked against oracle.json.`);
}
const GROUPS = [...new Set(docs.map((d) => d.group))];
const isFresh = (d: OracleDoc) => recorded?.cases[d.id]?.sha256 === sha256(d.bytes);

describe(`product validator vs recorded oracle verdicts (${docs.length} documents)`, () => {
  const product = new Map<string, Judgement | Error>();

  beforeAll(async () => {
    if (!recorded) return;
    const started = Date.now();
    for (const [id, j] of await judgeWithProduct(docs.filter(isFresh))) product.set(id, j);
    console.info(`[conformance] ${product.size} documents validated by the product in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  }, 600_000);

  it('oracle.json exists and records every document of the corpus', () => {
    expect(recorded, `${ORACLE_FILE} is missing: ${REGENERATE}`).toBeDefined();
    const missing = docs.filter((d) => !recorded!.cases[d.id]).map((d) => d.id);
    expect(missing, `documents without a recorded verdict: ${REGENERATE}`).toEqual([]);
  });

  it('every document is the one the oracle judged (sha256)', () => {
    const stale = docs.filter((d) => recorded?.cases[d.id] && !isFresh(d)).map((d) => d.id);
    expect(stale, `documents changed since the oracle judged them: ${REGENERATE}`).toEqual([]);
  });

  it('oracle.json records nothing that is no longer in the corpus', () => {
    const ids = new Set(docs.map((d) => d.id));
    const expected = expectedFixtures();
    const extra = Object.keys(recorded?.cases ?? {}).filter((id) =>
      id.startsWith('fixtures/') ? !expected[id.slice('fixtures/'.length)] : skipped === undefined && !ids.has(id),
    );
    expect(extra, `recorded verdicts without a document: ${REGENERATE}`).toEqual([]);
    if (skipped === undefined) expect(docs.filter((d) => d.id.startsWith('catalogue/'))).toHaveLength(ALL_CASES.length);
  });

  it('expected.json documents the oracle verdict of every fixture', () => {
    const expected = expectedFixtures();
    const wrong = Object.entries(expected)
      .filter(([f, e]) => {
        const r = recorded?.cases[`fixtures/${f}`];
        return r && (r.verdict !== e.verdict || r.schema !== e.schema);
      })
      .map(
        ([f, e]) =>
          `${f}: expected.json says ${e.schema} ${e.verdict}, the oracle ${recorded!.cases[`fixtures/${f}`]!.schema} ${recorded!.cases[`fixtures/${f}`]!.verdict}`,
      );
    expect(wrong).toEqual([]);
  });

  if (skipped) it.skip(`catalogue cases: ${skipped}`, () => {});

  for (const group of GROUPS) {
    const inGroup = docs.filter((d) => d.group === group);
    it(`${group}: ${inGroup.length} documents get the oracle's verdict`, () => {
      const problems: string[] = [];
      for (const d of inGroup) {
        const oracle = recorded?.cases[d.id];
        if (!oracle || !isFresh(d)) continue; // reported above
        const p = disagreement(d, oracle, product.get(d.id));
        if (p) problems.push(p);
      }
      expect(problems).toEqual([]);
    });
  }

  it('every invalid verdict comes with messages, at least one of them positioned', () => {
    const problems: string[] = [];
    for (const [id, j] of product) {
      if (j instanceof Error || j.verdict === 'valid') continue;
      if (j.violations.some((v) => v.message.trim() === '')) problems.push(`${id}: an empty message`);
      if (!j.violations.some((v) => (v.line ?? 0) > 0)) problems.push(`${id}: no violation has a line`);
    }
    expect(problems).toEqual([]);
  });
});
