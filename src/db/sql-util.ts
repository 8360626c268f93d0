/** Small helpers shared by the store operations. */
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from './client.ts';
import { sqlState } from '../errors.ts';

/** Rows of a raw `execute`, whichever driver ran it (postgres-js returns an array, PGlite `{ rows }`). */
export async function rowsOf<T>(db: Db, query: SQL): Promise<T[]> {
  const res = (await db.execute(query)) as unknown;
  return (Array.isArray(res) ? res : (res as { rows: T[] }).rows) as T[];
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
  tx.execute(sql.raw('set local plan_cache_mode = auto')).catch(() => {});
}

export { sqlState } from '../errors.ts';

export const isUniqueViolation = (err: unknown) => sqlState(err) === '23505';
