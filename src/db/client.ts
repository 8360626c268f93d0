/**
 * Opens the store: PostgreSQL through `postgres` when a URL is configured, otherwise the
 * embedded PGlite under the data directory. An embedded directory is opened by one
 * process at a time (a lock file); while `watch` owns it, other commands reach it through
 * the Unix socket the service serves in the data directory.
 */
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { prepareDataDir, tightenTree } from './data-dir.ts';
import { acquireLock, type Lock } from './lock.ts';
import { schema } from './schema.ts';
import { StoreBusyError } from './lock.ts';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;
/** A transaction handle; it offers the same query API as Db. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export type StoreKind = 'postgres' | 'pglite' | 'pglite-socket';

export interface Store {
  db: Db;
  kind: StoreKind;
  /** Human description for start-up lines (never includes a password). */
  describe: string;
  /**
   * A second handle on one dedicated connection that lives as long as the store, for
   * session state such as the service's liveness advisory lock (the pool recycles its
   * connections). The in-process PGlite is one session, so it returns the same db.
   */
  session(): Promise<{ db: Db; close(): Promise<void> }>;
  /**
   * Replaces the connection pool (PostgreSQL and the socket). postgres.js 3.4.9 can leave
   * a connection unusable for good when the server closed it inside a transaction (its
   * ROLLBACK is written to the dead socket from a timer and throws there; later queries
   * on it hang until the connect timeout); the service calls this after a lost
   * connection. Queries still running on the old pool get 10 s to finish.
   */
  reset?(): Promise<void>;
  close(): Promise<void>;
}

export { StoreBusyError } from './lock.ts';

const CONNECTION_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTCONN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  // admin_shutdown, crash_shutdown, cannot_connect_now
  '57P01',
  '57P02',
  '57P03',
]);

/** True when the error says a database connection was lost or could not be made (SQLSTATE class 08 included). */
export function isConnectionError(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 10; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && (CONNECTION_CODES.has(e.code) || /^08[0-9A-Z]{3}$/.test(e.code))) return true;
  }
  return false;
}

const MIGRATIONS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../drizzle');
/** Any constant: all cas-bdt processes take this advisory lock around migrations. */
const MIGRATION_LOCK_KEY = 7_271_020_260;

export const SOCKET_PORT = 5432;
export function socketPath(dataDir: string): string {
  return path.join(dataDir, `.s.PGSQL.${SOCKET_PORT}`);
}
/**
 * PGlite's buffer cache lives in its WebAssembly memory, which never shrinks: PostgreSQL's
 * default (128 MB) adds that much to the process once a large file has been stored. 16 MB
 * keeps the embedded store small, and measured no slower (the pages are in the file
 * system's cache anyway).
 */
const PGLITE_SHARED_BUFFERS = '16MB';

export function pgliteDir(dataDir: string): string {
  return path.join(dataDir, 'pgdata');
}
export function lockPath(dataDir: string): string {
  return path.join(dataDir, 'cas-bdt.lock');
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres (unparsable URL)';
  }
}

