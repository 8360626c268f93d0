/**
 * The CAS lifecycle after upload on both stores: use and the OBSOLETE rule across
 * sponsors, expiry and late use, withdrawal, deletion, refused transitions and history.
 * CAS are created by the real pipeline.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { and, eq } from 'drizzle-orm';
import { listCas } from '../../src/db/cas-query.ts';
import { DELETED_EVENT } from '../../src/db/cas-events.ts';
import { deleteCas } from '../../src/ops/delete.ts';
import { expireDue } from '../../src/ops/expire.ts';
import { cas, casEvents } from '../../src/db/schema.ts';
import { grantAllocation } from '../../src/db/sponsors.ts';
import { useCas } from '../../src/ops/use.ts';
import { withdrawCas } from '../../src/ops/withdraw.ts';
import { licenceFor, Scenario } from '../helpers/lifecycle.ts';
import { suiteStore } from '../helpers/fixture.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

const at = (iso: string) => new Date(iso);

describe.each(STORE_KINDS)('CAS lifecycle on %s', (kind) => {
  const t = suiteStore(kind);
  let s: Scenario;

  beforeAll(async () => {
    s = new Scenario(t.store);
  });

  it("use makes the same person's overlapping ASSIGNED CAS at another sponsor OBSOLETE, and leaves consecutive courses and other people alone", async () => {
    const A = await s.sponsor(licenceFor('UNIA'));
    const B = await s.sponsor(licenceFor('UNIB'));
    const person = { passport: 'P77000001', nationality: 'NGA' };
    const assigned = at('2027-03-01T10:00:00Z'); // expiry 2027-09-01
    await s.upload(
      A,
      'A-2027',
      [
        { ...person, applicantId: 'PA', courseId: 'MSC-1', courseStart: '2027-09-20', courseEnd: '2028-06-30' },
        // Consecutive: starts the day the first one ends.
        { ...person, applicantId: 'PA', courseId: 'PHD-1', courseStart: '2028-06-30', courseEnd: '2031-06-30' },
      ],
      { now: assigned },
    );
    await s.upload(
      B,
      'B-2027',
      [
        { ...person, applicantId: 'PB', courseStart: '2027-10-01', courseEnd: '2028-09-30' },
        { ...person, applicantId: 'PB2', courseStart: '2027-11-01', courseEnd: '2028-03-01' },
        { passport: 'P77000001', nationality: 'GHA', applicantId: 'QB', courseStart: '2027-10-01', courseEnd: '2028-09-30' },
        { passport: 'P77000002', nationality: 'NGA', applicantId: 'RB', courseStart: '2027-10-01', courseEnd: '2028-09-30' },
      ],
      { now: assigned },
    );
    const a1 = await s.cas(A, 'PA', '2027-09-20');
    const a2 = await s.cas(A, 'PA', '2028-06-30');
    const [b1, b2, q, r] = await Promise.all(['PB', 'PB2', 'QB', 'RB'].map((id) => s.cas(B, id)));
    for (const v of [a1, a2, b1!, b2!, q!, r!]) expect(v.status).toBe('ASSIGNED');

    // A withdrawn CAS is not live any more: it stays WITHDRAWN.
    expect(await withdrawCas(s.db, { casNumber: b2!.casNumber! }, at('2027-05-01T09:00:00Z'))).toMatchObject({ kind: 'done' });

    const used = await useCas(s.db, { casNumber: a1.casNumber! }, '2027-08-15', at('2027-08-16T08:30:00Z'));
    expect(used).toEqual({
      kind: 'done',
      id: a1.id,
      casNumber: a1.casNumber,
      from: 'ASSIGNED',
      usedOn: '2027-08-15',
      obsoleted: [{ id: b1!.id, casNumber: b1!.casNumber, sponsorLicenceNumber: B }],
    });
    const after = async (v: { id: number }) => (await s.reload(v))!;
    expect(await after(a1)).toMatchObject({ status: 'USED', usedAt: '2027-08-15' });
    expect((await after(a2)).status).toBe('ASSIGNED');
    expect((await after(b1!)).status).toBe('OBSOLETE');
    expect((await after(b2!)).status).toBe('WITHDRAWN');
    expect((await after(q!)).status).toBe('ASSIGNED');
    expect((await after(r!)).status).toBe('ASSIGNED');

    // History: every transition with from, to, time and reason.
    expect(await s.history(a1)).toEqual([
      { from: null, to: 'READY_TO_GO', at: assigned.toISOString(), reason: expect.stringMatching(/^created by submission \d+$/) },
      { from: 'READY_TO_GO', to: 'ASSIGNED', at: assigned.toISOString(), reason: expect.stringMatching(/^assigned by submission \d+$/) },
      { from: 'ASSIGNED', to: 'USED', at: '2027-08-16T08:30:00.000Z', reason: 'visa application of 2027-08-15 (cas-bdt cas use)' },
    ]);
    expect((await s.history(b1!)).at(-1)).toEqual({
      from: 'ASSIGNED',
      to: 'OBSOLETE',
      at: '2027-08-16T08:30:00.000Z',
      reason: `CAS ${a1.casNumber} of the same person was used for an overlapping course`,
    });

    // The consecutive course's CAS can still be used; nothing overlaps it any more.
    const second = await useCas(s.db, { casNumber: a2.casNumber! }, '2027-08-20', at('2027-08-20T10:00:00Z'));
    expect(second).toMatchObject({ kind: 'done', from: 'ASSIGNED', obsoleted: [] });

    // OBSOLETE and USED are final: refused with a clear message, nothing changes.
    const before = await s.snapshot(b1!);
    expect(await useCas(s.db, { casNumber: b1!.casNumber! }, '2027-08-20', new Date())).toEqual({
      kind: 'refused',
      message: `CAS ${b1!.casNumber} cannot be used: it is OBSOLETE; only a CAS that is ASSIGNED or EXPIRED can be used`,
    });
    expect(await withdrawCas(s.db, { casNumber: b1!.casNumber! }, new Date())).toMatchObject({
      kind: 'refused',
      message: expect.stringContaining('it is OBSOLETE'),
    });
    expect(await s.snapshot(b1!)).toEqual(before);
    expect(await useCas(s.db, { casNumber: a1.casNumber! }, '2027-08-20', new Date())).toMatchObject({
      kind: 'refused',
      message: expect.stringContaining('it is USED'),
    });
    expect(await useCas(s.db, { casNumber: 'E4G0AA0A00A0A0' }, '2027-08-20', new Date())).toEqual({ kind: 'not-found' });
  });

  it('expires CAS the day after their expiry date; a late application counts only if made on or before it', async () => {
    const E = await s.sponsor(licenceFor('EXPR'));
    // Dates well before every other test's, so the store-wide sweep touches only these.
    await s.upload(
      E,
      'E-1',
      [
        { applicantId: 'E1', passport: 'E0000001' },
        { applicantId: 'E2', passport: 'E0000002' },
      ],
      { now: at('2020-01-10T12:00:00Z') },
    );
    await s.upload(E, 'E-2', [{ applicantId: 'E3', passport: 'E0000003' }], { now: at('2020-03-01T12:00:00Z') });
    const [e1, e2, e3] = await Promise.all(['E1', 'E2', 'E3'].map((id) => s.cas(E, id)));
    expect([e1!.expiresAt, e2!.expiresAt, e3!.expiresAt]).toEqual(['2020-07-10', '2020-07-10', '2020-09-01']);

    // Still valid on the expiry date itself.
    expect(await expireDue(s.db, '2020-07-10', at('2020-07-10T01:00:00Z'))).toEqual([]);
    const swept = at('2020-07-11T01:00:00Z');
    expect(await expireDue(s.db, '2020-07-11', swept)).toEqual([e1!.casNumber, e2!.casNumber].sort());
    expect(await expireDue(s.db, '2020-07-11', swept)).toEqual([]);
    expect((await s.reload(e1!))!.status).toBe('EXPIRED');
    expect((await s.reload(e3!))!.status).toBe('ASSIGNED');
    expect((await s.history(e1!)).at(-1)).toEqual({
      from: 'ASSIGNED',
      to: 'EXPIRED',
      at: swept.toISOString(),
      reason: 'expiry sweep as of 2020-07-11',
    });

    // An application made on the expiry date, considered later: EXPIRED -> USED.
    expect(await useCas(s.db, { casNumber: e1!.casNumber! }, '2020-07-10', at('2020-08-01T00:00:00Z'))).toMatchObject({
      kind: 'done',
      from: 'EXPIRED',
    });
    expect(await s.reload(e1!)).toMatchObject({ status: 'USED', usedAt: '2020-07-10' });
    expect((await s.history(e1!)).at(-1)).toMatchObject({ from: 'EXPIRED', to: 'USED' });

    // One made the day after: refused, whether the sweep has run (EXPIRED) or not (ASSIGNED).
    const e2Before = await s.snapshot(e2!);
    expect(await useCas(s.db, { casNumber: e2!.casNumber! }, '2020-07-11', new Date())).toEqual({
      kind: 'refused',
      message: `CAS ${e2!.casNumber} cannot be used: the application date is after the expiry date (application 2020-07-11, expiry 2020-07-10)`,
    });
    expect(await s.snapshot(e2!)).toEqual(e2Before);
    const e3Before = await s.snapshot(e3!);
    expect(await useCas(s.db, { casNumber: e3!.casNumber! }, '2020-09-02', new Date())).toMatchObject({
      kind: 'refused',
      message: expect.stringContaining('the application date is after the expiry date'),
    });
    expect(await s.snapshot(e3!)).toEqual(e3Before);
    expect(await useCas(s.db, { casNumber: e3!.casNumber! }, '2020-09-01', new Date())).toMatchObject({ kind: 'done', from: 'ASSIGNED' });
  });

  it('withdraws ASSIGNED CAS only, deletes unassigned ones only, and a deleted CAS frees its key for a new upload', async () => {
    const D = await s.sponsor(licenceFor('DELE'), { allocation: 1 });
    await s.upload(D, 'D-1', [
      { applicantId: 'W1', passport: 'W0000001' }, // assigned (allocation 1)
      { applicantId: 'W2', passport: 'W0000002' }, // READY_TO_GO, no allocation left
      { applicantId: 'W3', passport: 'W0000003', evidence: null }, // WORK_IN_PROGRESS
    ]);
    const [w1, w2, w3] = await Promise.all(['W1', 'W2', 'W3'].map((id) => s.cas(D, id)));
    expect([w1!.status, w2!.status, w3!.status]).toEqual(['ASSIGNED', 'READY_TO_GO', 'WORK_IN_PROGRESS']);

    expect(await withdrawCas(s.db, { casNumber: w1!.casNumber! }, new Date())).toEqual({
      kind: 'done',
      id: w1!.id,
      casNumber: w1!.casNumber,
    });
    expect((await s.history(w1!)).at(-1)).toMatchObject({
      from: 'ASSIGNED',
      to: 'WITHDRAWN',
      reason: 'withdrawn by the sponsor (cas-bdt cas withdraw)',
    });

    // Refusals change nothing at all.
    const refused = async (v: { id: number }, op: () => Promise<unknown>, message: string) => {
      const before = await s.snapshot(v);
      expect(await op()).toEqual({ kind: 'refused', message });
      expect(await s.snapshot(v)).toEqual(before);
    };
    await refused(
      w1!,
      () => withdrawCas(s.db, { casNumber: w1!.casNumber! }, new Date()),
      `CAS ${w1!.casNumber} cannot be withdrawn: it is WITHDRAWN; only a CAS that is ASSIGNED can be withdrawn`,
    );
    await refused(
      w2!,
      () => withdrawCas(s.db, { id: w2!.id }, new Date()),
      `CAS id ${w2!.id} cannot be withdrawn: it is READY TO GO; only a CAS that is ASSIGNED can be withdrawn`,
    );
    await refused(
      w1!,
      () => useCas(s.db, { casNumber: w1!.casNumber! }, '2000-01-01', new Date()),
      `CAS ${w1!.casNumber} cannot be used: it is WITHDRAWN; only a CAS that is ASSIGNED or EXPIRED can be used`,
    );
    await refused(
      w1!,
      () => deleteCas(s.db, { id: w1!.id }, new Date()),
      `CAS id ${w1!.id} cannot be deleted: it is WITHDRAWN; only a CAS that is WORK IN PROGRESS or READY TO GO can be deleted (a CAS that was ever assigned is never deleted)`,
    );

    const deletedAt = at('2027-02-02T02:02:02Z');
    expect(await deleteCas(s.db, { id: w2!.id }, deletedAt)).toEqual({
      kind: 'done',
      id: w2!.id,
      from: 'READY_TO_GO',
      sponsorLicenceNumber: D,
    });
    expect(await deleteCas(s.db, { id: w3!.id }, deletedAt)).toMatchObject({ kind: 'done', from: 'WORK_IN_PROGRESS' });
    expect(await deleteCas(s.db, { id: w2!.id }, deletedAt)).toEqual({ kind: 'not-found' });
    expect((await listCas(s.db, { licence: D })).map((v) => v.applicantId)).toEqual(['W1']);
    expect(await s.reload(w2!)).toBeUndefined();
    // The audit trail survives the row: creation, then deletion.
    const trail = await s.db.select().from(casEvents).where(eq(casEvents.casId, w2!.id)).orderBy(casEvents.id);
    expect(trail.map((e) => [e.fromStatus, e.toStatus])).toEqual([
      [null, 'READY_TO_GO'],
      ['READY_TO_GO', DELETED_EVENT],
    ]);
    expect(trail.at(-1)).toMatchObject({ at: deletedAt, reason: 'deleted by the sponsor (cas-bdt cas delete)' });

    // The same record uploaded again is a new CAS (CREATED, not AMENDED), assigned once allocation allows.
    await grantAllocation(s.db, D, 1, new Date());
    const again = await s.upload(D, 'D-2', [{ applicantId: 'W2', passport: 'W0000002' }]);
    expect(again.result.Records!.Record[0]).toMatchObject({ Outcome: 'CREATED', Status: 'ASSIGNED' });
    const w2b = await s.cas(D, 'W2');
    expect(w2b.id).not.toBe(w2!.id);
    expect(
      await s.db
        .select()
        .from(cas)
        .where(and(eq(cas.sponsorLicenceNumber, D), eq(cas.applicantId, 'W3'))),
    ).toEqual([]);
  });
});
