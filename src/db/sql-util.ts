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

export { sqlState } from '../errors.ts';

export const isUniqueViolation = (err: unknown) => sqlState(err) === '23505';
