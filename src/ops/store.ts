/**
 * The store as the commands open it: the CLI reaches the database only through src/ops/,
 * so these are the store's entry points it may use.
 */
export type { Db, Store } from '../db/client.ts';
export { openStore } from '../db/client.ts';
export { openServedStore } from '../db/pglite-store.ts';
