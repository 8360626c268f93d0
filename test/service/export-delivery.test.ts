/**
 * Export deliveries (deliverExport, the work of `watch --export-every`): a sponsor's first
 * delivery holds every CAS, the next ones the CAS whose history changed since, as their
 * whole current state; nothing is written when nothing changed; each delivery is recorded;
 * one cut short (before its file, or after its file and before its record) is finished
 * once by another instance, never written twice; a live instance's delivery is left to it.
 * Both stores; the files are unzipped by `unzip` and validated by xmllint.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { acquireInstanceKey } from '../../src/db/claims.ts';
import { listDeliveries } from '../../src/db/deliveries.ts';
import { rowsOf } from '../../src/db/sql-util.ts';
import { addNote } from '../../src/ops/note.ts';
import { deliverExport, type DeliveryOptions } from '../../src/ops/export.ts';
import { setFees } from '../../src/ops/fees.ts';
import { withdrawCas } from '../../src/ops/withdraw.ts';
import { ensureSponsorFolders, sponsorDir } from '../../src/inbox/layout.ts';
import { sql } from 'drizzle-orm';
import { exportsPage } from '../../src/http/exports-page.ts';
import { expectValidExport, parseExport, unzipOne } from '../helpers/export.ts';
import { licenceFor, Scenario } from '../helpers/lifecycle.ts';
import { suiteStore } from '../helpers/fixture.ts';
import { STORE_KINDS, tempDir } from '../helpers/stores.ts';
import { waitFor } from '../helpers/wait.ts';

class Died extends Error {}

describe.each(STORE_KINDS)('export deliveries on %s', (kind) => {
  const t = suiteStore(kind);
  let s: Scenario;
  let L: string;
  let other: string;
  let me: number;
  const root = tempDir('cas-bdt-delivery-');
  const outbox = () => sponsorDir(root, L, 'outbox');
  const zips = () =>
    readdirSync(outbox())
      .filter((f) => f.endsWith('.zip'))
      .sort();
  let clock = Date.parse('2027-02-01T09:00:00Z');
  const opts = (over: Partial<DeliveryOptions> = {}): DeliveryOptions => ({
    me,
    leaseMs: 60_000,
    now: new Date((clock += 61_000)),
    minAgeMs: 0,
    outbox: async (l) => ({ dir: sponsorDir(root, l, 'outbox'), realDir: undefined }),
    ...over,
  });
  /** The CAS of a delivered zip: applicant id -> status, after checking the file against the XSD. */
  const read = async (file: string) => {
    const { entries, bytes } = unzipOne(file);
    expect(entries).toEqual([path.basename(file).replace(/\.zip$/, '.xml')]);
    await expectValidExport(bytes);
    return parseExport(bytes.toString('utf8'));
  };
  const applicants = (doc: { CAS?: Record<string, string>[] }) => (doc.CAS ?? []).map((c) => c.ApplicantID).sort();
  /**
   * A delivery covers the history of transactions that had all ended when it looked: on a
   * shared server another session's long transaction holds that point back for a while, and
   * the delivery finds nothing yet. These retry until it does (or until it dies, for `dying`).
   */
  const deliverSoon = (o: DeliveryOptions = opts()) =>
    waitFor(async () => await deliverExport(s.db, L, { ...o, now: new Date((clock += 61_000)) }), { what: 'a delivery' });
  const dying = (o: DeliveryOptions) =>
    waitFor(
      async () => {
        try {
          if (await deliverExport(s.db, L, { ...o, now: new Date((clock += 61_000)) })) throw new Error('delivered instead of dying');
          return false;
        } catch (err) {
          if (err instanceof Died) return true;
          throw err;
        }
      },
      { what: 'a delivery to die in' },
    );
  /** A key no live session holds: the instance that had it was killed. */
  const deadKey = async () => {
    for (;;) {
      const k = 1 + Math.floor(Math.random() * 0x7ffffffe);
      const [row] = await rowsOf<{ n: number }>(
        s.db,
        sql`select count(*)::int as n from pg_locks where locktype = 'advisory' and objsubid = 2 and objid::bigint = ${k}`,
      );
      if (row!.n === 0) return k;
    }
  };

  beforeAll(async () => {
    s = new Scenario(t.store);
    L = await s.sponsor(licenceFor('DELI'));
    other = await s.sponsor(licenceFor('DELO'));
    await ensureSponsorFolders(root, L);
    await ensureSponsorFolders(root, other);
    await s.upload(L, 'D-1', [
      { applicantId: 'A1', passport: 'D0000001' },
      { applicantId: 'A2', passport: 'D0000002' },
      { applicantId: 'A3', passport: 'D0000003' },
    ]);
    await s.upload(other, 'O-1', [{ applicantId: 'O1', passport: 'D0000009' }]);
    const session = await t.store.session();
    me = await acquireInstanceKey(session.db);
  });

  it('delivers everything first, then only what changed, and nothing when nothing changed', async () => {
    const first = await deliverSoon();
    expect(first).toMatchObject({ licence: L, casCount: 3, resumed: false, found: false });
    expect(path.basename(first!.file)).toMatch(new RegExp(`^CASEXPORT-${L}-\\d{8}T\\d{6}Z\\.zip$`));
    const doc1 = await read(first!.file);
    expect(doc1).not.toHaveProperty('ChangedSince');
    expect(applicants(doc1)).toEqual(['A1', 'A2', 'A3']);
    const [maxEvent] = await rowsOf<{ id: number }>(
      s.db,
      sql`select max(e.id)::int as id from cas_events e join cas c on c.id = e.cas_id where c.sponsor_licence_number = ${L}`,
    );
    expect(first!.lastEventId).toBe(maxEvent!.id);
    expect(zips()).toEqual([path.basename(first!.file)]);

    // Nothing changed: nothing written, nothing recorded.
    expect(await deliverExport(s.db, L, opts())).toBeUndefined();
    expect(zips()).toHaveLength(1);

    const a1 = await s.cas(L, 'A1');
    const a2 = await s.cas(L, 'A2');
    await withdrawCas(s.db, { casNumber: a1.casNumber! }, new Date());
    expect((await setFees(s.db, a2.casNumber!, { coursePaid: 100000 }, new Date())).kind).toBe('done');
    // Another sponsor's change is not this sponsor's delivery.
    await withdrawCas(s.db, { casNumber: (await s.cas(other, 'O1')).casNumber! }, new Date());

    // Not due yet: the last delivery is younger than the period.
    expect(await deliverExport(s.db, L, opts({ minAgeMs: 3_600_000 }))).toBeUndefined();
    const second = await deliverSoon();
    expect(second).toMatchObject({ casCount: 2 });
    const doc2 = await read(second!.file);
    const recorded = await listDeliveries(s.db, { licence: L });
    expect(doc2.ChangedSince).toBe(recorded[1]!.deliveredAt);
    const byApplicant = Object.fromEntries(doc2.CAS!.map((c) => [c.ApplicantID, [c.Status, c.CourseFeesPaidToDate]]));
    expect(byApplicant).toEqual({ A1: ['WITHDRAWN', undefined], A2: ['ASSIGNED', '1000.00'] });
    expect(recorded.map((r) => [r.state, r.casCount, r.file])).toEqual([
      ['done', 2, path.basename(second!.file)],
      ['done', 3, path.basename(first!.file)],
    ]);
    expect(recorded[0]!.lastEventId).toBe(second!.lastEventId);
    expect(second!.lastEventId).toBeGreaterThan(first!.lastEventId!);
    expect(zips()).toHaveLength(2);
  });

  it('a delivery cut short before its file, or after it, is finished once by another instance', async () => {
    const a3 = await s.cas(L, 'A3');
    const victim = await deadKey();
    const die = (at: 'before-file' | 'after-file') => ({
      me: victim,
      pause: async (p: string) => {
        if (p === at) throw new Died(p);
      },
    });

    // Killed before writing: no file; the next instance writes it.
    await addNote(s.db, a3.casNumber!, 'called the student', new Date());
    await dying(opts(die('before-file')));
    expect(zips()).toHaveLength(2);
    expect((await listDeliveries(s.db, { licence: L }))[0]!.state).toBe('pending');
    const resumed = await deliverExport(s.db, L, opts());
    expect(resumed).toMatchObject({ resumed: true, found: false, casCount: 1 });
    expect(applicants(await read(resumed!.file))).toEqual(['A3']);
    expect(zips()).toHaveLength(3);

    // Killed after writing, before recording it done: the file is found, not written again.
    await withdrawCas(s.db, { casNumber: a3.casNumber! }, new Date());
    await dying(opts(die('after-file')));
    expect(zips()).toHaveLength(4);
    const finished = await deliverExport(s.db, L, opts());
    expect(finished).toMatchObject({ resumed: true, found: true, casCount: 1 });
    expect(zips()).toHaveLength(4);
    expect((await read(finished!.file)).CAS![0]!.Status).toBe('WITHDRAWN');

    const all = await listDeliveries(s.db, { licence: L });
    expect(all.map((d) => d.state)).toEqual(['done', 'done', 'done', 'done']);
    expect(new Set(all.map((d) => d.file)).size).toBe(4);
    expect(zips()).toEqual(all.map((d) => d.file).sort());
    // Nothing left to deliver: every change went out once.
    expect(await deliverExport(s.db, L, opts())).toBeUndefined();
  });

  it("leaves a live instance's delivery in progress to it", async () => {
    const a2 = await s.cas(L, 'A2');
    const session = await t.store.session();
    const rival = kind === 'postgres' ? await acquireInstanceKey(session.db) : me;
    expect((await setFees(s.db, a2.casNumber!, { coursePaid: 200000 }, new Date())).kind).toBe('done');
    if (kind === 'postgres') {
      // Alive (its liveness lock held), its lease running: nobody else touches its delivery.
      await dying(opts({ me: rival, pause: async () => Promise.reject(new Died('paused')) }));
      expect(await deliverExport(s.db, L, opts())).toBeUndefined();
      expect((await listDeliveries(s.db, { licence: L }))[0]!.state).toBe('pending');
      await session.close(); // the instance is gone: its delivery is taken over at once
    }
    const d = await deliverSoon();
    expect(d).toMatchObject({ casCount: 1 });
    expect((await read(d!.file)).CAS![0]!.CourseFeesPaidToDate).toBe('2000.00');
  });

  it('the console lists the deliveries, newest first, per sponsor', async () => {
    const all = await listDeliveries(s.db, { licence: L });
    const page = await exportsPage(s.db, { licence: L });
    expect(page).toContain(`Export deliveries to ${L}`);
    const rows = [...page.matchAll(/<tr><td>[^<]*<\/td><td>(CASEXPORT-[^<]+)<\/td><td class="n">(\d+)<\/td>/g)].map((m) => [
      m[1],
      Number(m[2]),
    ]);
    expect(rows).toEqual(all.map((d) => [d.file, d.casCount]));
    expect(page).toContain('everything (first delivery)');
    const everyone = await exportsPage(s.db, {});
    expect(everyone).toContain(`<a href="/exports?sponsor=${L}">${L}</a>`);
  });
});
