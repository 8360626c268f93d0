/**
 * Differential conformance: every case is validated by the project's schema and by the
 * Home Office reference schema, and the verdicts must agree. The reference is read from
 * ../shared/reference at run time; without it this file skips (fixtures.test.ts then
 * still checks the committed corpus of reference verdicts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_CASES, buildCase, referenceBases, type Case } from './cases.ts';
import {
  HAS_REFERENCE,
  REFERENCE_DIR,
  briefly,
  judge,
  judgeAll,
  referenceSchemas,
  type Judgement,
  type ReferenceSchemas,
} from './support.ts';

if (!HAS_REFERENCE) {
  console.warn(
    `[conformance] Home Office reference schema not found at ${REFERENCE_DIR}: ` +
      'skipping the differential tests; fixtures.test.ts still checks fixtures/conformance.',
  );
}

// One JVM validates the whole catalogue, so every case runs every time.
const CASES = ALL_CASES;
const GROUPS = [...new Set(CASES.map((c) => c.group))];

interface Outcome {
  c: Case;
  project: Judgement;
  /** Absent for graduate files: the Home Office publishes no schema for them. */
  reference?: Judgement;
}

describe.skipIf(!HAS_REFERENCE)(`project schemas vs Home Office reference v2.1 (${CASES.length} cases)`, () => {
  let ref: ReferenceSchemas;
  const outcomes = new Map<string, Outcome>();

  beforeAll(async () => {
    ref = await referenceSchemas();
    const bases = referenceBases();
    const started = Date.now();
    const built = CASES.map((c) => ({ c, bytes: buildCase(c, bases), refSchema: c.schema === 'graduate' ? undefined : ref[c.schema] }));
    const projectJudgements = await judgeAll(built.map((b) => ({ bytes: b.bytes, schema: b.c.schema })));
    const withReference = built.filter((b) => b.refSchema !== undefined);
    const referenceJudgements = await judgeAll(withReference.map((b) => ({ bytes: b.bytes, schema: { path: b.refSchema! } })));
    const referenceById = new Map(withReference.map((b, i) => [b.c.id, referenceJudgements[i]!]));
    built.forEach((b, i) => {
      const reference = referenceById.get(b.c.id);
      const project = projectJudgements[i]!;
      outcomes.set(b.c.id, reference ? { c: b.c, project, reference } : { c: b.c, project });
    });
    // The product's own validator path (one JVM per file) must agree on a sample too.
    for (const b of built.slice(0, 6)) {
      expect((await judge(b.bytes, b.c.schema)).verdict, b.c.id).toBe(outcomes.get(b.c.id)!.project.verdict);
    }
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    console.info(`[conformance] ${CASES.length} cases validated in ${secs}s`);
  }, 600_000);

  afterAll(async () => {
    await ref?.dispose();
  });

  for (const group of GROUPS) {
    const inGroup = CASES.filter((c) => c.group === group);
    it(`${group}: ${inGroup.length} cases agree`, () => {
      const problems: string[] = [];
      for (const c of inGroup) {
        const o = outcomes.get(c.id);
        if (!o) {
          problems.push(`${c.id}: not run`);
          continue;
        }
        const refVerdict = o.reference?.verdict ?? c.expect;
        if (o.project.verdict !== refVerdict) {
          problems.push(
            `${c.id}: project says ${o.project.verdict}, reference says ${refVerdict}` +
              ` [project: ${briefly(o.project.violations)}] [reference: ${briefly(o.reference?.violations ?? [])}]`,
          );
        } else if (refVerdict !== c.expect) {
          // Both agree but the catalogue documents the other verdict: the catalogue is wrong.
          problems.push(`${c.id}: both say ${refVerdict}, the catalogue expects ${c.expect}`);
        }
      }
      expect(problems).toEqual([]);
    });
  }

  it('invalid verdicts come with positioned messages', () => {
    for (const o of outcomes.values()) {
      for (const v of o.project.violations) {
        expect(v.message.length, o.c.id).toBeGreaterThan(0);
        expect(v.line, `${o.c.id}: ${v.message}`).toBeGreaterThan(0);
      }
    }
  });
});
