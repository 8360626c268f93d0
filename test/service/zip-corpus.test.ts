/**
 * The hostile zips through the running service on both stores, all dropped at once, each
 * in a sponsor of its own: each gets its code (a plain result for a zip refused as a
 * whole, a result zip naming the refused entry otherwise), and a canary sponsor's
 * uploads keep flowing while they are worked through.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect } from 'vitest';
import { validateXsd } from '../../src/xml/xsd.ts';
import { storeTest } from '../helpers/fixture.ts';
import { parseResult } from '../helpers/pipeline.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { waitFor } from '../helpers/wait.ts';
import { drop, ls, nextLicence, sponsor, upload } from '../helpers/watch.ts';
import { deflatedZeros, hostileZips, mismatch, readResultZip, type ZipCase } from '../helpers/zips.ts';

let zeros: Buffer;
beforeAll(async () => {
  zeros = await deflatedZeros(300 * 1024 * 1024);
}, 60_000);

describe.each(STORE_KINDS)('hostile zips through the service on %s', (kind) => {
  storeTest.override({ kind });

  storeTest('each gets its code, and another sponsor keeps flowing', { timeout: 240_000 }, async ({ t, root, licence: canary, start }) => {
    const db = t.store.db;
    const cases: (ZipCase & { licence: string })[] = [];
    for (const c of await hostileZips('XXXXXXXXX', 'S', zeros)) {
      // Each case in a sponsor of its own, its uploads naming that sponsor.
      const licence = await sponsor(db, nextLicence('Z'));
      const own = (await hostileZips(licence, licence, zeros)).find((x) => x.kind === c.kind)!;
      cases.push({ ...own, licence });
    }
    // A truncated zip looks like one still being written: deferred for the grace, then refused.
    await start({ unfinishedGraceMs: 1000 });
    await waitFor(
      () => cases.every((c) => existsSync(path.join(root, c.licence, 'inbox'))) && existsSync(path.join(root, canary, 'inbox')),
      {
        what: 'the sponsor folders',
      },
    );
    for (const c of cases) drop(path.join(root, c.licence, 'inbox'), 'EXP-2024-02-02-092514533.zip', c.bytes);
    // The canary's files, dropped while the zips are being worked through, are processed too.
    for (let i = 0; i < 5; i++) drop(path.join(root, canary, 'inbox'), `canary-${i}.xml`, upload(canary, `C${i}`));
    await waitFor(() => ls(path.join(root, canary, 'outbox')).filter((n) => n.startsWith('canary-')).length === 5, {
      timeoutMs: 120_000,
      what: "the canary sponsor's five results",
    });
    const failures: string[] = [];
    for (const c of cases) {
      const outbox = path.join(root, c.licence, 'outbox');
      await waitFor(() => ls(outbox).some((n) => n.startsWith('EXP-2024-02-02-092514533.result.')), {
        timeoutMs: 120_000,
        what: `${c.kind} processed`,
      });
      // The result itself, never the temporary file it was written under (linked, then removed).
      const name = ls(outbox).find((n) => n.startsWith('EXP-2024-02-02-092514533.result.'));
      const file = path.join(outbox, name!);
      let wrong: string | undefined;
      if (name!.endsWith('.zip')) wrong = mismatch({ zip: await readResultZip(file) }, c.expect);
      else {
        expect(await validateXsd({ file }, 'result')).toEqual([]);
        wrong = mismatch({ plain: parseResult(readFileSync(file, 'utf8')) }, c.expect);
      }
      if (wrong) failures.push(`${c.kind}: ${wrong}`);
      const moved = 'accepted' in c.expect ? 'archive' : 'rejected';
      // The input is moved after its result is written: waited for, not looked at once.
      const movedThere = await waitFor(
        () => ls(path.join(root, c.licence, moved)).some((n) => n.endsWith('_EXP-2024-02-02-092514533.zip')),
        {
          timeoutMs: 60_000,
          what: `${c.kind} moved to ${moved}/`,
        },
      ).then(
        () => true,
        () => false,
      );
      if (!movedThere) failures.push(`${c.kind}: not moved to ${moved}/`);
    }
    expect(failures).toEqual([]);
  });
});
