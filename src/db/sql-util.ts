/** Small helpers shared by the store operations. */
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from './client.ts';

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
 * SQLSTATE of a database error, found by walking the `cause` chain. A system error's code
 * can look like one (EPIPE, EBUSY): those carry `syscall` and are not database errors.
 */
export function sqlState(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 10; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && !('syscall' in e) && /^[0-9A-Z]{5}$/.test(e.code)) return e.code;
  }
  return undefined;
}

export const isUniqueViolation = (err: unknown) => sqlState(err) === '23505';
