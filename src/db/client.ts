/**
 * Opens the store: PostgreSQL through `postgres` when a URL is configured, otherwise the
 * embedded PGlite under the data directory (pglite-store.ts), or, while `watch` owns it,
 * that store through the Unix socket the service serves in the data directory.
 */
import { openPgliteStore } from './pglite-store.ts';
import { openPostgres } from './postgres-store.ts';
import { socketAnswers } from './store-paths.ts';
import type { OpenOptions, Store } from './store-types.ts';

export type { Db, Store } from './store-types.ts';

export async function openStore(opts: OpenOptions): Promise<Store> {
  if (opts.databaseUrl) return openPostgres(opts.databaseUrl, undefined, opts, 'postgres');
  if (await socketAnswers(opts.dataDir)) return openPostgres(undefined, opts.dataDir, opts, 'pglite-socket');
  return openPgliteStore(opts.dataDir, opts);
}
