/**
 * Races, on both stores. On PostgreSQL every operation runs on its own connection, from
 * two store handles, so they truly overlap; PGlite has one connection and serialises
 * them, which must give the same guarantees.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { and, eq, inArray, ne } from 'drizzle-orm';
import { assignLater } from '../../src/ops/assign.ts';
import { type Db, type Store } from '../../src/db/client.ts';
import { expireDue } from '../../src/ops/expire.ts';
import { cas, casEvents, payments } from '../../src/db/schema.ts';
import { getSponsor, grantAllocation } from '../../src/db/sponsors.ts';
import { useCas } from '../../src/ops/use.ts';
import { withdrawCas } from '../../src/ops/withdraw.ts';
import { casXml, uploadBytes } from '../helpers/bdt.ts';
import { licenceFor, Scenario } from '../helpers/lifecycle.ts';
import { suiteStore } from '../helpers/fixture.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

const settings = { feePence: 2500, validityMonths: 6 };

describe.each(STORE_KINDS)('lifecycle races on %s', (kind) => {
  const t = suiteStore(kind);
  let s: Scenario;
  let second: Store | undefined;
  /** Two handles: on PostgreSQL two pools, on PGlite the same one. */
  let dbs: [Db, Db];

  beforeAll(async () => {
    s = new Scenario(t.store);
    if (kind === 'postgres') second = await t.another();
    dbs = [t.store.db, (second ?? t.store).db];
  });

  /** Events after assignment, i.e. the changes the racing operations made. */
  const laterEvents = (ids: number[]) =>
    s.db
      .select()
      .from(casEvents)
      .where(and(inArray(casEvents.casId, ids), ne(casEvents.toStatus, 'READY_TO_GO'), ne(casEvents.toStatus, 'ASSIGNED')));

  it('use and withdraw at once on the same CAS: one wins, the other is refused, one event', async () => {
    const L = await s.sponsor(licenceFor('RACE'));
    const n = 8;
    await s.upload(
      L,
      'RACE-1',
      Array.from({ length: n }, (_, i) => ({ applicantId: `R${i}`, passport: `R${String(i).padStart(7, '0')}` })),
    );
    const all = await Promise.all(Array.from({ length: n }, (_, i) => s.cas(L, `R${i}`)));
    const today = new Date().toISOString().slice(0, 10);
    const settled = await Promise.allSettled(
      all.flatMap((v, i) => {
        // Alternate which one starts first and which handle each uses.
        const use = () => useCas(dbs[i % 2]!, { casNumber: v.casNumber! }, today, new Date());
        const withdraw = () => withdrawCas(dbs[(i + 1) % 2]!, { casNumber: v.casNumber! }, new Date());
        return i % 2 ? [use(), withdraw()] : [withdraw(), use()];
      }),
    );
    const outcomes = settled.map((r) => (r.status === 'fulfilled' ? r.value : { kind: 'error', error: String(r.reason) }));
    const events = await laterEvents(all.map((v) => v.id));
    for (const [i, v] of all.entries()) {
      const pair = outcomes.slice(2 * i, 2 * i + 2);
      expect(pair.map((o) => o.kind).sort()).toEqual(['done', 'refused']);
      const row = (await s.reload(v))!;
      expect(['USED', 'WITHDRAWN']).toContain(row.status);
      const loser = pair.find((o) => o.kind === 'refused') as { message: string };
      expect(loser.message).toContain(`it is ${row.status}`);
      const mine = events.filter((e) => e.casId === v.id);
      expect(mine.map((e) => [e.fromStatus, e.toStatus])).toEqual([['ASSIGNED', row.status]]);
    }
  });

  it("two uses at once of one person's overlapping CAS at two sponsors: one USED, the other OBSOLETE and its use refused", async () => {
    const A = await s.sponsor(licenceFor('RACA'));
    const B = await s.sponsor(licenceFor('RACB'));
    const people = Array.from({ length: 4 }, (_, i) => ({ applicantId: `P${i}`, passport: `PP${String(i).padStart(6, '0')}` }));
    await s.upload(
      A,
      'RA-1',
      people.map((p) => ({ ...p, courseStart: '2027-09-20', courseEnd: '2028-06-30' })),
    );
    await s.upload(
      B,
      'RB-1',
      people.map((p) => ({ ...p, courseStart: '2028-01-10', courseEnd: '2029-06-30' })),
    );
    const pairs = await Promise.all(people.map(async (p) => [await s.cas(A, p.applicantId), await s.cas(B, p.applicantId)] as const));
    const today = new Date().toISOString().slice(0, 10);
    const settled = await Promise.allSettled(
      pairs.flatMap(([a, b]) => [
        useCas(dbs[0], { casNumber: a.casNumber! }, today, new Date()),
        useCas(dbs[1], { casNumber: b.casNumber! }, today, new Date()),
      ]),
    );
    const events = await laterEvents(pairs.flatMap(([a, b]) => [a.id, b.id]));
    for (const [i, [a, b]] of pairs.entries()) {
      const [ra, rb] = [settled[2 * i]!, settled[2 * i + 1]!].map((r) =>
        r.status === 'fulfilled' ? r.value : { kind: 'error', error: String(r.reason) },
      );
      expect([ra!.kind, rb!.kind].sort()).toEqual(['done', 'refused']);
      const statuses = [(await s.reload(a))!.status, (await s.reload(b))!.status];
      expect([...statuses].sort()).toEqual(['OBSOLETE', 'USED']);
      const loser = (ra!.kind === 'refused' ? ra : rb) as { message: string };
      expect(loser.message).toContain('it is OBSOLETE');
      for (const v of [a, b]) expect(events.filter((e) => e.casId === v.id)).toHaveLength(1);
    }
  });

  it('an expiry sweep racing a use made in time: the CAS ends USED either way', async () => {
    const L = await s.sponsor(licenceFor('RACX'));
    // Expiry 2019-07-10: older than every other CAS in the store, so only these are swept.
    await s.upload(
      L,
      'RX-1',
      Array.from({ length: 4 }, (_, i) => ({ applicantId: `X${i}`, passport: `XX${String(i).padStart(6, '0')}` })),
      {
        now: new Date('2019-01-10T12:00:00Z'),
      },
    );
    const all = await Promise.all(Array.from({ length: 4 }, (_, i) => s.cas(L, `X${i}`)));
    const settled = await Promise.allSettled([
      expireDue(dbs[0], '2019-07-11', new Date()),
      ...all.map((v, i) => useCas(dbs[i % 2]!, { casNumber: v.casNumber! }, '2019-07-10', new Date())),
    ]);
    expect(settled.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    const events = await laterEvents(all.map((v) => v.id));
    for (const v of all) {
      expect((await s.reload(v))!.status).toBe('USED');
      const path = events.filter((e) => e.casId === v.id).map((e) => `${e.fromStatus}>${e.toStatus}`);
      expect([['ASSIGNED>USED'], ['ASSIGNED>EXPIRED', 'EXPIRED>USED']]).toContainEqual(path);
    }
  });

  it('concurrent assignments never overspend the allocation', async () => {
    const L = await s.sponsor(licenceFor('RACS'), { allocation: 5, autoAssign: false });
    await s.upload(
      L,
      'RS-1',
      Array.from({ length: 10 }, (_, i) => ({ applicantId: `S${i}`, passport: `SS${String(i).padStart(6, '0')}` })),
    );
    const ids = (await s.db.select({ id: cas.id }).from(cas).where(eq(cas.sponsorLicenceNumber, L))).map((r) => r.id);
    const byId = await Promise.allSettled(ids.map((id, i) => assignLater(dbs[i % 2]!, L, { id }, { now: new Date(), settings })));
    const kinds = byId.map((r) => (r.status === 'fulfilled' ? r.value.kind : `error ${String(r.reason)}`));
    expect(kinds.filter((k) => k === 'done')).toHaveLength(5);
    expect(kinds.filter((k) => k === 'refused')).toHaveLength(5);
    const sp = (await getSponsor(s.db, L))!;
    expect([sp.allocationGranted, sp.allocationUsed]).toEqual([5, 5]);
    expect(await s.db.select().from(payments).where(eq(payments.sponsorLicenceNumber, L))).toHaveLength(5);
    expect(
      await s.db
        .select()
        .from(cas)
        .where(and(eq(cas.sponsorLicenceNumber, L), eq(cas.status, 'ASSIGNED'))),
    ).toHaveLength(5);

    // Two batches that each fit the allocation, but not together: exactly one is assigned.
    const M = await s.sponsor(licenceFor('RACM'), { allocation: 4, autoAssign: false });
    await s.upload(
      M,
      'RM-1',
      Array.from({ length: 3 }, (_, i) => ({ applicantId: `M${i}`, passport: `MA${String(i).padStart(6, '0')}` })),
    );
    await s.upload(
      M,
      'RM-2',
      Array.from({ length: 3 }, (_, i) => ({ applicantId: `N${i}`, passport: `MB${String(i).padStart(6, '0')}` })),
    );
    const batches = await Promise.allSettled([
      assignLater(dbs[0], M, { batch: 'RM-1' }, { now: new Date(), settings }),
      assignLater(dbs[1], M, { batch: 'RM-2' }, { now: new Date(), settings }),
    ]);
    const bk = batches.map((r) => (r.status === 'fulfilled' ? r.value : { kind: `error ${String(r.reason)}` }));
    expect(bk.map((o) => o.kind).sort()).toEqual(['done', 'refused']);
    expect((bk.find((o) => o.kind === 'refused') as { message: string }).message).toContain(
      'has 3 READY TO GO CAS but the unused allocation of',
    );
    expect((await getSponsor(s.db, M))!.allocationUsed).toBe(3);
  });

  it('an upload auto-assigning while `assign` runs for the same sponsor: never more than the allocation', async () => {
    const L = await s.sponsor(licenceFor('RACU'), { allocation: 0 });
    // READY_TO_GO left over for lack of allocation, then allocation for only some of everything.
    await s.upload(
      L,
      'RU-1',
      [0, 1].map((i) => ({ applicantId: `U${i}`, passport: `UU${String(i).padStart(6, '0')}` })),
    );
    await grantAllocation(s.db, L, 3, new Date());
    const file = uploadBytes({
      licence: L,
      fileId: 'RU-2',
      records: [2, 3].map((i) => casXml({ applicantId: `U${i}`, passport: `UU${String(i).padStart(6, '0')}` })),
    });
    const [assigned, uploaded] = await Promise.allSettled([
      assignLater(dbs[0], L, { batch: 'RU-1' }, { now: new Date(), settings }),
      s.process(L, file, 'ru-2.xml'),
    ]);
    expect(assigned.status).toBe('fulfilled');
    expect(uploaded.status).toBe('fulfilled');
    const sp = (await getSponsor(s.db, L))!;
    const live = await s.db
      .select()
      .from(cas)
      .where(and(eq(cas.sponsorLicenceNumber, L), eq(cas.status, 'ASSIGNED')));
    expect(sp.allocationUsed).toBe(live.length);
    expect(sp.allocationUsed).toBeLessThanOrEqual(3);
    // Whichever went first took what it needed; the other got the rest or nothing.
    expect([3, 2]).toContain(sp.allocationUsed);
  });
});
