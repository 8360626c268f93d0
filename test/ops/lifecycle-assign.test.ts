/**
 * Assigning later (batch all or nothing, one payment), licence status changes that
 * cancel CAS, and graduate reports across sponsors and statuses, on both stores.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { assignLater } from '../../src/ops/assign.ts';
import { changeLicenceStatus } from '../../src/ops/licence.ts';
import { cas, payments } from '../../src/db/schema.ts';
import { getSponsor, grantAllocation } from '../../src/db/sponsors.ts';
import { useCas } from '../../src/ops/use.ts';
import { withdrawCas } from '../../src/ops/withdraw.ts';
import { generateCasNumber, isValidCasNumber } from '../../src/domain/cas-number.ts';
import { addMonths, isoDateUtc } from '../../src/domain/dates.ts';
import { casXml, graduateBytes, uploadBytes } from '../helpers/bdt.ts';
import { licenceFor, Scenario } from '../helpers/lifecycle.ts';
import { issueCodes } from '../helpers/pipeline.ts';
import { suiteStore } from '../helpers/fixture.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

const settings = { feePence: 2500, validityMonths: 6 };

describe.each(STORE_KINDS)('assign later, licence status and graduates on %s', (kind) => {
  const t = suiteStore(kind);
  let s: Scenario;

  beforeAll(async () => {
    s = new Scenario(t.store);
  });

  const allocation = async (licence: string) => {
    const sp = (await getSponsor(s.db, licence))!;
    return { granted: sp.allocationGranted, used: sp.allocationUsed };
  };
  const paymentsOf = (licence: string) =>
    s.db.select().from(payments).where(eq(payments.sponsorLicenceNumber, licence)).orderBy(payments.id);

  it('assigns a no-auto-assign batch all or nothing: refused while the allocation is smaller, assigned with one payment after an increase', async () => {
    const L = await s.sponsor(licenceFor('BIGB'), { allocation: 2, autoAssign: false });
    const up = await s.upload(L, 'BIG-1', [
      { applicantId: 'B1', passport: 'B0000001' },
      { applicantId: 'B2', passport: 'B0000002' },
      { applicantId: 'B3', passport: 'B0000003', evidence: null }, // WORK_IN_PROGRESS: not part of the assignment
      { applicantId: 'B4', passport: 'B0000004' },
    ]);
    expect(up.result.Records!.Record.map((r) => r.Status)).toEqual(['READY_TO_GO', 'READY_TO_GO', 'WORK_IN_PROGRESS', 'READY_TO_GO']);
    expect(up.result.Payment).toBeUndefined();

    const refused = await assignLater(s.db, L, { batch: 'BIG-1' }, { now: new Date(), settings });
    expect(refused).toEqual({
      kind: 'refused',
      message: `batch BIG-1 has 3 READY TO GO CAS but the unused allocation of ${L} is 2 (granted 2, used 0); nothing was assigned`,
    });
    expect(await allocation(L)).toEqual({ granted: 2, used: 0 });
    expect(await paymentsOf(L)).toEqual([]);
    expect((await s.db.select().from(cas).where(eq(cas.sponsorLicenceNumber, L))).every((c) => c.casNumber === null)).toBe(true);

    expect(await assignLater(s.db, L, { batch: 'NO-SUCH' }, { now: new Date(), settings })).toEqual({
      kind: 'not-found',
      what: `batch NO-SUCH of sponsor ${L}`,
    });

    await grantAllocation(s.db, L, 1, new Date());
    const now = new Date('2027-04-15T09:00:00Z');
    const done = await assignLater(s.db, L, { batch: 'BIG-1' }, { now, settings });
    if (done.kind !== 'done') throw new Error(JSON.stringify(done));
    const [b1, b2, b3, b4] = await Promise.all(['B1', 'B2', 'B3', 'B4'].map((a) => s.cas(L, a)));
    // In file order, each with a fresh valid CAS number, the expiry and one shared payment.
    expect(done.assigned.map((a) => a.id)).toEqual([b1!.id, b2!.id, b4!.id]);
    expect(done.assigned.every((a) => isValidCasNumber(a.casNumber) && a.casNumber.startsWith('E4G'))).toBe(true);
    expect(new Set(done.assigned.map((a) => a.casNumber)).size).toBe(3);
    expect(done.expiresOn).toBe(addMonths('2027-04-15', 6));
    expect(done.payment).toMatchObject({ casCount: 3, amountPence: 7500, currency: 'GBP' });
    for (const v of [b1!, b2!, b4!])
      expect(v).toMatchObject({ status: 'ASSIGNED', expiresAt: '2027-10-15', assignedAt: now.toISOString() });
    expect(b3!.status).toBe('WORK_IN_PROGRESS');
    const paid = await paymentsOf(L);
    expect(paid).toHaveLength(1);
    expect(paid[0]).toMatchObject({
      casCount: 3,
      amount: '75.00',
      reference: done.payment.reference,
      reason: 'assigned by cas-bdt assign (batch BIG-1)',
    });
    const rows = await s.db.select().from(cas).where(eq(cas.sponsorLicenceNumber, L));
    expect(rows.filter((r) => r.status === 'ASSIGNED').every((r) => r.paymentId === paid[0]!.id)).toBe(true);
    expect(await allocation(L)).toEqual({ granted: 3, used: 3 });
    expect((await s.history(b1!)).at(-1)).toEqual({
      from: 'READY_TO_GO',
      to: 'ASSIGNED',
      at: now.toISOString(),
      reason: 'assigned by cas-bdt assign (batch BIG-1)',
    });

    // Nothing left to assign in the batch; a WORK IN PROGRESS CAS cannot be assigned.
    expect(await assignLater(s.db, L, { batch: 'BIG-1' }, { now, settings })).toEqual({
      kind: 'refused',
      message: 'batch BIG-1 has no READY TO GO CAS to assign (it has 3 ASSIGNED, 1 WORK IN PROGRESS)',
    });
    expect(await assignLater(s.db, L, { id: b3!.id }, { now, settings })).toEqual({
      kind: 'refused',
      message: `CAS id ${b3!.id} cannot be assigned: it is WORK IN PROGRESS; only a CAS that is READY TO GO can be assigned`,
    });

    // One CAS by id: needs unused allocation, belongs to the sponsor, one payment of one.
    await s.upload(L, 'BIG-2', [{ applicantId: 'B5', passport: 'B0000005' }]);
    const b5 = await s.cas(L, 'B5');
    expect(await assignLater(s.db, L, { id: b5.id }, { now, settings })).toMatchObject({
      kind: 'refused',
      message: expect.stringContaining(`the unused allocation of ${L} is 0`),
    });
    const other = await s.sponsor(licenceFor('OTHR'));
    expect(await assignLater(s.db, other, { id: b5.id }, { now, settings })).toEqual({
      kind: 'not-found',
      what: `CAS id ${b5.id} of sponsor ${other}`,
    });
    await grantAllocation(s.db, L, 1, new Date());
    expect(await assignLater(s.db, L, { id: b5.id }, { now, settings })).toMatchObject({
      kind: 'done',
      payment: { casCount: 1, amountPence: 2500 },
    });
    expect(await paymentsOf(L)).toHaveLength(2);
    expect(await allocation(L)).toEqual({ granted: 4, used: 4 });

    // A suspended licence assigns nothing and cancels nothing.
    await s.upload(L, 'BIG-3', [{ applicantId: 'B6', passport: 'B0000006' }]);
    await grantAllocation(s.db, L, 1, new Date());
    expect(await changeLicenceStatus(s.db, L, { status: 'suspended' }, new Date())).toMatchObject({ kind: 'done', cancelled: [] });
    expect(await assignLater(s.db, L, { batch: 'BIG-3' }, { now, settings })).toEqual({
      kind: 'refused',
      message: `the sponsor licence ${L} is suspended; CAS can be assigned only while it is active`,
    });
    expect((await s.reload(b1!))!.status).toBe('ASSIGNED');
    expect(await allocation(L)).toEqual({ granted: 5, used: 4 });
  });

  it('revoked cancels every ASSIGNED CAS; a surrendered route cancels only its own; suspended blocks uploads without cancelling', async () => {
    const F = await s.sponsor(licenceFor('ROUT'), { routes: ['student', 'child'] });
    await s.upload(F, 'F-S', [
      { applicantId: 'S1', passport: 'S0000001' },
      { applicantId: 'S2', passport: 'S0000002' },
    ]);
    await s.upload(
      F,
      'F-C',
      [
        { applicantId: 'C1', passport: 'C0000001' },
        { applicantId: 'C2', passport: 'C0000002' },
      ],
      { route: 'child' },
    );
    const [s1, s2, c1, c2] = await Promise.all(['S1', 'S2', 'C1', 'C2'].map((a) => s.cas(F, a)));
    expect(c1!.casNumber!.startsWith('E4C')).toBe(true);
    await useCas(s.db, { casNumber: s1!.casNumber! }, isoDateUtc(new Date()), new Date());

    const surrendered = await changeLicenceStatus(s.db, F, { status: 'surrendered', route: 'child' }, new Date('2027-05-05T05:05:05Z'));
    expect(surrendered).toMatchObject({
      kind: 'done',
      cancelled: [c1!.casNumber, c2!.casNumber].sort(),
      sponsor: { status: 'active', routes: ['student'] },
    });
    expect((await s.reload(c1!))!.status).toBe('CANCELLED');
    expect((await s.history(c2!)).at(-1)).toEqual({
      from: 'ASSIGNED',
      to: 'CANCELLED',
      at: '2027-05-05T05:05:05.000Z',
      reason: 'route child surrendered (cas-bdt sponsor status)',
    });
    expect((await s.reload(s1!))!.status).toBe('USED');
    expect((await s.reload(s2!))!.status).toBe('ASSIGNED');
    expect(await changeLicenceStatus(s.db, F, { status: 'surrendered', route: 'child' }, new Date())).toEqual({
      kind: 'refused',
      message: `sponsor ${F} is not licensed for the child route`,
    });
    // Uploads on the surrendered route are refused, the other route still works.
    const child = await s.process(
      F,
      uploadBytes({ licence: F, fileId: 'F-C2', route: 'child', records: [casXml({ applicantId: 'C3' }, 'child')] }),
      'c2.xml',
    );
    expect(child.result.FileErrors!.Error.map((e) => e['@_code'])).toEqual(['E_ROUTE_NOT_LICENSED']);
    await s.upload(F, 'F-S2', [{ applicantId: 'S3', passport: 'S0000003' }]);

    // Suspended: uploads refused, nothing cancelled.
    expect(await changeLicenceStatus(s.db, F, { status: 'suspended' }, new Date())).toMatchObject({ kind: 'done', cancelled: [] });
    const blocked = await s.process(F, uploadBytes({ licence: F, fileId: 'F-S3', records: [casXml({ applicantId: 'S4' })] }), 's3.xml');
    expect(blocked.result.FileErrors!.Error.map((e) => e['@_code'])).toEqual(['E_LICENCE_NOT_ACTIVE']);
    expect((await s.reload(s2!))!.status).toBe('ASSIGNED');

    // Revoked: every ASSIGNED CAS of the sponsor, and only those.
    const s3 = await s.cas(F, 'S3');
    const revoked = await changeLicenceStatus(s.db, F, { status: 'revoked' }, new Date());
    expect(revoked).toMatchObject({ kind: 'done', cancelled: [s2!.casNumber, s3.casNumber].sort(), sponsor: { status: 'revoked' } });
    expect((await s.reload(s1!))!.status).toBe('USED');
    expect((await s.history(s2!)).at(-1)).toMatchObject({
      from: 'ASSIGNED',
      to: 'CANCELLED',
      reason: 'licence revoked (cas-bdt sponsor status)',
    });
    // Reactivating does not bring cancelled CAS back; a cancelled CAS is final.
    await changeLicenceStatus(s.db, F, { status: 'active' }, new Date());
    expect((await s.reload(s2!))!.status).toBe('CANCELLED');
    expect(await withdrawCas(s.db, { casNumber: s2!.casNumber! }, new Date())).toMatchObject({
      kind: 'refused',
      message: expect.stringContaining('it is CANCELLED'),
    });
  });

  it('an expired or surrendered licence cancels the ASSIGNED CAS too', async () => {
    for (const status of ['expired', 'surrendered'] as const) {
      const K = await s.sponsor(licenceFor(status));
      await s.upload(K, `K-${status}`, [{ applicantId: 'K1', passport: 'K0000001' }]);
      const k1 = await s.cas(K, 'K1');
      expect(await changeLicenceStatus(s.db, K, { status }, new Date())).toMatchObject({
        kind: 'done',
        cancelled: [k1.casNumber],
        sponsor: { status },
      });
      expect((await s.history(k1)).at(-1)).toMatchObject({
        from: 'ASSIGNED',
        to: 'CANCELLED',
        reason: `licence ${status} (cas-bdt sponsor status)`,
      });
    }
  });

  it("graduate reports: own USED CAS only, another sponsor's CAS is not found, re-reports change nothing", async () => {
    const H = await s.sponsor(licenceFor('GRAH'));
    const I = await s.sponsor(licenceFor('GRAI'));
    await s.upload(H, 'H-1', [
      { applicantId: 'G1', passport: 'G0000001' },
      { applicantId: 'G2', passport: 'G0000002' },
      { applicantId: 'G3', passport: 'G0000003' },
    ]);
    await s.upload(I, 'I-1', [{ applicantId: 'I1', passport: 'I0000001' }]);
    const [g1, g2, g3] = await Promise.all(['G1', 'G2', 'G3'].map((a) => s.cas(H, a)));
    const i1 = await s.cas(I, 'I1');
    const today = isoDateUtc(new Date());
    await useCas(s.db, { casNumber: g1!.casNumber! }, today, new Date());
    await withdrawCas(s.db, { casNumber: g3!.casNumber! }, new Date());
    await useCas(s.db, { casNumber: i1.casNumber! }, today, new Date());
    let unknown: string;
    do unknown = generateCasNumber('student', (n) => Math.floor(Math.random() * n));
    while ([g1, g2, g3, i1].some((v) => v!.casNumber === unknown));

    const first = await s.process(
      H,
      graduateBytes('GRAD-H-1', [g1!.casNumber!, g2!.casNumber!, g3!.casNumber!, i1.casNumber!, unknown]),
      'grad1.xml',
      new Date('2028-07-01T10:00:00Z'),
    );
    expect(first.result.Outcome).toBe('ACCEPTED');
    const recs = first.result.Records!.Record;
    expect(recs.map((r) => [r.Outcome, issueCodes(r)])).toEqual([
      ['REPORTED', []],
      ['REJECTED', ['E_CAS_STATUS']],
      ['REJECTED', ['E_CAS_STATUS']],
      ['REJECTED', ['E_CAS_NOT_FOUND']],
      ['REJECTED', ['E_CAS_NOT_FOUND']],
    ]);
    // Another sponsor's CAS reads exactly like a number that does not exist.
    expect(recs[3]!.Issue![0]!['#text'].replace(i1.casNumber!, 'N')).toBe(recs[4]!.Issue![0]!['#text'].replace(unknown, 'N'));
    expect((await s.reload(g1!))!.graduatedAt).toBe('2028-07-01');
    expect((await s.reload(i1))!.graduatedAt).toBeNull();
    expect((await s.reload(g2!))!.graduatedAt).toBeNull();

    const again = await s.process(H, graduateBytes('GRAD-H-2', [g1!.casNumber!]), 'grad2.xml', new Date('2028-08-01T10:00:00Z'));
    expect(again.result.Records!.Record.map((r) => [r.Outcome, issueCodes(r)])).toEqual([['REPORTED', ['W_ALREADY_REPORTED']]]);
    expect((await s.reload(g1!))!.graduatedAt).toBe('2028-07-01');

    const own = await s.process(I, graduateBytes('GRAD-I-1', [i1.casNumber!]), 'grad3.xml', new Date('2028-09-01T10:00:00Z'));
    expect(own.result.Records!.Record.map((r) => r.Outcome)).toEqual(['REPORTED']);
    expect((await s.reload(i1))!.graduatedAt).toBe('2028-09-01');
  });
});
