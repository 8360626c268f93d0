/**
 * Opens the store: PostgreSQL through `postgres` when a URL is configured, otherwise the
 * embedded PGlite under the data directory. An embedded directory is opened by one
 * process at a time (a lock file); while `watch` owns it, other commands reach it through
 * the Unix socket the service serves in the data directory.
 */
import { existsSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { acquireLock, type Lock } from './lock.ts';
import { schema } from './schema.ts';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;
/** A transaction handle; it offers the same query API as Db. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export type StoreKind = 'postgres' | 'pglite' | 'pglite-socket';

export interface Store {
  db: Db;
  kind: StoreKind;
  /** Human description for start-up lines (never includes a password). */
  describe: string;
  close(): Promise<void>;
}

export class StoreBusyError extends Error {}

const MIGRATIONS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../drizzle');
/** Any constant: all cas-bdt processes take this advisory lock around migrations. */
const MIGRATION_LOCK_KEY = 7_271_020_260;

export const SOCKET_PORT = 5432;
export function socketPath(dataDir: string): string {
  return path.join(dataDir, `.s.PGSQL.${SOCKET_PORT}`);
}
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
}

async function openPostgres(url: string | undefined, socketDir: string | undefined, opts: OpenOptions, kind: StoreKind): Promise<Store> {
  const client = socketDir
    ? postgresClient({ host: socketDir, port: SOCKET_PORT, user: 'postgres', database: 'template1' }, opts.maxConnections ?? 4)
    : postgresClient({ url }, opts.maxConnections ?? 10);
  const db = drizzlePostgres(client, { schema }) as unknown as Db;
  try {
    await client`select 1`;
    if (opts.migrate !== false) await migrateWithLock(client, db);
  } catch (err) {
    await client.end({ timeout: 1 }).catch(() => {});
    throw err;
  }
  return {
    db,
    kind,
    describe: socketDir ? `embedded store at ${opts.dataDir} (through the running service)` : `PostgreSQL ${redact(url ?? '')}`,
    close: () => client.end({ timeout: 5 }),
  };
}

/** Opens the embedded PGlite in this process, holding the data directory's lock. */
export async function openPgliteDirect(
  dataDir: string,
  opts: { migrate?: boolean; lockWaitMs?: number },
): Promise<{ pglite: PGlite; db: Db; lock: Lock }> {
  mkdirSync(dataDir, { recursive: true });
  const lock = await acquireLock(lockPath(dataDir), opts.lockWaitMs ?? 15_000);
  if (!lock) {
    throw new StoreBusyError(
      `the embedded store at ${dataDir} is in use by another cas-bdt process; ` +
        'if it is `cas-bdt watch`, commands reach the store through it automatically',
    );
  }
  try {
    const pglite = await PGlite.create(pgliteDir(dataDir));
    const db = drizzlePglite(pglite, { schema }) as unknown as Db;
    if (opts.migrate !== false) {
      await migratePglite(db as Parameters<typeof migratePglite>[0], { migrationsFolder: MIGRATIONS });
    }
    return { pglite, db, lock };
  } catch (err) {
    await lock.release();
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
    close: async () => {
      try {
        await pglite.close();
      } finally {
        await lock.release();
      }
    },
  };
}

export { openPostgres as openPostgresStore };
