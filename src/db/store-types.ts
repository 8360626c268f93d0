/**
 * What a store is, apart from how one is opened (client.ts opens them; pglite-store.ts and
 * postgres-store.ts make them), so that those files import no module that imports them.
 */
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { schema } from './schema.ts';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export type StoreKind = 'postgres' | 'pglite' | 'pglite-socket';

export interface Store {
  db: Db;
  kind: StoreKind;
  /** Human description for start-up lines (never includes a password). */
  describe: string;
  /** True when opening it created a new, empty embedded store (the data directory held none). */
  created?: boolean;
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
  reset?: (() => Promise<void>) | undefined;
  close(): Promise<void>;
}

export interface OpenOptions {
  databaseUrl: string | undefined;
  /** The password when the URL holds none (from PGPASSWORD or a password file, resolved by the settings). */
  databasePassword?: string | undefined;
  dataDir: string;
  /** Apply migrations (default true). */
  migrate?: boolean;
  /** Pool size for PostgreSQL connections (default 10). */
  maxConnections?: number;
  /**
   * The embedded store, when this process opens it, in a thread of its own (pglite-store.ts):
   * for the commands that store whole files.
   */
  ownThread?: boolean;
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
  fetchTypes?: boolean | undefined;
}
