/**
 * The compliance view on the operator's HTTP surface, on both stores: the `/compliance`
 * console page lists each sponsor's rates, thresholds and states (the nav links to it), and
 * `/metrics` has the compliance gauges with the licence as the only label.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listCas } from '../../src/db/cas-query.ts';
import { decideCas } from '../../src/ops/decide.ts';
import { useCas } from '../../src/ops/use.ts';
import { COMPLIANCE_REUSE_MS, complianceSource } from '../../src/http/compliance-page.ts';
import { startHttpScenario, type HttpScenario } from '../helpers/http.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { waitFor } from '../helpers/wait.ts';

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

  it('answers from the last figures at once, and recomputes them in the background once they are a period old', async () => {
    let t = 1_000_000;
    const source = complianceSource(
      s.t.store.db,
      'england-and-wales',
      () => new Date(),
      () => t,
    );
    const mine = async () => (await source()).find((c) => c.sponsorLicenceNumber === s.licence)!;
    expect((await mine()).refusal.denominator).toBe(2);
    // A correction changes the figures; within the period the old ones are shown.
    const refused = (await listCas(s.t.store.db, { licence: s.licence, status: 'USED' })).find((c) => c.decision === 'refused')!;
    expect((await decideCas(s.t.store.db, refused.casNumber!, 'granted', { correct: true, now: new Date() })).kind).toBe('done');
    t += COMPLIANCE_REUSE_MS - 1;
    expect((await mine()).refusal.numerator).toBe(1);
    t += 1;
    expect((await mine()).refusal.numerator).toBe(1); // still the last figures, while the new ones are computed
    await waitFor(async () => (await mine()).refusal.numerator === 0, { what: 'the recomputed figures' });
  });
});
