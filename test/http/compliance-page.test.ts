/**
 * The compliance view on the operator's HTTP surface, on both stores: the `/compliance`
 * console page lists each sponsor's rates, thresholds and states (the nav links to it), and
 * `/metrics` has the compliance gauges with the licence as the only label.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listCas } from '../../src/db/cas-query.ts';
import { decideCas } from '../../src/ops/decide.ts';
import { useCas } from '../../src/ops/use.ts';
import { addDays, isoDateUtc } from '../../src/domain/dates.ts';
import { complianceSource } from '../../src/http/compliance-page.ts';
import { compliance, currentCompliance } from '../../src/ops/compliance.ts';
import { startHttpScenario, type HttpScenario } from '../helpers/http.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

describe.each(STORE_KINDS)('compliance over HTTP on %s', (kind) => {
  let s: HttpScenario;
  beforeAll(async () => {
    s = await startHttpScenario(kind);
    // One granted and one refused decision on the sponsor's assigned CAS, before any page is asked for.
    const assigned = (await listCas(s.t.store.db, { licence: s.licence, status: 'ASSIGNED' })).map((c) => c.casNumber!);
    expect(assigned.length).toBe(2);
    for (const [i, d] of [
      [0, 'granted'],
      [1, 'refused'],
    ] as const) {
      expect((await useCas(s.t.store.db, { casNumber: assigned[i]! }, '2026-01-05', new Date())).kind).toBe('done');
      expect((await decideCas(s.t.store.db, assigned[i]!, d, { now: new Date() })).kind).toBe('done');
    }
  }, 120_000);
  afterAll(async () => {
    await s?.close();
  });

  it("/compliance shows each sponsor's rates with counts, thresholds and states", async () => {
    const res = await s.get('/compliance');
    expect(res.status).toBe(200);
    expect(res.type).toContain('text/html');
    expect(res.body).toContain('<h1>Compliance</h1>');
    const row = res.body.split('<tr>').find((r) => r.includes(s.licence))!;
    expect(row).toContain('50.0% <span class="muted">(1/2)</span>');
    expect(row).toContain('below 5%');
    expect(row).toContain('too few');
    expect((await s.get('/')).body).toContain('<a href="/compliance">Compliance</a>');
  });

  it('/metrics has per-sponsor compliance gauges labelled by licence only', async () => {
    const text = (await s.get('/metrics')).body;
    expect(text).toContain(`cas_bdt_compliance_refusal_rate{licence="${s.licence}"} 0.5`);
    expect(text).toContain(`cas_bdt_compliance_late_reports{licence="${s.licence}"} 0`);
    expect(text).toContain(`cas_bdt_compliance_missing_reports{licence="${s.licence}"} 0`);
    // Nothing counted for enrolment yet (the courses have not started): no series rather than a made-up rate.
    expect(text).not.toContain(`cas_bdt_compliance_enrolment_rate{licence="${s.licence}"}`);
    for (const line of text.split('\n').filter((l) => l.startsWith('cas_bdt_compliance_')))
      expect(line).toMatch(/^\w+\{licence="[A-Z0-9]{9}"\} \S+$/);
  });

  it('brings the kept figures up to date at every request: a change shows at once, and only its sponsor is computed again', async () => {
    const db = s.t.store.db;
    const asOf = isoDateUtc(new Date());
    const nation = 'england-and-wales';
    const source = complianceSource(db, nation, () => new Date());
    const mine = async () => (await source()).find((c) => c.sponsorLicenceNumber === s.licence)!;
    expect((await mine()).refusal).toMatchObject({ numerator: 1, denominator: 2 });
    // Nothing changed since: nothing is computed again, and the source keeps the rows it holds (nor is the page laid out again).
    expect((await currentCompliance(db, { asOf, nation })).recomputed).toEqual([]);
    const held = await source();
    expect(await source()).toBe(held);
    // A correction changes the figures: the very next request shows them, the sponsor alone computed again.
    const refused = (await listCas(db, { licence: s.licence, status: 'USED' })).find((c) => c.decision === 'refused')!;
    expect((await decideCas(db, refused.casNumber!, 'granted', { correct: true, now: new Date() })).kind).toBe('done');
    const after = await currentCompliance(db, { asOf, nation });
    expect(after.recomputed).toEqual([s.licence]);
    expect(after.rows).toEqual(await compliance(db, { asOf, nation }));
    expect((await mine()).refusal).toMatchObject({ numerator: 0, denominator: 2 });
    expect(await source()).not.toBe(held);
    // Rows held and current until a change: only the changed sponsor's are read again, and the whole is as computed anew.
    const kept = await currentCompliance(db, { asOf, nation });
    expect((await decideCas(db, refused.casNumber!, 'refused', { correct: true, now: new Date() })).kind).toBe('done');
    const merged = await currentCompliance(db, { asOf, nation }, kept);
    expect(merged.recomputed).toEqual([s.licence]);
    expect(merged.rows).toEqual(await compliance(db, { asOf, nation }));
    expect(merged.rows.find((c) => c.sponsorLicenceNumber === s.licence)!.refusal).toMatchObject({ numerator: 1, denominator: 2 });
    // Another day (or another nation's holidays): every sponsor is computed again, and kept for that day.
    const tomorrow = addDays(asOf, 1);
    expect((await currentCompliance(db, { asOf: tomorrow, nation })).recomputed).toBe('all');
    expect((await currentCompliance(db, { asOf: tomorrow, nation })).recomputed).toEqual([]);
    expect((await currentCompliance(db, { asOf: tomorrow, nation: 'scotland' })).recomputed).toBe('all');
  });
});