/** True when something answers on the data directory's socket (a running `watch`). */
export function socketAnswers(dataDir: string, timeoutMs = 1000): Promise<boolean> {
  const p = socketPath(dataDir);
  if (!existsSync(p)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const s = net.connect(p);
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

function postgresClient(options: postgres.Options<{}> & { url?: string }, max: number) {
  const { url, ...rest } = options;
  const common = { max, onnotice: () => {}, ...rest };
  return url ? postgres(url, common) : postgres(common);
}

async function migrateWithLock(client: postgres.Sql, db: Db): Promise<void> {
  const reserved = await client.reserve();
  try {
    await reserved`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    try {
      await migratePostgres(db as Parameters<typeof migratePostgres>[0], { migrationsFolder: MIGRATIONS });
    } finally {
      await reserved`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
    }
  } finally {
    reserved.release();
  }
}

export interface OpenOptions {
  databaseUrl: string | undefined;
  dataDir: string;
  /** Apply migrations (default true). */
  migrate?: boolean;
  /** Pool size for PostgreSQL connections (default 10). */
  maxConnections?: number;
  /** How long to wait for another process's lock on the embedded store (default 15000 ms). */
  lockWaitMs?: number;
  /**
   * Named prepared statements (default: true for PostgreSQL, false through the service's
   * socket, where every client shares PGlite's one session and a statement prepared by a
   * short-lived command would stay there until the service stops).
   */
  prepare?: boolean;
  /**
   * Let postgres.js fetch array types on every new connection (default true). The watch
   * service turns it off: postgres.js 3.4.9 drops that query's promise, so a connection
   * killed while it runs (database restart) becomes an unhandled rejection that would
   * stop the service (porsager/postgres#1192). drizzle parses array columns itself.
   */
  fetchTypes?: boolean;
}

async function openPostgres(url: string | undefined, socketDir: string | undefined, opts: OpenOptions, kind: StoreKind): Promise<Store> {
  const common: postgres.Options<{}> = opts.fetchTypes === false ? { fetch_types: false } : {};
  const connect = (max: number, extra: postgres.Options<{}> = {}) =>
    socketDir
      ? postgresClient({ host: socketDir, port: SOCKET_PORT, user: 'postgres', database: 'template1', prepare: opts.prepare ?? false, ...common, ...extra }, max)
      : postgresClient({ url, ...(opts.prepare !== undefined ? { prepare: opts.prepare } : {}), ...common, ...extra }, max);
  // Through the socket, a recycled connection would leave its prepared statements behind.
  const newClient = () => connect(opts.maxConnections ?? (socketDir ? 4 : 10), socketDir && opts.prepare ? { max_lifetime: null } : {});
  let client = newClient();
  let current = drizzlePostgres(client, { schema }) as unknown as Db;
  try {
    await client`select 1`;
    if (opts.migrate !== false) await migrateWithLock(client, current);
  } catch (err) {
    await client.end({ timeout: 1 }).catch(() => {});
    throw err;
  }
  // `db` always reaches the current pool, so that `reset` can replace a broken one.
  const db = new Proxy(current, {
    get(_target, prop) {
      const value = Reflect.get(current, prop, current) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(current) : value;
    },
  });
  return {
    db,
    kind,
    describe: socketDir ? `embedded store at ${opts.dataDir} (through the running service)` : `PostgreSQL ${redact(url ?? '')}`,
    session: async () => {
      // One connection that is never recycled; postgres.js reconnects it if it drops.
      const one = connect(1, { max_lifetime: null, idle_timeout: 0 });
      return { db: drizzlePostgres(one, { schema }) as unknown as Db, close: () => one.end({ timeout: 5 }) };
    },
    reset: async () => {
      const old = client;
      client = newClient();
      current = drizzlePostgres(client, { schema }) as unknown as Db;
      // Work still running on the old pool may finish; a stuck connection is cut after the grace.
      await old.end({ timeout: 10 }).catch(() => {});
    },
    close: () => client.end({ timeout: 5 }),
  };
}

/**
 * Two processes writing one PGlite directory corrupt it. If the lock was taken from this
 * process (frozen past the stale limit, seen from another container), stop at once; the
 * restart waits for the other holder or finds the store free.
 */
function lockLost(dataDir: string): () => void {
  return () => {
    process.stderr.write(`cas-bdt: another process took the lock on the embedded store at ${dataDir}; stopping so that the store keeps one writer\n`);
    process.exit(1);
  };
}

function takeLock(dataDir: string, waitMs: number): Promise<Lock | undefined> {
  return acquireLock(lockPath(dataDir), { waitMs, onLost: lockLost(dataDir) });
}

async function openPgliteLocked(dataDir: string, lock: Lock, opts: { migrate?: boolean }): Promise<{ pglite: PGlite; db: Db; lock: Lock }> {
  try {
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
    const db = drizzlePglite(pglite, { schema }) as unknown as Db;
    if (opts.migrate !== false) {
      await migratePglite(db as Parameters<typeof migratePglite>[0], { migrationsFolder: MIGRATIONS });
    }
    tightenTree(dataDir);
    return { pglite, db, lock };
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
): Promise<{ pglite: PGlite; db: Db; lock: Lock }> {
  prepareDataDir(dataDir);
  const lock = await takeLock(dataDir, opts.lockWaitMs ?? 15_000);
  if (!lock) throw new StoreBusyError(busyMessage(dataDir));
  return openPgliteLocked(dataDir, lock, opts);
}

/**
 * The embedded store as `watch` opens it: PGlite in this process (holding the lock),
 * served on the data directory's socket to the other commands, and used by this process
 * through the same socket too, so that its transactions and the other commands' take
 * turns on PGlite's one session. Refuses (StoreBusyError) when another service already
 * serves the directory or another process holds it past `lockWaitMs` (default 45 s);
 * waiting covers a short command that has it open and the lock of a service killed in
 * another container going stale (30 s; on this host a killed owner's lock is free at once).
 */
export async function openServedStore(opts: { dataDir: string; lockWaitMs?: number; maxConnections?: number; fetchTypes?: boolean }): Promise<Store> {
  const { dataDir } = opts;
  const serving = () =>
    new StoreBusyError(`another cas-bdt watch is already serving the embedded store at ${dataDir}; only one service may run on it`);
  prepareDataDir(dataDir);
  const deadline = Date.now() + (opts.lockWaitMs ?? 45_000);
  let lock: Lock | undefined;
  while (!lock) {
    if (await socketAnswers(dataDir)) throw serving();
    lock = await takeLock(dataDir, 500);
    if (!lock && Date.now() >= deadline) throw new StoreBusyError(busyMessage(dataDir));
  }
  // Holding the lock: a live service would hold it too, so anything answering now is not one.
  if (await socketAnswers(dataDir)) {
    await lock.release();
    throw serving();
  }
  const { pglite } = await openPgliteLocked(dataDir, lock, { migrate: true });
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
        ...(opts.fetchTypes !== undefined ? { fetchTypes: opts.fetchTypes } : {}),
      },
      'pglite-socket',
    );
    closeAll.unshift(() => client.close());
    return {
      db: client.db,
      kind: 'pglite-socket',
      describe: `embedded store at ${dataDir} (served to other commands on ${socketPath(dataDir)})`,
      session: client.session,
      ...(client.reset ? { reset: client.reset } : {}),
      close: closeReverse,
    };
  } catch (err) {
    await closeReverse();
    throw err;
  }
}

export async function openStore(opts: OpenOptions): Promise<Store> {
  if (opts.databaseUrl) return openPostgres(opts.databaseUrl, undefined, opts, 'postgres');
  if (await socketAnswers(opts.dataDir)) return openPostgres(undefined, opts.dataDir, opts, 'pglite-socket');
  const { pglite, db, lock } = await openPgliteDirect(opts.dataDir, opts);
  return {
    db,
    kind: 'pglite',
    describe: `embedded store at ${opts.dataDir}`,
    session: async () => ({ db, close: async () => {} }),
    close: () => closePglite(pglite, opts.dataDir, lock),
  };
}

