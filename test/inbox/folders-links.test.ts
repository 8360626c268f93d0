/**
 * Symbolic links at the sponsor level (spec section 7): a sponsor whose folders are links
 * or resolve outside `<root>/<LICENCE>` is not used at all and is reported unhealthy;
 * another sponsor's files are never taken, moved or accepted through the link, and the
 * other sponsors go on. Real folders, real links, the service in-process, both stores.
 */
import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { acquireInstanceKey, claimFile, releaseInstanceKey, tieSubmission } from '../../src/db/claims.ts';
import { submissions } from '../../src/db/schema.ts';
import { processFile } from '../../src/pipeline/process-file.ts';
import { readReceivedFile } from '../../src/inbox/read-file.ts';
import { checkSponsorFolders } from '../../src/inbox/folder-health.ts';
import { ensureSponsorFolders } from '../../src/inbox/layout.ts';
import { suiteDir, suiteServices, suiteStore } from '../helpers/fixture.ts';
import { STORE_KINDS, tempDir } from '../helpers/stores.ts';
import { waitFor } from '../helpers/wait.ts';
import { drop, ls, nextLicence, sponsor, upload, waitProcessed, type InProcessService } from '../helpers/watch.ts';

describe.each(STORE_KINDS)('sponsor folders that are links, on %s', (kind) => {
  const t = suiteStore(kind);
  const root = suiteDir('cas-bdt-links-');
  const services = suiteServices(t, root);

  const dir = (licence: string, f: 'inbox' | 'outbox' | 'archive' | 'rejected') => path.join(root, licence, f);
  const subsOf = (licence: string) => t.store.db.select().from(submissions).where(eq(submissions.sponsorLicenceNumber, licence));
  const logged = (svc: InProcessService, re: RegExp) => svc.logs.filter((l) => re.test(l));
  const unhealthyLogged = (licence: string) =>
    logged(services.running!, new RegExp(`unhealthy.*${licence}|${licence}.*unhealthy`)).length > 0;

  /** Two sponsors with folders; B has one file processed and archived. */
  const twoSponsors = async () => {
    const a = await sponsor(t.store.db, nextLicence('A'));
    const b = await sponsor(t.store.db, nextLicence('B'));
    await ensureSponsorFolders(root, a);
    await ensureSponsorFolders(root, b);
    return { a, b };
  };

  it("an inbox linked to another sponsor's archive is not used: B's archived inputs stay where they are", async () => {
    const { a, b } = await twoSponsors();
    const running = await services.start();
    drop(dir(b, 'inbox'), 'b1.xml', upload(b, `${b}1`));
    await waitProcessed(root, b, ['b1.xml']);
    const archived = ls(dir(b, 'archive'));
    expect(archived).toHaveLength(1);

    rmSync(dir(a, 'inbox'), { recursive: true });
    symlinkSync(dir(b, 'archive'), dir(a, 'inbox'));
    await running.service.scan();
    // Whichever comes first: the report, or (the bug) B's archive moved into A's rejected/.
    await waitFor(() => unhealthyLogged(a) || ls(dir(a, 'rejected')).length > 0, { what: 'A reported unhealthy' });
    expect(ls(dir(a, 'rejected'))).toEqual([]);
    expect(unhealthyLogged(a)).toBe(true);

    // B goes on, and nothing of B's moved into A's folders.
    drop(dir(b, 'inbox'), 'b2.xml', upload(b, `${b}2`));
    await waitProcessed(root, b, ['b2.xml']);
    await running.service.scan();
    expect(ls(dir(b, 'archive'))).toEqual(expect.arrayContaining(archived));
    expect(ls(dir(b, 'archive'))).toHaveLength(2);
    expect(ls(dir(a, 'rejected'))).toEqual([]);
    expect(ls(dir(a, 'outbox'))).toEqual([]);
    expect(await subsOf(a)).toHaveLength(0);

    const health = await checkSponsorFolders(root, a);
    expect(health.ok).toBe(false);
    if (!health.ok) expect(health.reasons.join('\n')).toMatch(/inbox.*symbolic link/);
    // One line when it became unhealthy, however many scans saw it so.
    await running.service.scan();
    expect(logged(running, new RegExp(`unhealthy.*${a}`))).toHaveLength(1);

    // Fixed: one line saying so, and A's files are processed again.
    rmSync(dir(a, 'inbox'));
    mkdirSync(dir(a, 'inbox'));
    drop(dir(a, 'inbox'), 'a1.xml', upload(a, `${a}1`));
    await running.service.scan();
    await waitProcessed(root, a, ['a1.xml']);
    expect(logged(running, new RegExp(`${a}.*usable again|usable again.*${a}`))).toHaveLength(1);
    expect(await checkSponsorFolders(root, a)).toEqual({ ok: true });
  });

  it("a rejected folder linked to another sponsor's inbox: nothing is moved there, nothing is accepted as B's", async () => {
    const { a, b } = await twoSponsors();
    rmSync(dir(a, 'rejected'), { recursive: true });
    symlinkSync(dir(b, 'inbox'), dir(a, 'rejected'));
    // A file for B dropped in A's inbox: rejected (sponsor mismatch) and moved "to rejected/".
    drop(dir(a, 'inbox'), 'planted.xml', upload(b, `${b}P`));
    const running = await services.start();
    drop(dir(b, 'inbox'), 'b1.xml', upload(b, `${b}1`));
    await waitProcessed(root, b, ['b1.xml']);
    await waitFor(() => unhealthyLogged(a) || ls(dir(a, 'inbox')).length === 0, { what: 'A reported unhealthy' });
    await running.service.scan();

    expect(ls(dir(a, 'inbox'))).toEqual(['planted.xml']);
    expect(ls(dir(b, 'inbox'))).toEqual([]);
    expect(await subsOf(a)).toHaveLength(0);
    const bSubs = await subsOf(b);
    expect(bSubs.map((s) => s.fileName)).toEqual(['b1.xml']);
    expect(running.service.sponsors()).toContain(b);
  });

  it("a file left half-finished by a dead instance is not finished through A's outbox linked to B's inbox, nor retried noisily", async () => {
    const { a, b } = await twoSponsors();
    // A killed instance committed A's file but wrote no result and moved nothing.
    const file = path.join(dir(a, 'inbox'), 'half.xml');
    writeFileSync(file, upload(a, `${a}H`));
    const session = await t.store.session();
    const dead = await acquireInstanceKey(session.db);
    const received = await readReceivedFile(file, a, 1e7);
    const got = await claimFile(t.store.db, {
      licence: a,
      fileName: 'half.xml',
      sha256: received.sha256,
      size: received.size,
      owner: dead,
      leaseMs: 60_000,
    });
    await processFile(
      {
        db: t.store.db,
        settings: { feePence: 2500, validityMonths: 6, maxFileBytes: 1e7 },
        onStored: (tx, id) => tieSubmission(tx, got!.claim.id, dead, id),
      },
      received,
    );
    // On the in-process PGlite (one session) the lock has to be released explicitly.
    await (kind === 'pglite' ? releaseInstanceKey(session.db, dead) : session.close());
    rmSync(dir(a, 'outbox'), { recursive: true });
    symlinkSync(dir(b, 'inbox'), dir(a, 'outbox'));

    const running = await services.start();
    await running.service.scan();
    await running.service.scan();
    expect(ls(dir(b, 'inbox'))).toEqual([]);
    expect(ls(dir(a, 'inbox'))).toEqual(['half.xml']);
    expect(logged(running, new RegExp(`unhealthy.*${a}`))).toHaveLength(1);
    expect(logged(running, /could not finish|infrastructure fault/)).toEqual([]);
    expect(running.service.unhealthySponsors()).toContainEqual({ licence: a, reasons: [`${a}/outbox is a symbolic link`] });

    // Fixed: finished from the store, once.
    rmSync(dir(a, 'outbox'));
    mkdirSync(dir(a, 'outbox'));
    await running.service.scan();
    await waitProcessed(root, a, ['half.xml']);
    expect(ls(dir(a, 'outbox'))).toEqual(['half.result.xml']);
    expect(await subsOf(a)).toHaveLength(1);
    expect(running.service.unhealthySponsors().map((u) => u.licence)).not.toContain(a);
  });

  it('a sponsor folder that is itself a link, and one whose subfolder resolves outside it, are unhealthy', async () => {
    const { a, b } = await twoSponsors();
    const elsewhere = tempDir('cas-bdt-elsewhere-');
    try {
      for (const f of ['inbox', 'outbox', 'archive', 'rejected']) mkdirSync(path.join(elsewhere, f));
      renameSync(path.join(root, a), path.join(root, `${a}.old`));
      symlinkSync(elsewhere, path.join(root, a));
      const health = await checkSponsorFolders(root, a);
      expect(health.ok).toBe(false);
      if (!health.ok) expect(health.reasons[0]).toMatch(new RegExp(`^${a} is a symbolic link`));

      // A real folder for b whose outbox is a link to a real folder elsewhere.
      rmSync(dir(b, 'outbox'), { recursive: true });
      symlinkSync(path.join(elsewhere, 'outbox'), dir(b, 'outbox'));
      const hb = await checkSponsorFolders(root, b);
      expect(hb.ok).toBe(false);
      if (!hb.ok) expect(hb.reasons).toEqual([`${b}/outbox is a symbolic link`]);
      // Nothing is read, written or moved through either link.
      drop(path.join(elsewhere, 'inbox'), 'a1.xml', upload(a, `${a}1`));
      const running = await services.start();
      expect(running.service.sponsors()).not.toContain(a);
      expect(running.service.sponsors()).not.toContain(b);
      await running.service.scan();
      expect(ls(path.join(elsewhere, 'inbox'))).toEqual(['a1.xml']);
      for (const f of ['outbox', 'archive', 'rejected']) expect(ls(path.join(elsewhere, f))).toEqual([]);
      expect(await subsOf(a)).toHaveLength(0);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});
