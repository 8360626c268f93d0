/**
 * Live differential conformance: every catalogue case and every committed fixture is
 * judged by the oracle itself (Xerces on the Home Office reference schema, one JVM; the
 * catalogue for graduate files) and by the product's validator, and the verdicts must
 * agree. The live oracle must also still say what cases.ts documents and what
 * oracle.json recorded. Needs Java and ../shared/reference; without either this file
 * skips, and oracle.test.ts still checks the product against the recorded verdicts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { REGENERATE, askOracle, disagreement, judgeWithProduct, oracleDocs, readOracle, type OracleEntry } from './oracle.ts';
import { hasJava, HAS_REFERENCE, REFERENCE_DIR, type Judgement } from './support.ts';

const JAVA = hasJava();
const LIVE = HAS_REFERENCE && JAVA;
if (!LIVE) {
  console.warn(
    `[conformance] ${HAS_REFERENCE ? '' : `Home Office reference schema not found at ${REFERENCE_DIR}`}${!HAS_REFERENCE && !JAVA ? ' and ' : ''}` +
      `${JAVA ? '' : 'java/javac not available (or CONFORMANCE_NO_JAVA=1)'}: skipping the live differential tests; ` +
      'oracle.test.ts still checks the product against fixtures/conformance/oracle.json.',
  );
}

describe.skipIf(!LIVE)('product validator vs live oracle (Xerces on the Home Office reference v2.1)', () => {
  const { docs } = LIVE ? oracleDocs() : { docs: [] };
  const groups = [...new Set(docs.map((d) => d.group))];
  let oracle = new Map<string, OracleEntry>();
  let product = new Map<string, Judgement | Error>();

  beforeAll(async () => {
    const started = Date.now();
    oracle = await askOracle(docs);
    const asked = Date.now();
    product = await judgeWithProduct(docs);
    console.info(
      `[conformance] ${docs.length} documents: oracle ${((asked - started) / 1000).toFixed(1)}s, product ${((Date.now() - asked) / 1000).toFixed(1)}s`,
    );
  }, 600_000);

  for (const group of groups) {
    const inGroup = docs.filter((d) => d.group === group);
    it(`${group}: ${inGroup.length} documents, the product agrees with the oracle`, () => {
      const problems: string[] = [];
      for (const d of inGroup) {
        const o = oracle.get(d.id);
        if (!o) {
          problems.push(`${d.id}: the oracle did not judge it`);
          continue;
        }
        const p = disagreement(d, o, product.get(d.id));
        if (p) problems.push(p);
      }
      expect(problems).toEqual([]);
    });
  }

  it('the oracle still gives the verdicts cases.ts and expected.json document', () => {
    const wrong = docs
      .filter((d) => oracle.get(d.id)?.verdict !== d.documented)
      .map((d) => `${d.id}: the oracle says ${oracle.get(d.id)?.verdict}, documented ${d.documented} ${oracle.get(d.id)?.because ?? ''}`);
    expect(wrong).toEqual([]);
  });

  it('oracle.json is up to date with the live oracle', () => {
    const recorded = readOracle()?.cases ?? {};
    const stale = docs
      .filter((d) => {
        const r = recorded[d.id];
        const o = oracle.get(d.id)!;
        return !r || r.sha256 !== o.sha256 || r.verdict !== o.verdict || r.schema !== o.schema;
      })
      .map((d) => d.id);
    expect(stale, REGENERATE).toEqual([]);
  });
});
