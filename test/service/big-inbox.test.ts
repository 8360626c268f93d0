/**
 * An inbox of tens of thousands of files costs one watch per inbox directory, never one
 * per file (an fs.watch or a stat poller each, as chokidar does), with file-system events
 * and with polling; and the service drains a big inbox filled while it runs.
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureSponsorFolders } from '../../src/inbox/layout.ts';
import { suiteDir, suiteServices, suiteStore } from '../helpers/fixture.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { waitFor } from '../helpers/wait.ts';
import { nextLicence, sponsor } from '../helpers/watch.ts';

const FILES = Number(process.env.CAS_BDT_TEST_BIG_INBOX ?? 20_000);
/** Files drained end to end: each costs a transaction, a result and a move (CAS_BDT_TEST_DRAIN=20000 for the full size). */
const DRAIN = Number(process.env.CAS_BDT_TEST_DRAIN ?? 2_000);

/** inotify watches this process holds (what fs.watch costs on Linux). */
function inotifyWatches(): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fdinfo')) {
    try {
      n += (readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').match(/^inotify wd:/gm) ?? []).length;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

/** fs.watchFile pollers (what polling costs). */
const statWatchers = () =>
  (process as unknown as { _getActiveHandles(): object[] })._getActiveHandles().filter((h) => h.constructor.name === 'StatWatcher').length;

// The watcher does not depend on the store; one store is enough for this size.
describe.skipIf(STORE_KINDS.length === 0)(`an inbox of ${FILES} files`, () => {
  const kind = STORE_KINDS.includes('postgres') ? 'postgres' : 'pglite';
  const t = suiteStore(kind);
  const root = suiteDir('cas-bdt-big-');
  const services = suiteServices(t, root);

  for (const poll of [false, true]) {
    it(`watches the inbox directory, not each file (poll: ${poll})`, async () => {
      const licence = await sponsor(t.store.db, nextLicence('Z'));
      await ensureSponsorFolders(root, licence);
      const inbox = path.join(root, licence, 'inbox');
      // Upload names in progress: candidates for a watcher, never processed.
      for (let i = 0; i < FILES; i++) writeFileSync(path.join(inbox, `f${i}.xml.part`), '');
      const before = { inotify: inotifyWatches(), stat: statWatchers() };
      const svc = await services.start({ poll, scanIntervalMs: 60_000 });
      await waitFor(() => svc.service.sponsors().includes(licence), { what: 'watching' });
      // A new file is seen (by the watcher: the periodic listing is a minute away)...
      writeFileSync(path.join(inbox, 'seen.xml'), '<seen/>');
      await waitFor(() => !readdirSync(inbox).includes('seen.xml'), { timeoutMs: 30_000, what: 'the new file taken' });
      // ...and the watches did not grow with the files.
      expect(inotifyWatches() - before.inotify).toBeLessThan(20);
      expect(statWatchers() - before.stat).toBeLessThan(20);
      rmSync(inbox, { recursive: true });
      await ensureSponsorFolders(root, licence);
    });
  }

  it('watches an inbox again after it was replaced', async () => {
    const licence = await sponsor(t.store.db, nextLicence('Z'));
    await ensureSponsorFolders(root, licence);
    const inbox = path.join(root, licence, 'inbox');
    // The periodic listing is far away: only the watch can find the file in time.
    const svc = await services.start({ scanIntervalMs: 600_000 });
    await waitFor(() => svc.service.sponsors().includes(licence), { what: 'watching' });
    rmSync(inbox, { recursive: true });
    await ensureSponsorFolders(root, licence);
    await svc.service.scan();
    writeFileSync(path.join(inbox, 'after.xml'), '<after/>');
    await waitFor(() => !readdirSync(inbox).includes('after.xml'), { timeoutMs: 30_000, what: 'the file in the new inbox taken' });
  });

  it(`drains ${DRAIN} files created quickly while it runs`, async () => {
    const licence = await sponsor(t.store.db, nextLicence('Z'));
    await ensureSponsorFolders(root, licence);
    const inbox = path.join(root, licence, 'inbox');
    const running = await services.start({ concurrency: 4 });
    await waitFor(() => running.service.sponsors().includes(licence), { what: 'watching' });
    // Created quickly while it runs: tiny files, each refused (E_UNKNOWN_FILE_TYPE) with a result.
    for (let i = 0; i < DRAIN; i++) writeFileSync(path.join(inbox, `e${i}.xml`), '<e/>');
    await waitFor(() => readdirSync(inbox).length === 0, { timeoutMs: 600_000, intervalMs: 500, what: 'the inbox drained' });
    expect(readdirSync(path.join(root, licence, 'rejected'))).toHaveLength(DRAIN);
    expect(readdirSync(path.join(root, licence, 'outbox'))).toHaveLength(DRAIN);
  }, 700_000);
});
