/**
 * The embedded store: PGlite under the data directory, opened by one process at a time
 * (a lock file); `watch` serves it to the other commands on the directory's Unix socket.
 */
import { setFlagsFromString } from 'node:v8';
import type { PGlite } from '@electric-sql/pglite';
import type { Db, Store } from './store-types.ts';
import { CasBdtError } from '../errors.ts';
import { sampleMemoryOf } from '../timings.ts';
import { prepareDataDir, tightenTree } from './data-dir.ts';
import { acquireLock, type Lock } from './lock.ts';
import { hostPglite } from './pglite-host.ts';
import { openPglite, type OpenedPglite } from './pglite-open.ts';
import { openPostgres } from './postgres-store.ts';
import { COMMAND_SOCKET_PORT, lockPath, SOCKET_PORT, socketAnswers, socketPath, socketReach } from './store-paths.ts';

/** Stops the process at once with `message` on stderr: the store cannot go on as it is. */
function stopProcess(message: string): never {
  process.stderr.write(`cas-bdt: ${message}; stopping\n`);
  process.exit(1);
}

/**
 * Two processes writing one PGlite directory corrupt it. If the lock was taken from this
 * process (frozen past the stale limit, seen from another container), stop at once; the
 * restart waits for the other holder or finds the store free. The same when the store's
 * thread (pglite-host.ts) ends while it serves.
 */
const lockLost = (dataDir: string) => () =>
  stopProcess(`another process took the lock on the embedded store at ${dataDir}; stopping so that the store keeps one writer`);
const storeLost = (dataDir: string) => (why: string) => stopProcess(`the embedded store at ${dataDir} stopped (${why})`);

function takeLock(dataDir: string, waitMs: number): Promise<Lock | undefined> {
  return acquireLock(lockPath(dataDir), { waitMs, onLost: lockLost(dataDir) });
}

/** The data directory made ready and locked for this process; 'store-busy' when another holds it past `waitMs`. */
async function lockDataDir(dataDir: string, waitMs: number | undefined): Promise<Lock> {
  prepareDataDir(dataDir);
  const lock = await takeLock(dataDir, waitMs ?? 15_000);
  if (!lock) throw new CasBdtError('store-busy', busyMessage(dataDir));
  return lock;
}

async function openPgliteLocked(
  dataDir: string,
  lock: Lock,
  opts: { migrate?: boolean | undefined },
): Promise<OpenedPglite & { lock: Lock }> {
  try {
    const opened = await openPglite(dataDir, opts);
    // Its WebAssembly heap grows to what PostgreSQL asked of it and never shrinks: `process --timings` reports its peak.
    sampleMemoryOf('embeddedStoreHeap', opened.heapBytes);
    return { ...opened, lock };
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
  opts: { migrate?: boolean | undefined; lockWaitMs?: number | undefined },
): Promise<{ pglite: PGlite; db: Db; lock: Lock; created: boolean }> {
  return openPgliteLocked(dataDir, await lockDataDir(dataDir, opts.lockWaitMs), opts);
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
  return openHosted(dataDir, lock, SOCKET_PORT, {
    describe: `embedded store at ${dataDir} (served to other commands on ${socketPath(dataDir)})`,
    migrate: true,
    maxConnections: opts.maxConnections ?? 6,
    fetchTypes: opts.fetchTypes,
  });
}

/**
 * The store in a thread of its own (pglite-host.ts), served on the data directory's socket
 * for `port`, and this process's pool of connections to it; closing closes both and frees
 * the directory.
 */
async function openHosted(
  dataDir: string,
  lock: Lock,
  port: number,
  opts: { describe: string; migrate: boolean; maxConnections: number; fetchTypes?: boolean | undefined },
): Promise<Store> {
  // Each part, once open, is closed before those opened before it; the lock last.
  const closeAll: (() => Promise<void>)[] = [() => lock.release()];
  const closeInOrder = async () => {
    for (const c of closeAll.splice(0)) await c().catch(() => {});
  };
  try {
    // A deep data directory is bound and reached through one descriptor of it, held until the thread is closed.
    const reach = socketReach(dataDir, port);
    closeAll.unshift(async () => reach.close());
    const host = await hostPglite({ dataDir, socketFile: reach.file, migrate: opts.migrate }, storeLost(dataDir));
    closeAll.unshift(() => host.close());
    const client = await openPostgres(
      undefined,
      reach.dir,
      // Its connections live as long as the store is open, so prepared statements stay bounded.
      { databaseUrl: undefined, dataDir, migrate: false, prepare: true, maxConnections: opts.maxConnections, fetchTypes: opts.fetchTypes },
      'pglite-socket',
      port,
    );
    closeAll.unshift(() => client.close());
    return {
      db: client.db,
      kind: 'pglite-socket',
      describe: opts.describe,
      created: host.created,
      session: client.session,
      reset: client.reset,
      close: closeInOrder,
    };
  } catch (err) {
    await closeInOrder();
    throw err;
  }
}

/**
 * WebAssembly compiled at its first tier only (Liftoff), from here on in this process, for
 * a command that opens the embedded store and ends. By default V8 compiles PGlite's hot
 * functions again (TurboFan) on helper threads, which take the two cores from the
 * command's own work for longer than the command runs. `process` of 10,000 records took
 * 3.1 to 3.5 s with this, against 4.0 to 4.5 s without it (alternated), and peaked at 277
 * to 300 MB against 340 to 346 MB; 50,000 records about as long, at 349 to 356 MB against
 * 396 to 415 MB. The service (openServedStore) keeps the default: it runs long enough for
 * the second tier to pay. The flag is the process's: the XSD engine's WebAssembly,
 * compiled after it, is compiled the same way.
 */
function compileWasmOnce(): void {
  setFlagsFromString('--liftoff-only');
}

/**
 * The embedded store opened by this process (no service serves it). With `ownThread`, it
 * runs in a thread of its own, reached on a socket of this process alone (the commands
 * that store whole files: the store's work then runs beside theirs).
 */
export async function openPgliteStore(
  dataDir: string,
  opts: { migrate?: boolean | undefined; lockWaitMs?: number | undefined; ownThread?: boolean | undefined },
): Promise<Store> {
  compileWasmOnce();
  if (opts.ownThread) {
    const lock = await lockDataDir(dataDir, opts.lockWaitMs);
    return openHosted(dataDir, lock, COMMAND_SOCKET_PORT, {
      describe: `embedded store at ${dataDir}`,
      migrate: opts.migrate !== false,
      maxConnections: 4,
    });
  }
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
