/**
 * The embedded store: PGlite under the data directory, opened by one process at a time
 * (a lock file); `watch` serves it to the other commands on the directory's Unix socket.
 */
import type { PGlite } from '@electric-sql/pglite';
import type { Db, Store } from './store-types.ts';
import { existsSync } from 'node:fs';
import { CasBdtError } from '../errors.ts';
import { sampleMemoryOf } from '../timings.ts';
import { prepareDataDir, tightenTree } from './data-dir.ts';
import { acquireLock, type Lock } from './lock.ts';
import { openPostgres } from './postgres-store.ts';
import { schema } from './schema.ts';
import { lockPath, MIGRATIONS, PGLITE_SHARED_BUFFERS, pgliteDir, socketAnswers, socketPath } from './store-paths.ts';

/**
 * Two processes writing one PGlite directory corrupt it. If the lock was taken from this
 * process (frozen past the stale limit, seen from another container), stop at once; the
 * restart waits for the other holder or finds the store free.
 */
function lockLost(dataDir: string): () => void {
  return () => {
    process.stderr.write(
      `cas-bdt: another process took the lock on the embedded store at ${dataDir}; stopping so that the store keeps one writer\n`,
    );
    process.exit(1);
  };
}

function takeLock(dataDir: string, waitMs: number): Promise<Lock | undefined> {
  return acquireLock(lockPath(dataDir), { waitMs, onLost: lockLost(dataDir) });
}

async function openPgliteLocked(
  dataDir: string,
  lock: Lock,
  opts: { migrate?: boolean },
): Promise<{ pglite: PGlite; db: Db; lock: Lock; created: boolean }> {
  try {
    const created = !existsSync(pgliteDir(dataDir));
    // The embedded engine is loaded only when it is used (a PostgreSQL store never needs it).
    const [{ PGlite }, { drizzle: drizzlePglite }, { migrate: migratePglite }, { DurableNodeFS, durableStartParams }] = await Promise.all([
      import('@electric-sql/pglite'),
      import('drizzle-orm/pglite'),
      import('drizzle-orm/pglite/migrator'),
      import('./durable-fs.ts'),
    ]);
    // Every commit flushed to disk before it returns (durable-fs.ts): a power cut loses no committed file.
    const pglite = await PGlite.create({
      fs: new DurableNodeFS(pgliteDir(dataDir)),
      startParams: [...durableStartParams(PGlite.defaultStartParams), '-c', `shared_buffers=${PGLITE_SHARED_BUFFERS}`],
    });
    // Its WebAssembly heap grows to what PostgreSQL asked of it and never shrinks: `process --timings` reports its peak.
    sampleMemoryOf('embeddedStoreHeap', () => (pglite as unknown as { mod?: { HEAPU8?: Uint8Array } }).mod?.HEAPU8?.byteLength);
    const db = drizzlePglite(pglite, { schema }) as unknown as Db;
    if (opts.migrate !== false) {
      await migratePglite(db as Parameters<typeof migratePglite>[0], { migrationsFolder: MIGRATIONS });
    }
    tightenTree(dataDir);
    return { pglite, db, lock, created };
  } catch (err) {
    await lock.release();
    throw err;
  }
}

/** Closes PGlite, tightens what it wrote since the start, then frees the directory. */
async function closePglite(pglite: PGlite, dataDir: string, lock: Lock): Promise<void> {
  try {
    await pglite.close();
    tightenTree(dataDir);
  } finally {
    await lock.release();
  }
}

const busyMessage = (dataDir: string) =>
  `the embedded store at ${dataDir} is in use by another cas-bdt process; ` +
  'if it is `cas-bdt watch`, commands reach the store through it automatically';

/** Opens the embedded PGlite in this process, holding the data directory's lock. */
export async function openPgliteDirect(
  dataDir: string,
  opts: { migrate?: boolean; lockWaitMs?: number },
): Promise<{ pglite: PGlite; db: Db; lock: Lock; created: boolean }> {
  prepareDataDir(dataDir);
  const lock = await takeLock(dataDir, opts.lockWaitMs ?? 15_000);
  if (!lock) throw new CasBdtError('store-busy', busyMessage(dataDir));
  return openPgliteLocked(dataDir, lock, opts);
}

/**
 * The embedded store as `watch` opens it: PGlite in this process (holding the lock),
 * served on the data directory's socket to the other commands, and used by this process
 * through the same socket too, so that its transactions and the other commands' take
 * turns on PGlite's one session. Refuses (CasBdtError 'store-busy') when another service already
 * serves the directory or another process holds it past `lockWaitMs` (default 45 s);
 * waiting covers a short command that has it open and the lock of a service killed in
 * another container going stale (30 s; on this host a killed owner's lock is free at once).
 */
export async function openServedStore(opts: {
  dataDir: string;
  lockWaitMs?: number;
  maxConnections?: number;
  fetchTypes?: boolean;
}): Promise<Store> {
  const { dataDir } = opts;
  const serving = () =>
    new CasBdtError(
      'store-busy',
      `another cas-bdt watch is already serving the embedded store at ${dataDir}; only one service may run on it`,
    );
  prepareDataDir(dataDir);
  const deadline = Date.now() + (opts.lockWaitMs ?? 45_000);
  let lock: Lock | undefined;
  while (!lock) {
    if (await socketAnswers(dataDir)) throw serving();
    lock = await takeLock(dataDir, 500);
    if (!lock && Date.now() >= deadline) throw new CasBdtError('store-busy', busyMessage(dataDir));
  }
  // Holding the lock: a live service would hold it too, so anything answering now is not one.
  if (await socketAnswers(dataDir)) {
    await lock.release();
    throw serving();
  }
  const { pglite, created } = await openPgliteLocked(dataDir, lock, { migrate: true });
  const closeAll: (() => Promise<void>)[] = [() => closePglite(pglite, dataDir, lock)];
  const closeReverse = async () => {
    for (const c of closeAll.splice(0)) await c().catch(() => {});
  };
  try {
    const { serveOnSocket } = await import('./socket-server.ts');
    const server = await serveOnSocket(pglite, socketPath(dataDir));
    closeAll.unshift(() => server.close());
    const client = await openPostgres(
      undefined,
      dataDir,
      // The service's connections live as long as it does, so prepared statements stay bounded.
      {
        databaseUrl: undefined,
        dataDir,
        migrate: false,
        prepare: true,
        maxConnections: opts.maxConnections ?? 6,
        fetchTypes: opts.fetchTypes,
      },
      'pglite-socket',
    );
    closeAll.unshift(() => client.close());
    return {
      db: client.db,
      kind: 'pglite-socket',
      describe: `embedded store at ${dataDir} (served to other commands on ${socketPath(dataDir)})`,
      created,
      session: client.session,
      reset: client.reset,
      close: closeReverse,
    };
  } catch (err) {
    await closeReverse();
    throw err;
  }
}

/** The embedded store opened in this process (no service serves it). */
export async function openPgliteStore(dataDir: string, opts: { migrate?: boolean; lockWaitMs?: number }): Promise<Store> {
  const { pglite, db, lock, created } = await openPgliteDirect(dataDir, opts);
  return {
    db,
    kind: 'pglite',
    describe: `embedded store at ${dataDir}`,
    created,
    session: async () => ({ db, close: async () => {} }),
    close: () => closePglite(pglite, dataDir, lock),
  };
}
