/**
 * The compliance view on both stores, for sponsors built with known numbers: the three
 * rates with their counts and states, the same data passing before 2026-06-01 and failing
 * from it, late and missing reports, fewer than 50 cases `too few`, and `cas-bdt
 * compliance` (JSON and text) agreeing with it.
 */
import path from 'node:path';
import { inArray } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { cas } from '../../src/db/schema.ts';
import type { Compliance } from '../../src/domain/compliance.ts';
import type { ReportInput } from '../../src/domain/reports.ts';
import { compliance } from '../../src/ops/compliance.ts';
import { recordReports } from '../../src/ops/reports.ts';
import { runCli } from '../helpers/cli.ts';
import { licenceFor, Scenario } from '../helpers/lifecycle.ts';
import { suiteStore } from '../helpers/fixture.ts';
import { STORE_KINDS, tempDir } from '../helpers/stores.ts';

describe.each(STORE_KINDS)('compliance on %s', (kind) => {
  const t = suiteStore(kind);
  let s: Scenario;
  const L = licenceFor('COMP');
  const SMALL = licenceFor('COMS');
  let n: string[] = [];
  const nation = 'england-and-wales' as const;

  /** Uploads `count` CAS (course 2025-09-15 to 2026-03-31), returns their numbers in ApplicantID order. */
  async function build(licence: string, count: number): Promise<{ ids: number[]; numbers: string[] }> {
    await s.sponsor(licence, { allocation: count + 10 });
    const specs = Array.from({ length: count }, (_, i) => ({
      applicantId: `C${String(i).padStart(3, '0')}`,
      passport: `${licence.slice(0, 4)}${String(i).padStart(5, '0')}`,
      courseStart: '2025-09-15',
      courseEnd: '2026-03-31',
    }));
    await s.upload(licence, `${licence}-UP`, specs, { now: new Date('2025-06-01T09:00:00Z') });
    const rows = await s.db
      .select({ id: cas.id, n: cas.casNumber, a: cas.applicantId })
      .from(cas)
      .where(inArray(cas.sponsorLicenceNumber, [licence]));
    rows.sort((a, b) => (a.a < b.a ? -1 : 1));
    return { ids: rows.map((r) => r.id), numbers: rows.map((r) => r.n!) };
  }

  /** History as the operator would have entered it: the visa applications and decisions. */
  async function decide(ids: number[], decision: 'granted' | 'refused') {
    await s.db.update(cas).set({ status: 'USED', usedOn: '2025-07-01', decision, decidedOn: '2025-08-01' }).where(inArray(cas.id, ids));
  }

  const report = (i: number, k: ReportInput['kind'], fields: Record<string, string>): ReportInput => ({
    casNumber: n[i]!,
    kind: k,
    fields,
  });

  beforeAll(async () => {
    s = new Scenario(t.store);
    const big = await build(L, 103);
    n = big.numbers;
    await decide(big.ids.slice(0, 6), 'refused');
    await decide(big.ids.slice(6, 100), 'granted');
    const at = (d: string) => ({ receivedAt: new Date(`${d}T12:00:00Z`), nation, reason: 'test' });
    const range = (a: number, b: number) => Array.from({ length: b - a }, (_, k) => a + k);
    // 5 granted students never enrolled, reported late (due 2025-09-29); 1 ASSIGNED CAS reported on time.
    await recordReports(
      s.db,
      L,
      range(6, 11).map((i) => report(i, 'NOT_ENROLLED', { ExpectedEnrollmentDate: '2025-09-15' })),
      at('2025-10-20'),
    );
    await recordReports(s.db, L, [report(100, 'NOT_ENROLLED', { ExpectedEnrollmentDate: '2025-09-15' })], at('2025-09-20'));
    // 7 withdrew; 1 changed course, its end moving out of the window.
    await recordReports(
      s.db,
      L,
      range(11, 18).map((i) => report(i, 'WITHDRAWN', { EffectiveDate: '2026-01-10', Reason: 'STUDENT_WITHDREW' })),
      at('2026-01-12'),
    );
    await recordReports(
      s.db,
      L,
      [report(18, 'COURSE_CHANGED', { EffectiveDate: '2026-02-01', NewCourseEndDate: '2026-08-31' })],
      at('2026-02-02'),
    );
    const small = await build(SMALL, 10);
    await decide(small.ids, 'granted');
  });

  const rates = (c: Compliance) =>
    Object.fromEntries(
      (['refusal', 'enrolment', 'completion'] as const).map((k) => [k, [c[k].numerator, c[k].denominator, c[k].threshold, c[k].state]]),
    );

  it('gives the rates, counts and states, passing on 2026-05-31 and failing on 2026-06-01 for the same data', async () => {
    const [before] = await compliance(s.db, { asOf: '2026-05-31', nation, licence: L });
    expect(before!.window).toEqual({ from: '2025-06-01', to: '2026-05-31' });
    expect(rates(before!)).toEqual({
      refusal: [6, 100, 10, 'pass'],
      enrolment: [89, 94, 90, 'pass'],
      completion: [81, 88, 85, 'pass'],
    });
    expect(before!.refusal.rate).toBeCloseTo(0.06);
    expect(before!.lateReports).toBe(5);
    expect(before!.missingReports).toEqual(
      [
        { casNumber: n[101], courseStartDate: '2025-09-15', dueDate: '2025-09-29' },
        { casNumber: n[102], courseStartDate: '2025-09-15', dueDate: '2025-09-29' },
      ].sort((a, b) => (a.casNumber! < b.casNumber! ? -1 : 1)),
    );

    const [after] = await compliance(s.db, { asOf: '2026-06-01', nation, licence: L });
    expect(rates(after!)).toEqual({
      refusal: [6, 100, 5, 'fail'],
      enrolment: [89, 94, 95, 'fail'],
      completion: [81, 88, 85, 'pass'],
    });
  });

  it('shows fewer than 50 cases as too few, and every sponsor without --sponsor', async () => {
    const all = await compliance(s.db, { asOf: '2026-05-31', nation });
    const small = all.find((c) => c.sponsorLicenceNumber === SMALL)!;
    expect(rates(small)).toEqual({
      refusal: [0, 10, 10, 'too few'],
      enrolment: [10, 10, 90, 'too few'],
      completion: [10, 10, 85, 'too few'],
    });
    expect(all.map((c) => c.sponsorLicenceNumber)).toEqual(expect.arrayContaining([L, SMALL]));
    // A window that holds none of it: nothing counted, rates null.
    const [empty] = await compliance(s.db, { asOf: '2030-01-01', nation, licence: L });
    expect(empty!.refusal).toMatchObject({ rate: null, numerator: 0, denominator: 0, state: 'too few' });
  });

  it('answers the same through cas-bdt compliance (JSON and text)', async () => {
    await t.store.close();
    const dir = tempDir('cas-bdt-comp-');
    const base = [...t.cliArgs, '--root', path.join(dir, 'bdt')];
    const json = await runCli([...base, 'compliance', '--sponsor', L, '--as-of', '2026-06-01', '--json'], { cwd: dir });
    expect(json.code).toBe(0);
    const [c] = json.json<Compliance[]>();
    expect(rates(c!)).toEqual({
      refusal: [6, 100, 5, 'fail'],
      enrolment: [89, 94, 95, 'fail'],
      completion: [81, 88, 85, 'pass'],
    });
    const text = await runCli([...base, 'compliance', '--sponsor', L, '--as-of', '2026-05-31'], { cwd: dir });
    expect(text.stdout).toMatch(/refusal\s+6\.0% \(6\/100\)\s+below 10%\s+pass/);
    expect(text.stdout).toContain('Late reports: 5');
    expect(text.stdout).toContain('Missing reports (NOT_ENROLLED overdue): 2');
    expect((await runCli([...base, 'compliance', '--sponsor', 'ZZZZ00000'], { cwd: dir })).code).toBe(4);
    expect((await runCli([...base, 'compliance', '--as-of', '2026-02-30'], { cwd: dir })).code).toBe(2);
  });
});
