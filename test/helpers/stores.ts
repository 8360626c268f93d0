/**
 * The stores every integration test runs on: the embedded PGlite and the local
 * PostgreSQL (one fresh database per test file). CAS_BDT_TEST_STORES narrows the list,
 * CAS_BDT_TEST_PG points at another server.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { openStore, type Store } from '../../src/db/client.ts';
import { pgliteDir } from '../../src/db/store-paths.ts';
import { sql } from 'drizzle-orm';

export type StoreKind = 'pglite' | 'postgres';

export const STORE_KINDS: StoreKind[] = (process.env.CAS_BDT_TEST_STORES ?? 'pglite,postgres')
  .split(',')
  .map((s) => s.trim())
  .filter((s): s is StoreKind => s === 'pglite' || s === 'postgres');

export const PG_ADMIN_URL = process.env.CAS_BDT_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function tempDir(prefix = 'cas-bdt-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Creates an empty PostgreSQL database and returns its URL and a dropper. */
export async function createPgDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `cas_bdt_t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const a = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {} });
      try {
        await a.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await a.end();
      }
    },
  };
}

const MIGRATIONS = path.resolve(import.meta.dirname, '../../drizzle');

/**
 * A migrated, empty PGlite data directory, made once per migration set and copied for
 * each test store: creating a PGlite cluster costs seconds, copying it a fraction.
 */
async function pgliteTemplate(): Promise<string> {
  const hash = createHash('sha256');
  for (const f of readdirSync(MIGRATIONS)
    .filter((n) => n.endsWith('.sql'))
    .sort())
    hash.update(f).update(readFileSync(path.join(MIGRATIONS, f)));
  const template = path.join(os.tmpdir(), `cas-bdt-pglite-template-${hash.digest('hex').slice(0, 16)}`);
  if (existsSync(template)) return template;
  const building = tempDir('cas-bdt-template-');
  const store = await openStore({ databaseUrl: undefined, dataDir: building });
  await store.close();
  try {
    renameSync(pgliteDir(building), template);
  } catch (err) {
    // Another worker won the race; its template is as good as ours.
    if (!existsSync(template)) throw err;
  }
  rmSync(building, { recursive: true, force: true });
  return template;
}

/** Empties every table (between tests that need a blank store but not a new one). */
export async function resetStore(store: Store): Promise<void> {
  await store.db.execute(
    sql`truncate sponsors, allocations, submissions, batches, payments, cas, cas_events, graduate_reports, file_claims restart identity cascade`,
  );
}

export interface TestStore {
  kind: StoreKind;
  store: Store;
  /** What the CLI needs to reach the same store: --db URL or --data DIR. */
  cliArgs: string[];
  /** Closes the store (the CLI can open the embedded one only then) and reopens it. */
  reopen(): Promise<Store>;
  /** Another handle on the same PostgreSQL database, with connections of its own (closed by cleanup); the embedded store has but one. */
  another(): Promise<Store>;
  cleanup(): Promise<void>;
}

/** The embedded store, closed at most once: a test releases it for the CLI, cleanup closes it again. */
async function openPglite(dataDir: string): Promise<Store> {
  const store = await openStore({ databaseUrl: undefined, dataDir });
  let closing: Promise<void> | undefined;
  return { ...store, close: () => (closing ??= store.close()) };
}

export async function openTestStore(kind: StoreKind): Promise<TestStore> {
  if (kind === 'pglite') {
    const dir = tempDir();
    const dataDir = path.join(dir, 'data');
    cpSync(await pgliteTemplate(), pgliteDir(dataDir), { recursive: true });
    const t: TestStore = {
      kind,
      store: await openPglite(dataDir),
      cliArgs: ['--data', dataDir],
      another: () => Promise.reject(new Error('the embedded store has a single handle')),
      reopen: async () => {
        await t.store.close();
        t.store = await openPglite(dataDir);
        return t.store;
      },
      cleanup: async () => {
        await t.store.close().catch(() => {});
        rmSync(dir, { recursive: true, force: true });
      },
    };
    return t;
  }
  const pg = await createPgDatabase();
  const others: Store[] = [];
  const t: TestStore = {
    kind,
    store: await openStore({ databaseUrl: pg.url, dataDir: '/nonexistent' }),
    cliArgs: ['--db', pg.url],
    reopen: async () => t.store,
    another: async () => {
      const other = await openStore({ databaseUrl: pg.url, dataDir: '/nonexistent', migrate: false });
      others.push(other);
      return other;
    },
    cleanup: async () => {
      for (const s of [...others, t.store]) await s.close().catch(() => {});
      await pg.drop();
    },
  };
  return t;
}
