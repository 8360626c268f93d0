/** Small helpers shared by the store operations. */
import { getTableColumns, sql, type SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { Db } from './client.ts';
import { sqlState } from '../errors.ts';

/** Rows of a raw `execute`, whichever driver ran it (postgres-js returns an array, PGlite `{ rows }`). */
export async function rowsOf<T>(db: Db, query: SQL): Promise<T[]> {
  const res = (await db.execute(query)) as unknown;
  return (Array.isArray(res) ? res : (res as { rows: T[] }).rows) as T[];
}

/** Each table's columns as decodeRow reads them: property, column name, decoder. */
const decoders = new WeakMap<PgTable, [string, string, (v: unknown) => unknown][]>();

/**
 * A row of `table` read by a raw statement (`select *`, `returning *`), decoded as drizzle
 * decodes the rows of its own selects (a timestamp as a Date, an array or jsonb however
 * the driver gave it). For statements run once per file of a backlog: drizzle's builders
 * cost five times what the raw statement does.
 */
export function decodeRow<T extends PgTable>(table: T, raw: Record<string, unknown>): T['$inferSelect'] {
  let columns = decoders.get(table);
  if (!columns) {
    columns = Object.entries(getTableColumns(table)).map(([key, c]) => [key, c.name, (v: unknown) => c.mapFromDriverValue(v)]);
    decoders.set(table, columns);
  }
  const row: Record<string, unknown> = {};
  for (const [key, name, decode] of columns) {
    const v = raw[name];
    row[key] = v === null || v === undefined ? null : decode(v);
  }
  return row as T['$inferSelect'];
}

/** PostgreSQL's limit is 65,535 bind parameters per statement; stay well under it. */
export function chunkFor<T>(rows: readonly T[], columns: number, maxParams = 30_000): T[][] {
  const size = Math.max(1, Math.floor(maxParams / Math.max(1, columns)));
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

/** A whole row set as one jsonb parameter, for `jsonb_to_recordset` bulk updates. */
export const jsonParam = (value: unknown) => sql`${JSON.stringify(value)}::jsonb`;

/**
 * Lets the server plan this transaction's prepared statements generically, as PostgreSQL
 * does by default: a statement's first five runs are planned for their values, later ones
 * with one plan kept for the statement when it is judged no worse (`plan_cache_mode`
 * auto, for this transaction only). For a transaction of many small files (a group: a
 * one-record file's ten statements each), whose look-ups go by unique and partial indexes
 * whose conditions are written into the statements' text; a large file's statements stay
 * planned at every run (postgres-store.ts). Sent without waiting: the statements behind it
 * run after it, and a failure fails the first of them.
 */
export function allowGenericPlans(tx: Db): void {
  void sendQuery(tx, sql.raw('set local plan_cache_mode = auto'));
}

/**
 * Sends `query` on the transaction now, without waiting for its answer (the statements
 * sent after it run after it), and gives its outcome: taken once, for a drizzle query runs
 * again at each `then`. An outcome nobody awaits is no unhandled rejection: a failure
 * shows in the statements behind it as well.
 */
export function sendQuery(tx: Db, query: SQL): Promise<void> {
  const sent = tx.execute(query).then(() => {});
  sent.catch(() => {});
  return sent;
}

export { sqlState } from '../errors.ts';

export const isUniqueViolation = (err: unknown) => sqlState(err) === '23505';
