/**
 * No sponsor goes before the others by its files' dates or numbers: sponsors take turns
 * (oldest first within each), and the reconciliation of unfinished claims looks at every
 * stored claim, not only the first hundred.
 */
import { mkdirSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { asc, eq, inArray } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { fileClaims, submissions } from '../../src/db/schema.ts';
import { ensureSponsorFolders } from '../../src/inbox/layout.ts';
import { suiteWatch } from '../helpers/fixture.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { waitFor } from '../helpers/wait.ts';
import { ls, nextLicence, sponsor, upload, waitProcessed } from '../helpers/watch.ts';

describe.each(STORE_KINDS)('fairness on %s', (kind) => {
  const { t, root, services } = suiteWatch(kind, 'cas-bdt-fair-');

  const dir = (licence: string, f: 'inbox' | 'outbox' | 'archive' | 'rejected') => path.join(root, licence, f);

  /** 12 backdated files of a flooding sponsor and 3 new ones of a quiet one, processed; the order their submissions were stored in (A or B). */
  async function floodAndQuiet(over: {
    concurrency: number;
    groupFiles: number;
  }): Promise<{ turns: string; floodOrder: string[]; floodNames: string[] }> {
    const flood = await sponsor(t.store.db, nextLicence('A'));
    const quiet = await sponsor(t.store.db, nextLicence('B'));
    for (const l of [flood, quiet]) await ensureSponsorFolders(root, l);
    const floodNames = Array.from({ length: 12 }, (_, i) => `old-${String(i).padStart(2, '0')}.xml`);
    floodNames.forEach((n, i) => {
      const f = path.join(dir(flood, 'inbox'), n);
      writeFileSync(f, upload(flood, `${flood}${i}`));
      const when = new Date(Date.UTC(2001, 0, 1 + i));
      utimesSync(f, when, when);
    });
    const quietNames = ['now-0.xml', 'now-1.xml', 'now-2.xml'];
    quietNames.forEach((n, i) => writeFileSync(path.join(dir(quiet, 'inbox'), n), upload(quiet, `${quiet}${i}`)));

    await services.start(over);
    await waitProcessed(root, flood, floodNames);
    await waitProcessed(root, quiet, quietNames);
    const order = await t.store.db
      .select({ licence: submissions.sponsorLicenceNumber, file: submissions.fileName })
      .from(submissions)
      .where(inArray(submissions.sponsorLicenceNumber, [flood, quiet]))
      .orderBy(asc(submissions.id));
    return {
      turns: order.map((o) => (o.licence === flood ? 'A' : 'B')).join(''),
      floodOrder: order.filter((o) => o.licence === flood).map((o) => o.file),
      floodNames,
    };
  }

  it('takes sponsors in turn: backdated files of one sponsor do not all go before another sponsor', async () => {
    const { turns, floodOrder, floodNames } = await floodAndQuiet({ concurrency: 1, groupFiles: 1 });
    // Turn by turn while both have files waiting (ABABAB...), so the quiet sponsor's three
    // files are among the first few, not after the whole flood; a slow start may let the
    // flood take a turn or two more.
    expect(turns.slice(0, 8).replace(/A/g, '')).toBe('BBB');
    // Oldest first within the flood.
    expect(floodOrder).toEqual(floodNames);
  });

  it('takes sponsors in turn a group at a time: a flood goes in bounded groups, the quiet sponsor between them', async () => {
    const { turns, floodOrder, floodNames } = await floodAndQuiet({ concurrency: 1, groupFiles: 4 });
    // Groups of at most four, oldest first: the quiet sponsor's three files go together
    // (one group) after one group of the flood, or two after a slow start; without turns
    // they would come after all twelve.
    expect(turns).toMatch(/^(AAAA){1,2}BBBA+$/);
    expect(floodOrder).toEqual(floodNames);
  });

  it('reconciles every unfinished claim, also past the first hundred that cannot be finished', async () => {
    const licence = await sponsor(t.store.db, nextLicence('R'));
    await ensureSponsorFolders(root, licence);
    // A dead instance (its key's lock is held by nobody) left 100 claims it cannot have finished...
    const dead = 424_242;
    await t.store.db.insert(fileClaims).values(
      Array.from({ length: 100 }, (_, i) => ({
        sponsorLicenceNumber: licence,
        fileName: `lost-${i}.xml`,
        sha256: String(i).padStart(64, '0'),
        sizeBytes: 1,
        owner: dead,
        leaseUntil: new Date(),
        state: 'stored' as const,
        submissionId: 1_000_000_000 + i,
      })),
    );
    const svc = await services.start();
    const me = svc.service.instanceKey;
    await waitFor(async () => (await t.store.db.select().from(fileClaims).where(eq(fileClaims.owner, me))).length === 100, {
      what: 'the lost claims taken over',
    });

    // Then a file of this instance is committed but its result cannot be written, and the
    // sponsor's system takes the input back: only the reconciliation can finish it now.
    rmSync(dir(licence, 'outbox'), { recursive: true });
    writeFileSync(dir(licence, 'outbox'), 'not a folder');
    const file = path.join(dir(licence, 'inbox'), 'late.xml');
    writeFileSync(file, upload(licence, `${licence}L`));
    await waitFor(() => svc.logs.some((l) => l.includes('infrastructure fault') && l.includes('late.xml')), { what: 'the fault' });
    unlinkSync(file);
    unlinkSync(dir(licence, 'outbox'));
    mkdirSync(dir(licence, 'outbox'));
    await waitFor(() => ls(dir(licence, 'outbox')).includes('late.result.xml'), { what: 'the result of the 101st claim' });

    // Each claim that cannot be finished is reported once, not at every scan.
    await svc.service.scan();
    await svc.service.scan();
    const warned = svc.logs.filter((l) => / WARN .*could not finish a file left unfinished.* file=lost-/.test(l));
    expect(warned).toHaveLength(100);
  });
});
