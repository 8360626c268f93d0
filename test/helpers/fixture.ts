/**
 * The integration tests' shared set-up as vitest fixtures, instead of a preamble in each
 * file: a store of each kind (opened on first use, once per file, and closed at its end)
 * with its own sponsor folder tree, a fresh sponsor in it, an upload for that sponsor,
 * and the watch service in this process (stopped after each test).
 *
 *   describe.each(STORE_KINDS)('... on %s', (kind) => {
 *     storeTest.override({ kind });
 *     storeTest('...', async ({ t, root, licence, start }) => { ... });
 *   });
 */
import { rmSync } from 'node:fs';
import { test } from 'vitest';
import type { ServiceOptions } from '../../src/service/service.ts';
import { openTestStore, tempDir, type StoreKind, type TestStore } from './stores.ts';
import { nextLicence, sponsor, startInProcess, upload, type InProcessService } from './watch.ts';

/** The stores a test file opened, one per kind, each with a sponsor folder tree. */
class FileStores {
  private readonly stores = new Map<StoreKind, Promise<TestStore>>();
  private readonly roots = new Map<StoreKind, string>();

  store(kind: StoreKind): Promise<TestStore> {
    let s = this.stores.get(kind);
    if (!s) this.stores.set(kind, (s = openTestStore(kind)));
    return s;
  }

  root(kind: StoreKind): string {
    let r = this.roots.get(kind);
    if (!r) this.roots.set(kind, (r = tempDir(`cas-bdt-${kind}-root-`)));
    return r;
  }

  async close(): Promise<void> {
    for (const s of this.stores.values()) await (await s.catch(() => undefined))?.cleanup();
    for (const r of this.roots.values()) rmSync(r, { recursive: true, force: true });
  }
}

export const storeTest = test
  /** Which store the tests of a suite run on: `storeTest.override({ kind })` in `describe.each(STORE_KINDS)`. */
  .extend('kind', 'pglite' as StoreKind)
  // eslint-disable-next-line no-empty-pattern -- vitest reads a fixture's dependencies from this pattern
  .extend('stores', { scope: 'file' }, async ({}, { onCleanup }) => {
    const stores = new FileStores();
    onCleanup(() => stores.close());
    return stores;
  })
  .extend('t', async ({ kind, stores }) => stores.store(kind))
  /** The sponsor folder tree of this file's store of this kind. */
  .extend('root', async ({ kind, stores }) => stores.root(kind))
  /** A sponsor of its own for this test (allocation 1000, student route); its folders are made by the service. */
  .extend('licence', async ({ t }) => sponsor(t.store.db, nextLicence('F')))
  /** An upload of `records` records for the test's sponsor. */
  .extend(
    'uploadFor',
    async ({ licence }) =>
      (tag: string, records = 1) =>
        upload(licence, tag, records),
  )
  /** Starts the service on the test's store and root; every service started is stopped after the test. */
  .extend('start', async ({ t, root }, { onCleanup }) => {
    const started: InProcessService[] = [];
    onCleanup(async () => {
      for (const s of started) await s.stop();
    });
    return async (over: Partial<ServiceOptions> = {}) => {
      const s = await startInProcess(t.store, root, over);
      started.push(s);
      return s;
    };
  });
