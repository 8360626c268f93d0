/**
 * PGlite opened on the data directory, migrated, with nothing else: used in this process
 * by short commands, and in a thread of its own by `watch` and `process` (pglite-host.ts).
 * The caller holds the data directory's lock.
 */
import type { PGlite } from '@electric-sql/pglite';
import { existsSync } from 'node:fs';
import { tightenTree } from './data-dir.ts';
import type { Db } from './store-types.ts';
import { schema } from './schema.ts';
import { MIGRATIONS, PGLITE_SHARED_BUFFERS, pgliteDir } from './store-paths.ts';

export interface OpenedPglite {
  pglite: PGlite;
  db: Db;
  /** True when the data directory held no store before. */
  created: boolean;
  /** The size of its WebAssembly memory, which grows to what PostgreSQL asked of it and never shrinks. */
  heapBytes(): number | undefined;
}

export async function openPglite(dataDir: string, opts: { migrate?: boolean | undefined }): Promise<OpenedPglite> {
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
  const db = drizzlePglite(pglite, { schema }) as unknown as Db;
  if (opts.migrate !== false) {
    await migratePglite(db as Parameters<typeof migratePglite>[0], { migrationsFolder: MIGRATIONS });
  }
  tightenTree(dataDir);
  const heapBytes = () => (pglite as unknown as { mod?: { HEAPU8?: Uint8Array } }).mod?.HEAPU8?.byteLength;
  return { pglite, db, created, heapBytes };
}
