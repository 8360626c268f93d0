/**
 * The stores every integration test runs on: the embedded PGlite and the local
 * PostgreSQL (one fresh database per test file). CAS_BDT_TEST_STORES narrows the list,
 * CAS_BDT_TEST_PG points at another server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { openStore, type Store } from '../../src/db/client.ts';

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

export interface TestStore {
  kind: StoreKind;
  store: Store;
  /** What the CLI needs to reach the same store: --db URL or --data DIR. */
  cliArgs: string[];
  /** Closes the store (the CLI can open the embedded one only then) and reopens it. */
  reopen(): Promise<Store>;
  cleanup(): Promise<void>;
}

export async function openTestStore(kind: StoreKind): Promise<TestStore> {
  if (kind === 'pglite') {
    const dir = tempDir();
    const dataDir = path.join(dir, 'data');
    const t: TestStore = {
      kind,
      store: await openStore({ databaseUrl: undefined, dataDir }),
      cliArgs: ['--data', dataDir],
      reopen: async () => {
        await t.store.close();
        t.store = await openStore({ databaseUrl: undefined, dataDir });
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
  const t: TestStore = {
    kind,
    store: await openStore({ databaseUrl: pg.url, dataDir: '/nonexistent' }),
    cliArgs: ['--db', pg.url],
    reopen: async () => t.store,
    cleanup: async () => {
      await t.store.close().catch(() => {});
      await pg.drop();
    },
  };
  return t;
}
