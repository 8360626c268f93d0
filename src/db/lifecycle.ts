/**
 * What the lifecycle operations share in the store: finding a CAS by number or id, the one way a
 * status changes (a conditional UPDATE and its event, in the caller's transaction), and
 * retrying a transaction that PostgreSQL aborted to settle a race.
 */
import { and, eq, inArray, type SQL } from 'drizzle-orm';
import { allowedFrom, DELETABLE, type CasRef, type Operation, OPERATION_TARGET } from '../domain/lifecycle.ts';
import type { CasStatus } from '../domain/types.ts';
import type { Db } from './client.ts';
import { DELETED_EVENT, eventsTo, recordEvents } from './cas-events.ts';
import { cas } from './schema.ts';
import { sqlState } from './sql-util.ts';

export function refWhere(ref: CasRef): SQL {
  return 'id' in ref ? eq(cas.id, ref.id) : eq(cas.casNumber, ref.casNumber);
}

type CasRow = typeof cas.$inferSelect;

export async function readCas(tx: Db, ref: CasRef): Promise<CasRow | undefined> {
  const [row] = await tx.select().from(cas).where(refWhere(ref));
  return row;
}

type StatusChange = Operation & keyof typeof OPERATION_TARGET;

/**
 * Moves the CAS matching `where` to the status `op` leads to, if and only if it is in a
 * status `op` may start from, and records the event. Each allowed starting status is one
 * conditional UPDATE (so the event knows where the CAS came from): of two operations
 * racing on one CAS exactly one wins and the other changes nothing. Starting statuses are
 * tried in lifecycle order (ASSIGNED before EXPIRED), so a CAS that the expiry sweep
 * moves in between is still found.
 */
export async function changeStatus(
  tx: Db,
  where: SQL,
  op: StatusChange,
  change: { now: Date; reason: string; set?: Partial<Pick<CasRow, 'usedOn'>> },
): Promise<{ id: number; casNumber: string | null; from: CasStatus }[]> {
  const to = OPERATION_TARGET[op];
  const out: { id: number; casNumber: string | null; from: CasStatus }[] = [];
  for (const from of allowedFrom(op)) {
    const rows = await tx
      .update(cas)
      .set({ status: to, statusChangedAt: change.now, ...change.set })
      .where(and(where, eq(cas.status, from)))
      .returning({ id: cas.id, casNumber: cas.casNumber });
    for (const r of rows) out.push({ ...r, from });
  }
  await recordEvents(tx, eventsTo(out, to, change.now, change.reason));
  return out;
}

/**
 * Deletes the CAS if it is still unassigned, with the event that ends its history (the
 * events stay). undefined when it was not deletable (any more).
 */
export async function deleteUnassigned(
  tx: Db,
  id: number,
  now: Date,
  reason: string,
): Promise<{ id: number; from: CasStatus } | undefined> {
  const [gone] = await tx
    .delete(cas)
    .where(and(eq(cas.id, id), inArray(cas.status, [...DELETABLE])))
    .returning({ id: cas.id, from: cas.status });
  if (gone) await recordEvents(tx, [{ casId: gone.id, fromStatus: gone.from, toStatus: DELETED_EVENT, at: now, reason }]);
  return gone;
}

/** SQLSTATEs PostgreSQL uses when it aborts one side of a race: deadlock, serialization failure. */
const RETRYABLE = new Set(['40P01', '40001']);

/** Runs a whole transaction again when PostgreSQL aborted it to settle a race. */
export async function withRetry<T>(fn: () => Promise<T>, attempts = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts || !RETRYABLE.has(sqlState(err) ?? '')) throw err;
      await new Promise((r) => setTimeout(r, 10 * i + Math.floor(Math.random() * 20)));
    }
  }
}
