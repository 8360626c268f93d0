/**
 * The integration tests' shared set-up, instead of a preamble in each file. Every test that
 * uses a store gets it here:
 *
 * - `storeTest`, vitest fixtures: a store of each kind (opened on first use, once per file,
 *   and closed at its end) with its own sponsor folder tree, a fresh sponsor in it, an upload
 *   for that sponsor, and the watch service in this process (stopped after each test).
 *
 *     describe.each(STORE_KINDS)('... on %s', (kind) => {
 *       storeTest.override({ kind });
 *       storeTest('...', async ({ t, root, licence, start }) => { ... });
 *     });
 *
 * - for a suite whose tests build on each other: `suiteStore(kind)` (a store of its own,
 *   opened before its tests and removed after them), `suiteDir` (a folder likewise),
 *   `suiteServices` (in-process services stopped after each test), `suiteWatch` (the three
 *   together), `suiteCliStore` (a store the CLI creates itself, for tests that run
 *   `cas-bdt watch` as a child process) and `suiteChildren` (those processes, killed after).
 *
 *     describe.each(STORE_KINDS)('... on %s', (kind) => {
 *       const t = suiteStore(kind);
 *       const root = suiteDir('cas-bdt-x-');
 *       it('...', async () => { await sponsor(t.store.db, ...); });
 *     });
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, test } from 'vitest';
import { eq } from 'drizzle-orm';
import { listCas } from '../../src/db/cas-query.ts';
import { openStore, type Store } from '../../src/db/client.ts';
import { submissions } from '../../src/db/schema.ts';
import { ensureSponsorFolders } from '../../src/inbox/layout.ts';
import { SOCKET_PORT } from '../../src/db/store-paths.ts';
import type { ServiceOptions } from '../../src/service/service.ts';
import { createPgDatabase, openTestStore, tempDir, type StoreKind, type TestStore } from './stores.ts';
import { drop, nextLicence, spawnCli, sponsor, startInProcess, upload, waitProcessed, type Child, type InProcessService } from './watch.ts';

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
  })
  /**
   * The service running for the test's sponsor, which has three CAS assigned from an upload
   * `students.xml` dropped in its inbox and processed; its inbox and outbox folders.
   */
  .extend('threeCas', async ({ t, root, licence, start }) => {
    await ensureSponsorFolders(root, licence);
    const inbox = path.join(root, licence, 'inbox');
    const outbox = path.join(root, licence, 'outbox');
    const running = await start();
    drop(inbox, 'students.xml', upload(licence, `${licence}S`, 3));
    await waitProcessed(root, licence, ['students.xml']);
    return { inbox, outbox, running, cas: await listCas(t.store.db, { licence }) };
  });

/**
 * The store of the enclosing describe block: opened before its first test, closed and
 * removed after its last. What it returns is usable from the first test (or a later
 * `beforeAll`) on.
 */
export function suiteStore(kind: StoreKind): TestStore {
  let opened: TestStore | undefined;
  beforeAll(async () => {
    opened = await openTestStore(kind);
  });
  afterAll(async () => {
    await opened?.cleanup();
  });
  const current = () => {
    if (!opened) throw new Error('the suite store is opened before the first test of its describe block');
    return opened;
  };
  return {
    kind,
    get store() {
      return current().store;
    },
    set store(s: Store) {
      current().store = s;
    },
    get cliArgs() {
      return current().cliArgs;
    },
    reopen: () => current().reopen(),
    another: () => current().another(),
    cleanup: () => current().cleanup(),
  };
}

/** A temporary folder for the enclosing describe block: made before its tests, removed after them. */
export function suiteDir(prefix = 'cas-bdt-'): string {
  const dir = path.join(os.tmpdir(), `${prefix}${randomBytes(6).toString('hex')}`);
  beforeAll(() => {
    mkdirSync(dir, { mode: 0o700 });
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** The services this suite's tests start in this process, on its store and root: each stopped after its test. */
export function suiteServices(t: TestStore, root: string) {
  const started: InProcessService[] = [];
  afterEach(async () => {
    for (const s of started.splice(0)) await s.stop();
  });
  return {
    start: async (over: Partial<ServiceOptions> = {}): Promise<InProcessService> => {
      const s = await startInProcess(t.store, root, over);
      started.push(s);
      return s;
    },
    /** The service the running test started last. */
    get running(): InProcessService | undefined {
      return started.at(-1);
    },
  };
}

/** A suite of tests of the service in this process: its store, sponsor tree and services, and two looks at them. */
export function suiteWatch(kind: StoreKind, prefix: string) {
  const t = suiteStore(kind);
  const root = suiteDir(prefix);
  const services = suiteServices(t, root);
  return {
    t,
    root,
    services,
    start: services.start,
    /** One of a sponsor's folders. */
    dir: (licence: string, f: 'inbox' | 'outbox' | 'archive' | 'rejected') => path.join(root, licence, f),
    /** A sponsor's submissions, oldest first. */
    subsOf: (licence: string) =>
      t.store.db.select().from(submissions).where(eq(submissions.sponsorLicenceNumber, licence)).orderBy(submissions.id),
  };
}

/**
 * A store that `cas-bdt` child processes create and share: an empty PostgreSQL database
 * (made before the suite's tests, dropped after them) or an embedded data folder `dataDir`
 * that does not exist yet.
 */
export function suiteCliStore(kind: StoreKind, dataDir: string) {
  let db: Awaited<ReturnType<typeof createPgDatabase>> | undefined;
  if (kind === 'postgres') {
    beforeAll(async () => {
      db = await createPgDatabase();
    });
    afterAll(async () => {
      await db?.drop();
    });
  }
  const url = () => {
    if (kind === 'pglite') return undefined;
    if (!db) throw new Error('the suite database is made before the first test of its describe block');
    return db.url;
  };
  return {
    /** --db URL or --data DIR. */
    get cliArgs(): string[] {
      return kind === 'postgres' ? ['--db', url()!] : ['--data', dataDir];
    },
    /** Opens the store in this process (on PGlite only while no child holds it). */
    open: (): Promise<Store> => openStore({ databaseUrl: url(), dataDir }),
    /** A plain client, for watching the tables while a child runs (through its socket on PGlite). */
    observer: () => {
      const u = url();
      return u
        ? postgres(u, { max: 1, onnotice: () => {} })
        : postgres({
            host: dataDir,
            port: SOCKET_PORT,
            user: 'postgres',
            database: 'template1',
            max: 1,
            prepare: false,
            onnotice: () => {},
          });
    },
  };
}

/** Starts `cas-bdt` child processes (as `spawnCli`); whichever still run after the suite are killed. */
export function suiteChildren(): typeof spawnCli {
  const children: Child[] = [];
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
  });
  return (args, opts) => {
    const c = spawnCli(args, opts);
    children.push(c);
    return c;
  };
}
