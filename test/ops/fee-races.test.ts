/**
 * A fee update racing a withdraw or a use of the same CAS, on PostgreSQL with two
 * connections (two store handles): it ends in one order or the other, never half. Both
 * orders are forced (one side holds the CAS's row while the other is seen waiting for it),
 * then many at once, fee update files and `cas fees` alike, each CAS's history checked
 * to be a possible sequence.
 */
import { asc, inArray, sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { listCas, type CasView } from '../../src/db/cas-query.ts';
import { type Db } from '../../src/db/client.ts';
import { changeStatus, refWhere } from '../../src/db/lifecycle.ts';
import { casEvents } from '../../src/db/schema.ts';
import { rowsOf } from '../../src/db/sql-util.ts';
import { useCas } from '../../src/ops/use.ts';
import { withdrawCas } from '../../src/ops/withdraw.ts';
import type { CasStatus } from '../../src/domain/types.ts';
import { setFees } from '../../src/ops/fees.ts';
import { updateBytes } from '../helpers/bdt.ts';
import { licenceFor, Scenario } from '../helpers/lifecycle.ts';
import { issueCodes } from '../helpers/pipeline.ts';
import { suiteStore } from '../helpers/fixture.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { waitFor } from '../helpers/wait.ts';

const onPostgres = STORE_KINDS.includes('postgres');

/** A promise and its resolver: one side of a race waits on it. */
function gate(): { open: () => void; opened: Promise<void> } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe.skipIf(!onPostgres)('fee updates racing withdraw and use on postgres', () => {
  const t = suiteStore('postgres');
  let s: Scenario;
  let other: Db;

  beforeAll(async () => {
    s = new Scenario(t.store);
    other = (await t.another()).db;
  });

  /** True once some session of this database waits for a row lock. */
  const someoneWaits = async () => {
    const rows = await rowsOf<{ n: number }>(
      s.db,
      sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
    );
    return Number(rows[0]?.n) > 0;
  };

  async function assigned(L: string, prefix: string, n: number): Promise<CasView[]> {
    await s.upload(
      L,
      `${prefix}-UP`,
      Array.from({ length: n }, (_, i) => ({ applicantId: `${prefix}${i}`, passport: `${prefix}${String(i).padStart(6, '0')}` })),
    );
    return listCas(s.db, { licence: L });
  }

  const events = async (ids: number[]) => s.db.select().from(casEvents).where(inArray(casEvents.casId, ids)).orderBy(asc(casEvents.id));

  it('a withdraw that holds the CAS first: the update waits, then finds it WITHDRAWN and changes nothing', async () => {
    const L = await s.sponsor(licenceFor('RWF'));
    const [v] = await assigned(L, 'WF', 1);
    const held = gate();
    const holds = gate();
    const withdrawing = other.transaction(async (tx) => {
      await changeStatus(tx, refWhere({ casNumber: v!.casNumber! }), 'withdraw', { now: new Date(), reason: 'withdrawn (race test)' });
      holds.open();
      await held.opened;
    });
    // The update starts only once the withdraw holds the row (its connection may still be opening).
    await Promise.race([holds.opened, withdrawing]);
    const updating = s.h.run(
      updateBytes({ licence: L, fileId: 'RWF-1', records: [{ casNumber: v!.casNumber!, coursePaid: '100.00' }] }),
      'rwf.xml',
      L,
    );
    await waitFor(someoneWaits, { what: 'the fee update to wait for the withdraw' });
    held.open();
    await withdrawing;
    const run = await updating;
    expect(run.result.Records!.Record.map((r) => [r.Outcome, issueCodes(r)])).toEqual([['REJECTED', ['E_CAS_STATUS']]]);
    const [after] = await listCas(s.db, { licence: L });
    expect(after!.status).toBe('WITHDRAWN');
    expect(after!.fees.courseFeesPaidToDate).toBeNull();
    expect((await events([v!.id])).map((e) => e.kind)).not.toContain('FEES_UPDATED');
  });

  it('an update that holds the CAS first: the withdraw waits, then withdraws the CAS with its new fees', async () => {
    const L = await s.sponsor(licenceFor('RFW'));
    const [v] = await assigned(L, 'FW', 1);
    const held = gate();
    const stored = gate();
    const updating = s.h.run(
      updateBytes({ licence: L, fileId: 'RFW-1', records: [{ casNumber: v!.casNumber!, coursePaid: '100.00' }] }),
      'rfw.xml',
      L,
      {
        onStored: async () => {
          stored.open();
          await held.opened;
        },
      },
    );
    await stored.opened;
    const withdrawing = withdrawCas(other, { casNumber: v!.casNumber! }, new Date());
    await waitFor(someoneWaits, { what: 'the withdraw to wait for the fee update' });
    held.open();
    const run = await updating;
    expect((await withdrawing).kind).toBe('done');
    expect(run.result.Records!.Record[0]!.Outcome).toBe('UPDATED');
    const [after] = await listCas(s.db, { licence: L });
    expect(after!.status).toBe('WITHDRAWN');
    expect(after!.fees.courseFeesPaidToDate).toBe('100.00');
    expect((await events([v!.id])).slice(-2).map((e) => [e.kind, e.fromStatus, e.toStatus])).toEqual([
      ['FEES_UPDATED', 'ASSIGNED', 'ASSIGNED'],
      ['STATUS_CHANGED', 'ASSIGNED', 'WITHDRAWN'],
    ]);
  });

  it('many at once: files and cas fees against withdraws and uses, every history a possible sequence', async () => {
    const L = await s.sponsor(licenceFor('RMX'));
    const n = 24;
    const all = await assigned(L, 'MX', n);
    const today = new Date().toISOString().slice(0, 10);
    const file = (k: number) =>
      updateBytes({
        licence: L,
        fileId: `RMX-${k}`,
        records: all.map((c, i) => ({ casNumber: c.casNumber!, coursePaid: `${k * 100 + i}.00` })),
      });
    const dbs = [s.db, other];
    const settled = await Promise.allSettled([
      s.h.run(file(1), 'rmx-1.xml', L),
      ...all.map((c, i) =>
        i % 3 === 0
          ? withdrawCas(dbs[i % 2]!, { casNumber: c.casNumber! }, new Date())
          : i % 3 === 1
            ? useCas(dbs[i % 2]!, { casNumber: c.casNumber! }, today, new Date())
            : setFees(dbs[i % 2]!, c.casNumber!, { coursePaid: 99_900 + i }, new Date()),
      ),
      s.h.run(file(2), 'rmx-2.xml', L, { db: other }),
    ]);
    expect(settled.filter((r) => r.status === 'rejected')).toEqual([]);

    const byCas = new Map<number, (typeof casEvents.$inferSelect)[]>();
    for (const e of await events(all.map((c) => c.id))) byCas.set(e.casId, [...(byCas.get(e.casId) ?? []), e]);
    const final = new Map((await listCas(s.db, { licence: L })).map((c) => [c.id, c]));
    for (const c of all) {
      // Replay the history: every fee event happened on a live CAS in the status it then had.
      let status: CasStatus | null = null;
      let lastFees: unknown = null;
      for (const e of byCas.get(c.id) ?? []) {
        expect(e.fromStatus, `CAS ${c.casNumber} event ${e.id}`).toBe(status);
        if (e.kind === 'FEES_UPDATED') {
          expect(['ASSIGNED', 'USED']).toContain(status);
          expect(e.toStatus).toBe(status);
          lastFees = (e.details as { after: unknown }).after;
        }
        status = e.toStatus as CasStatus;
      }
      const now = final.get(c.id)!;
      expect(now.status).toBe(status);
      if (lastFees) expect(now.fees.courseFeesPaidToDate).toBe(((lastFees as { coursePaid: number }).coursePaid / 100).toFixed(2));
    }
    // Each file's record outcome agrees with the history: UPDATED records left an event of that submission.
    for (const r of settled.slice(0, 1).concat(settled.slice(-1))) {
      const run = (r as PromiseFulfilledResult<Awaited<ReturnType<typeof s.h.run>>>).value;
      for (const rec of run.result.Records!.Record) {
        const c = all.find((x) => x.casNumber === rec['@_casNumber'])!;
        const fromFile = (byCas.get(c.id) ?? []).filter((e) => e.kind === 'FEES_UPDATED' && e.submissionId === run.submissionId);
        if (rec.Outcome === 'UPDATED' && !issueCodes(rec).includes('W_NO_CHANGE')) expect(fromFile).toHaveLength(1);
        else expect(fromFile).toHaveLength(0);
        if (rec.Outcome === 'REJECTED') expect(issueCodes(rec)).toEqual(['E_CAS_STATUS']);
      }
    }
  });
});
