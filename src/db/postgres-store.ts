/**
 * The store on a PostgreSQL server (or on the embedded store's socket): a postgres.js pool
 * behind a handle that `reset` can point at a fresh pool, migrations under an advisory lock.
 */
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import postgres from 'postgres';
import { CasBdtError, causeChain, isConnectionError, sqlState } from '../errors.ts';
import type { Db, OpenOptions, Store, StoreKind } from './store-types.ts';
import { schema } from './schema.ts';
import { MIGRATION_LOCK_KEY, MIGRATIONS, redactUrl, SOCKET_PORT, socketReach } from './store-paths.ts';

/**
 * The server answers but the database in the URL is not there (SQLSTATE 3D000): say how
 * to create it. cas-bdt creates its tables itself, never the database (that needs rights
 * an operator may not want it to have).
 */
function missingDatabase(url: string, cause: unknown): CasBdtError {
  let name = '';
  let server = 'the server';
  let createdb = 'createdb';
  try {
    const u = new URL(url);
    name = decodeURIComponent(u.pathname.replace(/^\//, ''));
    server = `${u.hostname}:${u.port || '5432'}`;
    createdb = `createdb -h ${u.hostname} -p ${u.port || '5432'}${u.username ? ` -U ${decodeURIComponent(u.username)}` : ''}`;
  } catch {
    // The URL was checked when the settings were read; the message below stays general.
  }
  const quoted = `"${name.replaceAll('"', '""')}"`;
  return new CasBdtError(
    'failed',
    `the PostgreSQL database ${quoted} does not exist on ${server}: create it (${createdb} ${name}, or CREATE DATABASE ${quoted} as a user allowed to), then run the command again; cas-bdt creates its tables itself`,
    { cause },
  );
}

/**
 * libpq's `sslrootcert=FILE` in the URL (postgres.js knows only `sslrootcert=system`, and
 * would send any other value to the server as a setting): the server's certificate is
 * checked against that CA file instead of Node's bundled CAs, with the host name too for
 * `verify-full` (the URL's host, an IP address included), the chain only for `verify-ca`
 * and `require` (as libpq does when a root certificate is given). The settings have
 * already refused any other sslmode with a root certificate.
 */
function tlsFromUrl(url: string): { url: string; ssl?: tls.ConnectionOptions } {
  const u = new URL(url);
  const file = u.searchParams.get('sslrootcert');
  if (!file || file === 'system') return { url };
  let ca: Buffer;
  try {
    ca = readFileSync(file);
  } catch (err) {
    throw new CasBdtError(
      'failed',
      `the database URL's sslrootcert ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      {
        cause: err,
      },
    );
  }
  u.searchParams.delete('sslrootcert');
  const host = decodeURIComponent(u.hostname).replace(/^\[(.*)\]$/, '$1');
  const checkHost = u.searchParams.get('sslmode') === 'verify-full';
  return {
    url: u.toString(),
    ssl: {
      ca,
      rejectUnauthorized: true,
      checkServerIdentity: (_servername, cert) => (checkHost ? tls.checkServerIdentity(host, cert) : undefined),
    },
  };
}

/** What a failed connection's code says, in words; undefined when it is not a connection failure. */
function unreachableReason(err: unknown): string | undefined {
  const words: Record<string, string> = {
    ECONNREFUSED: 'connection refused: nothing listens there',
    ETIMEDOUT: 'no answer in time',
    CONNECT_TIMEOUT: 'no answer in time',
    ENOTFOUND: 'no such host name',
    EAI_AGAIN: 'the host name could not be looked up',
    EHOSTUNREACH: 'no route to the host',
    ENETUNREACH: 'no route to the network',
    ECONNRESET: 'the connection was closed at once',
  };
  for (const e of causeChain(err)) {
    if (typeof e.code === 'string' && words[e.code]) return `${words[e.code]} (${e.code})`;
  }
  return isConnectionError(err) ? 'the connection failed' : undefined;
}

/** The server in the URL cannot be reached: say so in words, with where it was looked for. */
function unreachable(url: string, reason: string, cause: unknown): CasBdtError {
  let server = 'the server in the URL';
  try {
    const u = new URL(url);
    server = `${u.hostname}:${u.port || '5432'}`;
  } catch {
    // The URL was checked when the settings were read.
  }
  return new CasBdtError(
    'failed',
    `cannot reach the PostgreSQL database at ${server}: ${reason}. Check that the server is running and listening there, and that --db or DATABASE_URL names it`,
    { cause },
  );
}

function postgresClient(options: postgres.Options<{}> & { url?: string | undefined }, max: number) {
  const { url, ...rest } = options;
  const common = { max, onnotice: () => {}, ...rest };
  if (!url) return postgres(common);
  const secure = tlsFromUrl(url);
  return postgres(secure.url, secure.ssl ? { ...common, ssl: secure.ssl } : common);
}

/**
 * Statements with more parameters than this are not prepared: their texts vary with the
 * number of values (an IN list, a multi-row insert), and each would stay prepared on its
 * connection. The service's own statements take their rows as one jsonb parameter.
 */
const PREPARE_MAX_PARAMETERS = 32;

/**
 * A statement without parameters runs in one round trip unprepared, and such texts are
 * built as they are needed (the migrations): only those with parameters are prepared.
 */
const isPrepared = (parameters: number) => parameters > 0 && parameters <= PREPARE_MAX_PARAMETERS;

/**
 * Statements of a transaction are pipelined (sent before the answers to those before
 * them), so when one fails, those behind it fail too with 25P02 (the transaction is
 * aborted), and the error the transaction's work throws may be one of theirs. postgres.js
 * then throws the transaction's first error instead, the one that says what went wrong
 * (a value the database cannot hold: the file's fault), but only when it is given its own
 * error, which drizzle wraps: the driver's 25P02 is unwrapped for it.
 */
function abortedBy(err: unknown): postgres.PostgresError | undefined {
  for (const e of causeChain(err)) if (e instanceof postgres.PostgresError && e.code === '25P02') return e;
  return undefined;
}

/**
 * The client as drizzle is to use it: drizzle-orm 0.45 runs every query it was not given
 * a name for with `prepare: false`, whatever the client's option, and postgres.js then
 * sends each statement with parameters in two round trips (Parse and Describe, then Bind
 * and Execute). Through this wrapper a statement is prepared on its connection the first
 * time its text is sent, and runs in one round trip afterwards, when the client's own
 * `prepare` option is on (postgres.js ANDs the two; `prepare=false` in the URL turns it
 * off, for a pooler that does not keep prepared statements).
 * Transactions (and their savepoints) hand drizzle a client wrapped the same way, and
 * throw their first error (abortedBy).
 */
function preparing(client: postgres.Sql): postgres.Sql {
  return new Proxy(client, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (prop === 'unsafe') {
        const unsafe = value as postgres.Sql['unsafe'];
        return (query: string, args?: postgres.ParameterOrJSON<never>[], options?: postgres.UnsafeQueryOptions) =>
          unsafe(query, args, { ...options, prepare: isPrepared(args?.length ?? 0) });
      }
      if (prop === 'begin' || prop === 'savepoint') {
        const scoped = value as (...a: unknown[]) => unknown;
        return (...a: unknown[]) => {
          const last = a.length - 1;
          const fn = a[last] as (sql: postgres.Sql) => unknown;
          return scoped(...a.slice(0, last), async (sql: postgres.Sql) => {
            try {
              return await fn(preparing(sql));
            } catch (err) {
              throw abortedBy(err) ?? err;
            }
          });
        };
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * Statements are prepared to save their parse and a round trip, not their plan: the server
 * plans every run for its values, as it did unprepared. A generic plan (PostgreSQL's choice
 * after five runs) misjudges the tables a large file's transaction is filling and the
 * partial indexes a value selects: a 50,000-record file took half as long again, and peaked
 * at 468 MB instead of 263 MB. Sent as a startup parameter only when statements are
 * prepared: a connection pooler, for which `prepare=false` is set, may refuse unknown ones.
 */
const PLAN_EACH_RUN: postgres.Options<{}> = { connection: { plan_cache_mode: 'force_custom_plan' } };

/** Whether the client prepares statements: postgres.js's default, unless the options or the URL's `prepare=false` turn it off. */
function prepares(url: string | undefined, prepare: boolean | undefined): boolean {
  if (prepare !== undefined) return prepare;
  try {
    return url === undefined || new URL(url).searchParams.get('prepare') !== 'false';
  } catch {
    return true;
  }
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

export async function openPostgres(
  url: string | undefined,
  socketDir: string | undefined,
  opts: OpenOptions,
  kind: StoreKind,
  port = SOCKET_PORT,
): Promise<Store> {
  const common: postgres.Options<{}> = {
    ...(opts.fetchTypes === false ? { fetch_types: false } : {}),
    ...(prepares(url, socketDir ? (opts.prepare ?? false) : opts.prepare) ? PLAN_EACH_RUN : {}),
  };
  // Held as long as the store is open: a deep data directory is reached through a descriptor of it.
  const reach = socketDir ? socketReach(socketDir, port) : undefined;
  const connect = (max: number, extra: postgres.Options<{}> = {}) =>
    reach
      ? postgresClient(
          {
            host: reach.dir,
            port,
            user: 'postgres',
            database: 'template1',
            prepare: opts.prepare ?? false,
            ...common,
            ...extra,
          },
          max,
        )
      : postgresClient(
          {
            url,
            pass: opts.databasePassword,
            // postgres.js asks `'prepare' in options`: an undefined one would turn prepared statements off.
            ...(opts.prepare !== undefined ? { prepare: opts.prepare } : {}),
            ...common,
            ...extra,
          },
          max,
        );
  // Through the socket, a recycled connection would leave its prepared statements behind.
  const newClient = () => connect(opts.maxConnections ?? (socketDir ? 4 : 10), socketDir && opts.prepare ? { max_lifetime: null } : {});
  let client = newClient();
  let current = drizzlePostgres(preparing(client), { schema }) as unknown as Db;
  try {
    await client`select 1`;
    if (opts.migrate !== false) await migrateWithLock(client, current);
  } catch (err) {
    await client.end({ timeout: 1 }).catch(() => {});
    reach?.close();
    if (url && sqlState(err) === '3D000') throw missingDatabase(url, err);
    const reason = url ? unreachableReason(err) : undefined;
    if (url && reason) throw unreachable(url, reason, err);
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
    describe: socketDir ? `embedded store at ${opts.dataDir} (through the running service)` : `PostgreSQL ${redactUrl(url ?? '')}`,
    session: async () => {
      // One connection that is never recycled; postgres.js reconnects it if it drops.
      const one = connect(1, { max_lifetime: null, idle_timeout: 0 });
      return { db: drizzlePostgres(preparing(one), { schema }) as unknown as Db, close: () => one.end({ timeout: 5 }) };
    },
    reset: async () => {
      const old = client;
      client = newClient();
      current = drizzlePostgres(preparing(client), { schema }) as unknown as Db;
      // Work still running on the old pool may finish; a stuck connection is cut after the grace.
      await old.end({ timeout: 10 }).catch(() => {});
    },
    close: () => client.end({ timeout: 5 }).finally(() => reach?.close()),
  };
}
