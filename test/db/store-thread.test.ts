/**
 * The embedded store in a thread of its own (`process`, and `watch`'s served store): it
 * works on a socket that only this process looks for, its work runs beside the main
 * thread's, and closing it leaves the directory free and no socket behind.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/db/client.ts';
import { openPgliteDirect, openServedStore } from '../../src/db/pglite-store.ts';
import { rowsOf } from '../../src/db/sql-util.ts';
import { COMMAND_SOCKET_PORT, socketAnswers, socketPath } from '../../src/db/store-paths.ts';
import { STORE_KINDS, tempDir } from '../helpers/stores.ts';

const open = (dataDir: string, ownThread: boolean) => openStore({ databaseUrl: undefined, dataDir, ownThread, lockWaitMs: 300 });

/**
 * How many turns the main thread's event loop takes while the store runs one long
 * statement: none while the statement runs in the main thread itself.
 */
async function turnsDuring(store: Store): Promise<number> {
  let turns = 0;
  let running = true;
  const spin = () => {
    turns++;
    if (running) setImmediate(spin);
  };
  const query = rowsOf<{ n: number }>(
    store.db,
    sql`select count(*)::int as n from generate_series(1, 3000000) g cross join lateral (select g % 7) x`,
  );
  setImmediate(spin);
  const [row] = await query.finally(() => (running = false));
  expect(row!.n).toBe(3_000_000);
  return turns;
}

describe.skipIf(!STORE_KINDS.includes('pglite'))('the embedded store in a thread of its own', () => {
  it('answers on a socket of its own, private to its user, while the main thread goes on; closing removes it', async () => {
    const dataDir = path.join(tempDir(), 'data');
    const store = await open(dataDir, true);
    const socket = socketPath(dataDir, COMMAND_SOCKET_PORT);
    try {
      expect(store.kind).toBe('pglite-socket');
      expect(store.created).toBe(true);
      expect(lstatSync(socket).isSocket()).toBe(true);
      expect(lstatSync(socket).mode & 0o777).toBe(0o600);
      expect(lstatSync(dataDir).mode & 0o777).toBe(0o700);
      // Other commands do not take it for a running service.
      expect(await socketAnswers(dataDir)).toBe(false);
      expect(await turnsDuring(store)).toBeGreaterThan(100);
      // The directory is held: another opener is refused as ever.
      await expect(openPgliteDirect(dataDir, { lockWaitMs: 200 })).rejects.toMatchObject({ code: 'store-busy' });
    } finally {
      await store.close();
    }
    expect(existsSync(socket)).toBe(false);
    // Free at once, with what was stored (the migrations) kept.
    const again = await open(dataDir, false);
    try {
      expect(again.kind).toBe('pglite');
      expect(again.created).toBe(false);
      const [applied] = await rowsOf<{ n: number }>(again.db, sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
      expect(applied!.n).toBeGreaterThan(0);
      // In the main thread, the same statement holds the event loop for as long as it runs.
      expect(await turnsDuring(again)).toBeLessThan(20);
    } finally {
      await again.close();
    }
  });

  it('that cannot be opened is an error that says so, and leaves the directory free', async () => {
    const dataDir = path.join(tempDir(), 'data');
    mkdirSync(dataDir, { mode: 0o700 });
    // The store's own directory is a file: PGlite cannot open it.
    writeFileSync(path.join(dataDir, 'pgdata'), 'not a store');
    await expect(open(dataDir, true)).rejects.toThrow(/the embedded store could not be opened/);
    // Not 'store-busy': the lock was let go with the thread.
    await expect(open(dataDir, true)).rejects.toThrow(/the embedded store could not be opened/);
    expect(existsSync(socketPath(dataDir, COMMAND_SOCKET_PORT))).toBe(false);
  });

  it('on a data directory deeper than a socket path allows, runs in its own thread and is served to other commands all the same', async () => {
    const dataDir = path.join(tempDir(), 'd'.repeat(60), 'e'.repeat(40), 'data');
    expect(Buffer.byteLength(socketPath(dataDir))).toBeGreaterThan(107);
    // This process's descriptors of the data directory (other tests' files may open and close theirs meanwhile).
    const descriptors = () =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === dataDir;
        } catch {
          return false;
        }
      }).length;
    const store = await open(dataDir, true);
    try {
      expect(store.kind).toBe('pglite-socket');
      expect(descriptors()).toBeGreaterThan(0);
      expect(lstatSync(socketPath(dataDir, COMMAND_SOCKET_PORT)).mode & 0o777).toBe(0o600);
      expect(await turnsDuring(store)).toBeGreaterThan(100);
    } finally {
      await store.close();
    }
    expect(existsSync(socketPath(dataDir, COMMAND_SOCKET_PORT))).toBe(false);

    // `watch`'s store, and another command reaching it through the service.
    const served = await openServedStore({ dataDir, lockWaitMs: 300 });
    try {
      expect(lstatSync(socketPath(dataDir)).isSocket()).toBe(true);
      expect(await socketAnswers(dataDir)).toBe(true);
      const other = await open(dataDir, false);
      try {
        expect(other.kind).toBe('pglite-socket');
        const [row] = await rowsOf<{ n: number }>(other.db, sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
        expect(row!.n).toBeGreaterThan(0);
      } finally {
        await other.close();
      }
    } finally {
      await served.close();
    }
    expect(existsSync(socketPath(dataDir))).toBe(false);
    // Each descriptor of the directory was let go with what held it.
    expect(descriptors()).toBe(0);
  });
});
