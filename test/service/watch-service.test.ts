/**
 * The watch service in-process, on both stores: what it takes and what it ignores,
 * results and moves, deferral of slow writers, back-off after a fault, and recovery from
 * half-finished states seeded directly (a crash after the transaction, after the result,
 * after the move).
 */
import { mkdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeFileSync, appendFileSync } from 'node:fs';
import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { acquireInstanceKey, claimFile, listClaims, releaseInstanceKey, setMovedTo, tieSubmission } from '../../src/db/claims.ts';
import { cas, fileClaims } from '../../src/db/schema.ts';
import { rowsOf } from '../../src/db/sql-util.ts';
import { ensureSponsorFolders } from '../../src/inbox/layout.ts';
import { emitResult } from '../../src/pipeline/emit.ts';
import { processFile } from '../../src/pipeline/process-file.ts';
import { readReceivedFile } from '../../src/inbox/read-file.ts';
import { suiteWatch } from '../helpers/fixture.ts';
import { STORE_KINDS, tempDir } from '../helpers/stores.ts';
import { waitFor } from '../helpers/wait.ts';
import { drop, ls, nextLicence, sponsor, upload, waitProcessed } from '../helpers/watch.ts';

const MINUTE_AGO = () => new Date(Date.now() - 120_000);

describe.each(STORE_KINDS)('watch service on %s', (kind) => {
  const { t, root, services, start, dir, subsOf } = suiteWatch(kind, 'cas-bdt-watch-');

  it('processes files present at start and files dropped later; results in outbox, inputs archived with a UTC stamp', async () => {
    const licence = await sponsor(t.store.db, nextLicence());
    await ensureSponsorFolders(root, licence);
    writeFileSync(path.join(dir(licence, 'inbox'), 'before.xml'), upload(licence, `${licence}B`, 2));
    const svc = await start();
    expect(svc.service.sponsors()).toContain(licence);
    drop(dir(licence, 'inbox'), 'after.XML', upload(licence, `${licence}A`));
    await waitProcessed(root, licence, ['before.xml', 'after.XML']);

    expect(ls(dir(licence, 'outbox'))).toEqual(['after.result.xml', 'before.result.xml']);
    const archived = ls(dir(licence, 'archive'));
    expect(archived).toHaveLength(2);
    for (const a of archived) expect(a).toMatch(/^\d{8}T\d{6}Z_(before\.xml|after\.XML)$/);
    const result = readFileSync(path.join(dir(licence, 'outbox'), 'before.result.xml'), 'utf8');
    expect(result).toContain('ACCEPTED');
    const rows = await subsOf(licence);
    expect(rows.map((r) => [r.fileName, r.outcome, r.resultFile !== null])).toEqual(
      expect.arrayContaining([
        ['before.xml', 'ACCEPTED', true],
        ['after.XML', 'ACCEPTED', true],
      ]),
    );
    const stored = await t.store.db.select().from(cas).where(eq(cas.sponsorLicenceNumber, licence));
    expect(stored.map((c) => c.status)).toEqual(['ASSIGNED', 'ASSIGNED', 'ASSIGNED']);
    // The line comes once the claim is done, just after the move.
    await waitFor(
      () =>
        new RegExp(`processed sponsor=${licence} file=before.xml outcome=ACCEPTED submission=\\d+ records=2 created=2`).test(
          svc.logs.join(''),
        ),
      { what: 'log line' },
    );
    // No personal data in the log.
    expect(svc.logs.join('')).not.toMatch(/Okafor|Ada|A01234567|2001-04-12/);
  });

  it.each([false, true])('finds dropped files through the watcher alone (poll: %s)', async (poll) => {
    const licence = await sponsor(t.store.db, nextLicence());
    await ensureSponsorFolders(root, licence);
    // No periodic listing during the test: only chokidar can find the file.
    const svc = await start({ poll, scanIntervalMs: 600_000, sponsorRefreshMs: 600_000 });
    expect(svc.service.sponsors()).toContain(licence);
    drop(dir(licence, 'inbox'), `evt-${poll}.xml`, upload(licence, `${licence}V`));
    await waitProcessed(root, licence, [`evt-${poll}.xml`], 20_000);
  });

  it('ignores temporary upload names until renamed, and symbolic links and directories always', async () => {
    const licence = await sponsor(t.store.db, nextLicence());
    await ensureSponsorFolders(root, licence);
    const inbox = dir(licence, 'inbox');
    const outside = path.join(root, `outside-${licence}.xml`);
    writeFileSync(outside, upload(licence, `${licence}L`));
    symlinkSync(outside, path.join(inbox, 'link.xml'));
    mkdirSync(path.join(inbox, 'folder.xml'));
    for (const n of ['.hidden.xml', 'a.xml.part', 'b.xml.filepart', 'c.xml.partial', 'd.xml.tmp', 'e.xml~', 'F.XML.PART']) {
      writeFileSync(path.join(inbox, n), upload(licence, `${licence}${n.replace(/\W/g, '')}`));
    }
    const svc = await start();
    await svc.service.scan();
    // Nothing in this inbox was even considered.
    await waitFor(() => svc.service.stats().known === 0, { what: 'no candidates' });
    expect((await subsOf(licence)).length).toBe(0);

    // The upload finishes: renamed to its final name, it is processed.
    const { renameSync } = await import('node:fs');
    renameSync(path.join(inbox, 'a.xml.part'), path.join(inbox, 'a.xml'));
    await waitProcessed(root, licence, ['a.xml']);
    await svc.service.scan();
    expect((await subsOf(licence)).map((s) => s.fileName)).toEqual(['a.xml']);
    expect(ls(inbox)).toEqual([
      '.hidden.xml',
      'F.XML.PART',
      'b.xml.filepart',
      'c.xml.partial',
      'd.xml.tmp',
      'e.xml~',
      'folder.xml',
      'link.xml',
    ]);
    // The link's target was never touched.
    expect(ls(root)).toContain(`outside-${licence}.xml`);
  });

  it('defers a slow writer that pauses mid-file on the final name, then processes it once complete', async () => {
    const licence = await sponsor(t.store.db, nextLicence());
    await ensureSponsorFolders(root, licence);
    const svc = await start();
    const bytes = upload(licence, `${licence}S`, 3);
    const file = path.join(dir(licence, 'inbox'), 'slow.xml');
    writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await waitFor(() => svc.logs.some((l) => l.includes('deferred') && l.includes('slow.xml')), { what: 'deferral' });
    expect((await subsOf(licence)).length).toBe(0);
    appendFileSync(file, bytes.subarray(Math.floor(bytes.length / 2)));
    await waitProcessed(root, licence, ['slow.xml']);
    const rows = await subsOf(licence);
    expect(rows.map((r) => [r.outcome, (r.summary as { counts: { created: number } }).counts.created])).toEqual([['ACCEPTED', 3]]);
  });

  it('rejects, with a result, a broken file once the grace has passed, and a non-XML file', async () => {
    const licence = await sponsor(t.store.db, nextLicence());
    await ensureSponsorFolders(root, licence);
    const inbox = dir(licence, 'inbox');
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    writeFileSync(path.join(inbox, 'picture.png'), png);
    utimesSync(path.join(inbox, 'picture.png'), MINUTE_AGO(), MINUTE_AGO());
    const svc = await start({ unfinishedGraceMs: 1500 });
    // Broken and recent: deferred for the (short) grace, then rejected.
    writeFileSync(path.join(inbox, 'broken.xml'), '<?xml version="1.0"?><a><b></a>');
    await waitProcessed(root, licence, ['picture.png', 'broken.xml']);
    expect(ls(dir(licence, 'rejected'))).toHaveLength(2);
    expect(ls(dir(licence, 'archive'))).toHaveLength(0);
    const rows = await subsOf(licence);
    expect(rows.map((r) => r.outcome)).toEqual(['REJECTED', 'REJECTED']);
    expect(readFileSync(path.join(dir(licence, 'outbox'), 'broken.result.xml'), 'utf8')).toContain('E_NOT_WELL_FORMED');
    expect(readFileSync(path.join(dir(licence, 'outbox'), 'picture.png.result.xml'), 'utf8')).toMatch(/E_ENCODING|E_NOT_WELL_FORMED/);
    await waitFor(() => /outcome=REJECTED/.test(svc.logs.join('')), { what: 'log line' });
  });

  it("rejects another sponsor's file dropped in this inbox (E_SPONSOR_MISMATCH) and acts only on this sponsor", async () => {
    const licence = await sponsor(t.store.db, nextLicence());
    const other = await sponsor(t.store.db, nextLicence());
    await start();
    await waitFor(() => services.running!.service.sponsors().includes(licence));
    drop(dir(licence, 'inbox'), 'theirs.xml', upload(other, `${other}X`));
    await waitProcessed(root, licence, ['theirs.xml']);
    expect(readFileSync(path.join(dir(licence, 'outbox'), 'theirs.result.xml'), 'utf8')).toContain('E_SPONSOR_MISMATCH');
    expect(ls(dir(licence, 'rejected'))).toHaveLength(1);
    expect(ls(dir(other, 'outbox'))).toEqual([]);
    expect(await t.store.db.select().from(cas).where(eq(cas.sponsorLicenceNumber, other))).toEqual([]);
  });

  it('takes the same name dropped twice as two files; identical bytes give a replay', async () => {
    const licence = await sponsor(t.store.db, nextLicence());
    await ensureSponsorFolders(root, licence);
    await start();
    const bytes = upload(licence, `${licence}T`, 2);
    drop(dir(licence, 'inbox'), 'twice.xml', bytes);
    await waitProcessed(root, licence, ['twice.xml']);
    drop(dir(licence, 'inbox'), 'twice.xml', bytes);
    await waitFor(() => ls(dir(licence, 'archive')).length === 2 && ls(dir(licence, 'outbox')).length === 2, {
      what: 'second drop processed',
    });
    const rows = await subsOf(licence);
    expect(rows.map((r) => [r.outcome, r.replayOf === null])).toEqual([
      ['ACCEPTED', true],
      ['ACCEPTED', false],
    ]);
    expect(ls(dir(licence, 'outbox'))).toEqual([`twice.${rows[1]!.id}.result.xml`, 'twice.result.xml']);
    expect(readFileSync(path.join(dir(licence, 'outbox'), `twice.${rows[1]!.id}.result.xml`), 'utf8')).toContain('<Replay>true</Replay>');
    expect((await t.store.db.select().from(cas).where(eq(cas.sponsorLicenceNumber, licence))).length).toBe(2);
  });

  it('processes a backlog oldest first', async () => {
    const licence = await sponsor(t.store.db, nextLicence());
    await ensureSponsorFolders(root, licence);
    const names = ['m3.xml', 'm1.xml', 'm4.xml', 'm0.xml', 'm2.xml'];
    for (const n of names) {
      const f = path.join(dir(licence, 'inbox'), n);
      writeFileSync(f, upload(licence, `${licence}${n[1]}`));
      const when = new Date(Date.now() - 600_000 + Number(n[1]) * 1000);
      utimesSync(f, when, when);
    }
    await start({ concurrency: 1 });
    await waitProcessed(root, licence, names);
    expect((await subsOf(licence)).map((s) => s.fileName)).toEqual(['m0.xml', 'm1.xml', 'm2.xml', 'm3.xml', 'm4.xml']);
  });

  it('picks up a sponsor added while it runs', async () => {
    const svc = await start();
    const licence = await sponsor(t.store.db, nextLicence());
    await waitFor(() => svc.service.sponsors().includes(licence), { what: 'new sponsor watched' });
    drop(dir(licence, 'inbox'), 'new.xml', upload(licence, `${licence}N`));
    await waitProcessed(root, licence, ['new.xml']);
  });

  it('keeps a file in the inbox through a disk fault, backs off, logs it, then finishes without processing it again', async () => {
    const licence = await sponsor(t.store.db, nextLicence());
    const svc = await start();
    await waitFor(() => svc.service.sponsors().includes(licence));
    // The outbox cannot be written: a file stands where the folder should be.
    rmSync(dir(licence, 'outbox'), { recursive: true });
    writeFileSync(dir(licence, 'outbox'), 'not a folder');
    drop(dir(licence, 'inbox'), 'fault.xml', upload(licence, `${licence}F`));
    await waitFor(() => svc.logs.filter((l) => l.includes('infrastructure fault') && l.includes('fault.xml')).length >= 2, {
      what: 'fault logged twice',
    });
    expect(ls(dir(licence, 'inbox'))).toEqual(['fault.xml']);
    unlinkSync(dir(licence, 'outbox'));
    mkdirSync(dir(licence, 'outbox'));
    await waitProcessed(root, licence, ['fault.xml']);
    expect((await subsOf(licence)).length).toBe(1);
    expect((await t.store.db.select().from(cas).where(eq(cas.sponsorLicenceNumber, licence))).length).toBe(1);
  });

  it('writes the result of a committed file later even if its input disappeared meanwhile', async () => {
    const licence = await sponsor(t.store.db, nextLicence());
    const svc = await start();
    await waitFor(() => svc.service.sponsors().includes(licence));
    rmSync(dir(licence, 'outbox'), { recursive: true });
    writeFileSync(dir(licence, 'outbox'), 'not a folder');
    drop(dir(licence, 'inbox'), 'gone.xml', upload(licence, `${licence}G`));
    await waitFor(() => svc.logs.some((l) => l.includes('infrastructure fault') && l.includes('gone.xml')), { what: 'fault' });
    // The sponsor's system takes the input back before the outbox is repaired.
    unlinkSync(path.join(dir(licence, 'inbox'), 'gone.xml'));
    unlinkSync(dir(licence, 'outbox'));
    mkdirSync(dir(licence, 'outbox'));
    await waitFor(() => ls(dir(licence, 'outbox')).includes('gone.result.xml'), { what: 'result written' });
    await waitFor(async () => (await listClaims(t.store.db)).filter((c) => c.fileName === 'gone.xml').every((c) => c.state === 'done'), {
      what: 'claim done',
    });
    expect((await subsOf(licence)).length).toBe(1);
  });

  it('runs the expiry sweep at start', async () => {
    const licence = await sponsor(t.store.db, nextLicence());
    const f = path.join(tempDir(), 'old.xml');
    writeFileSync(f, upload(licence, `${licence}E`));
    const longAgo = new Date(Date.now() - 400 * 86_400_000);
    await processFile(
      { db: t.store.db, settings: { feePence: 2500, validityMonths: 6, maxFileBytes: 1e7 }, clock: () => longAgo },
      await readReceivedFile(f, licence, 1e7, longAgo),
    );
    await start();
    await waitFor(async () => (await t.store.db.select().from(cas).where(eq(cas.sponsorLicenceNumber, licence)))[0]?.status === 'EXPIRED', {
      what: 'expired',
    });
  });

  it('brings the kept compliance figures up to date in the sweep at start (a new sponsor has its row)', async () => {
    const licence = await sponsor(t.store.db, nextLicence());
    const kept = async () =>
      (await rowsOf<{ counts: unknown }>(t.store.db, sql`select counts from compliance_figures where sponsor_licence_number = ${licence}`))
        .length;
    expect(await kept()).toBe(0);
    await start();
    await waitFor(async () => (await kept()) === 1, { what: "the new sponsor's kept compliance figures" });
  });

  describe('recovery of half-finished files (a crash seeded directly)', () => {
    /** Another instance: its liveness lock on a connection of its own; `die` closes that connection, as kill -9 would. */
    async function otherInstance() {
      const session = await t.store.session();
      const key = await acquireInstanceKey(session.db);
      // On the in-process PGlite (one session) the lock has to be released explicitly.
      return { key, die: async () => (kind === 'pglite' ? releaseInstanceKey(session.db, key) : session.close()) };
    }

    /** Processes a file as a killed instance would have, up to `stage`, and leaves it there. */
    async function crashedAt(licence: string, name: string, stage: 'committed' | 'result-written' | 'moved') {
      await ensureSponsorFolders(root, licence);
      const file = path.join(dir(licence, 'inbox'), name);
      writeFileSync(file, upload(licence, `${licence}${name.replace(/\W/g, '')}`, 2));
      const instance = await otherInstance();
      const dead = instance.key;
      const received = await readReceivedFile(file, licence, 1e7);
      const got = await claimFile(t.store.db, {
        licence,
        fileName: name,
        sha256: received.sha256,
        size: received.size,
        owner: dead,
        leaseMs: 60_000,
      });
      const processed = await processFile(
        {
          db: t.store.db,
          settings: { feePence: 2500, validityMonths: 6, maxFileBytes: 1e7 },
          onStored: (tx, id) => tieSubmission(tx, got!.claim.id, dead, id),
        },
        received,
      );
      if (stage !== 'committed')
        await emitResult(t.store.db, dir(licence, 'outbox'), {
          submissionId: processed.submissionId,
          fileName: name,
          resultXml: processed.resultXml,
        });
      if (stage === 'moved') {
        const dest = path.join(dir(licence, 'archive'), `20260101T000000Z_${name}`);
        await setMovedTo(t.store.db, got!.claim.id, dead, dest);
        const { renameSync } = await import('node:fs');
        renameSync(file, dest);
      }
      // The instance dies: its liveness lock goes with it.
      await instance.die();
      return processed.submissionId;
    }

    it('re-emits the stored result and moves the input; no second submission', async () => {
      const licence = await sponsor(t.store.db, nextLicence());
      const id = await crashedAt(licence, 'c1.xml', 'committed');
      const svc = await start();
      await waitProcessed(root, licence, ['c1.xml']);
      expect((await subsOf(licence)).map((s) => s.id)).toEqual([id]);
      expect(ls(dir(licence, 'outbox'))).toEqual(['c1.result.xml']);
      expect(ls(dir(licence, 'archive'))).toHaveLength(1);
      expect((await t.store.db.select().from(cas).where(eq(cas.sponsorLicenceNumber, licence))).length).toBe(2);
      await waitFor(() => /finished \(left unfinished earlier\) sponsor=\w+ file=c1.xml/.test(svc.logs.join('')), { what: 'log line' });
    });

    it('after the result was written, moves the input without a second result', async () => {
      const licence = await sponsor(t.store.db, nextLicence());
      const id = await crashedAt(licence, 'c2.xml', 'result-written');
      await start();
      await waitFor(() => ls(dir(licence, 'inbox')).length === 0 && ls(dir(licence, 'archive')).length === 1, { what: 'moved' });
      expect((await subsOf(licence)).map((s) => s.id)).toEqual([id]);
      expect(ls(dir(licence, 'outbox'))).toEqual(['c2.result.xml']);
    });

    it('after the move, only marks the claim done', async () => {
      const licence = await sponsor(t.store.db, nextLicence());
      await crashedAt(licence, 'c3.xml', 'moved');
      await start();
      await waitFor(async () => (await listClaims(t.store.db)).every((c) => c.sponsorLicenceNumber !== licence || c.state === 'done'), {
        what: 'claim done',
      });
      expect(ls(dir(licence, 'archive'))).toEqual(['20260101T000000Z_c3.xml']);
      expect(ls(dir(licence, 'outbox'))).toEqual(['c3.result.xml']);
      expect((await subsOf(licence)).length).toBe(1);
    });

    it('after the move, a new drop of the same bytes under the same name is a new file (replay)', async () => {
      const licence = await sponsor(t.store.db, nextLicence());
      await crashedAt(licence, 'c4.xml', 'moved');
      const again = readFileSync(path.join(dir(licence, 'archive'), '20260101T000000Z_c4.xml'));
      writeFileSync(path.join(dir(licence, 'inbox'), 'c4.xml'), again);
      await start();
      await waitFor(() => ls(dir(licence, 'inbox')).length === 0 && ls(dir(licence, 'archive')).length === 2, {
        what: 'second file archived',
      });
      const rows = await subsOf(licence);
      expect(rows.map((r) => r.replayOf !== null)).toEqual([false, true]);
      expect(ls(dir(licence, 'outbox'))).toHaveLength(2);
    });

    it('a claim whose transaction never committed is dropped and the file processed once', async () => {
      const licence = await sponsor(t.store.db, nextLicence());
      await ensureSponsorFolders(root, licence);
      const file = path.join(dir(licence, 'inbox'), 'c5.xml');
      writeFileSync(file, upload(licence, `${licence}C5`));
      const dead = await otherInstance();
      const received = await readReceivedFile(file, licence, 1e7);
      await claimFile(t.store.db, {
        licence,
        fileName: 'c5.xml',
        sha256: received.sha256,
        size: received.size,
        owner: dead.key,
        leaseMs: 60_000,
      });
      await dead.die();
      await start();
      await waitProcessed(root, licence, ['c5.xml']);
      expect((await subsOf(licence)).length).toBe(1);
    });

    it('leaves a file claimed by a live instance alone, and takes it over once that instance is gone', async () => {
      const licence = await sponsor(t.store.db, nextLicence());
      await ensureSponsorFolders(root, licence);
      const file = path.join(dir(licence, 'inbox'), 'held.xml');
      writeFileSync(file, upload(licence, `${licence}H`));
      const other = await otherInstance();
      const received = await readReceivedFile(file, licence, 1e7);
      await claimFile(t.store.db, {
        licence,
        fileName: 'held.xml',
        sha256: received.sha256,
        size: received.size,
        owner: other.key,
        leaseMs: 600_000,
      });
      const svc = await start();
      // A sentinel file of the same sponsor proves the service is past this inbox.
      drop(dir(licence, 'inbox'), 'sentinel.xml', upload(licence, `${licence}SN`));
      await waitProcessed(root, licence, ['sentinel.xml']);
      await svc.service.scan();
      expect(ls(dir(licence, 'inbox'))).toEqual(['held.xml']);
      const [claim] = await t.store.db.select().from(fileClaims).where(eq(fileClaims.fileName, 'held.xml'));
      expect(claim!.owner).toBe(other.key);
      await other.die();
      await waitProcessed(root, licence, ['held.xml']);
      expect((await subsOf(licence)).length).toBe(2);
      await waitFor(
        async () => {
          const [after] = await rowsOf<{ owner: number; state: string }>(
            t.store.db,
            sql`select owner, state from file_claims where file_name = 'held.xml'`,
          );
          return after?.state === 'done' && after.owner === svc.service.instanceKey;
        },
        { what: 'claim done by this instance' },
      );
    });
  });
});
