/**
 * Export deliveries (see `exportDeliveries`): opening one (the range of history it covers,
 * settled under a per-sponsor lock so that instances sharing the database never open two
 * for the same changes), finishing it, and listing them.
 */
import { and, desc, eq, sql } from 'drizzle-orm';
import type { Db } from './client.ts';
import { ownerAlive } from './claims.ts';
import { changedInRange, settledTxBound } from './export.ts';
import { exportDeliveries } from './schema.ts';
import { isUniqueViolation, rowsOf } from './sql-util.ts';

export type DeliveryRow = typeof exportDeliveries.$inferSelect;

/** First key of the transaction-level advisory lock that serialises the opening of a sponsor's deliveries. */
const DELIVERY_LOCK_CLASS = 727_104;

type Opened =
  /** Nothing changed since the last delivery. */
  | { kind: 'nothing' }
  /** The last delivery is younger than the period. */
  | { kind: 'not-due' }
  /** Another live instance is writing this sponsor's delivery. */
  | { kind: 'busy' }
  /** A delivery for us to write: new, or one a stopped instance left (`resumed`). */
  | { kind: 'open'; row: DeliveryRow; resumed: boolean };

interface OpenRequest {
  licence: string;
  me: number;
  leaseMs: number;
  now: Date;
  /** Deliver only when the last one is at least this old (ms); 0 delivers whenever anything changed. */
  minAgeMs: number;
  fileName: (at: Date) => string;
}

/** Opens the sponsor's next delivery, or takes over one left unfinished. One transaction. */
export async function openDelivery(db: Db, r: OpenRequest): Promise<Opened> {
  try {
    return await db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${DELIVERY_LOCK_CLASS}::int, hashtext(${r.licence}))`);
      // One statement: the latest delivery, whether pending or done (never neither between two reads).
      const [last] = await tx
        .select()
        .from(exportDeliveries)
        .where(eq(exportDeliveries.sponsorLicenceNumber, r.licence))
        .orderBy(desc(exportDeliveries.id))
        .limit(1);
      if (last?.state === 'pending') {
        if (last.owner === r.me) return { kind: 'open', row: last, resumed: true } as const;
        const [taken] = await tx
          .update(exportDeliveries)
          .set({ owner: r.me, leaseUntil: sql`now() + ${r.leaseMs} * interval '1 millisecond'` })
          .where(
            and(
              eq(exportDeliveries.id, last.id),
              eq(exportDeliveries.state, 'pending'),
              sql`(${exportDeliveries.leaseUntil} < now() or not ${ownerAlive(sql`${exportDeliveries.owner}`)})`,
            ),
          )
          .returning();
        return taken ? ({ kind: 'open', row: taken, resumed: true } as const) : ({ kind: 'busy' } as const);
      }
      if (last && r.now.getTime() - last.deliveredAt.getTime() < r.minAgeMs) return { kind: 'not-due' } as const;
      const fromTx = last?.toTx ?? 0;
      const toTx = await settledTxBound(tx);
      if (toTx <= fromTx) return { kind: 'nothing' } as const;
      const changed = await changedInRange(tx, r.licence, fromTx, toTx);
      if (changed.ids.length === 0) return { kind: 'nothing' } as const;
      const [row] = await tx
        .insert(exportDeliveries)
        .values({
          sponsorLicenceNumber: r.licence,
          state: 'pending',
          fileName: r.fileName(r.now),
          changedSince: last?.deliveredAt ?? null,
          fromTx,
          toTx,
          deliveredAt: r.now,
          owner: r.me,
          leaseUntil: sql`now() + ${r.leaseMs} * interval '1 millisecond'`,
        })
        .returning();
      return { kind: 'open', row: row!, resumed: false } as const;
    });
  } catch (err) {
    // Another instance opened the same delivery first (the lock makes this rare; the unique indexes make it harmless).
    if (isUniqueViolation(err)) return { kind: 'busy' };
    throw err;
  }
}

/** Records the name and sha256 of the file about to be written; false when another instance took the delivery over. */
export async function recordDeliveryFile(db: Db, id: number, me: number, fileName: string, sha256: string): Promise<boolean> {
  const rows = await db
    .update(exportDeliveries)
    .set({ fileName, sha256 })
    .where(and(eq(exportDeliveries.id, id), eq(exportDeliveries.owner, me), eq(exportDeliveries.state, 'pending')))
    .returning({ id: exportDeliveries.id });
  return rows.length === 1;
}

/** Marks our delivery done with what it held; false when another instance took it over meanwhile. */
export async function finishDelivery(db: Db, id: number, me: number, casCount: number, lastEventId: number | null): Promise<boolean> {
  const rows = await db
    .update(exportDeliveries)
    .set({ state: 'done', casCount, lastEventId })
    .where(and(eq(exportDeliveries.id, id), eq(exportDeliveries.owner, me), eq(exportDeliveries.state, 'pending')))
    .returning({ id: exportDeliveries.id });
  return rows.length === 1;
}

interface DeliveryView {
  id: number;
  sponsorLicenceNumber: string;
  state: 'pending' | 'done';
  deliveredAt: string;
  changedSince: string | null;
  file: string;
  casCount: number | null;
  lastEventId: number | null;
}

/** Deliveries, newest first, of one sponsor or all. */
export async function listDeliveries(
  db: Db,
  opts: { licence?: string | undefined; limit?: number | undefined; offset?: number },
): Promise<DeliveryView[]> {
  const rows = await db
    .select()
    .from(exportDeliveries)
    .where(opts.licence !== undefined ? eq(exportDeliveries.sponsorLicenceNumber, opts.licence) : undefined)
    .orderBy(desc(exportDeliveries.id))
    .limit(opts.limit ?? 1_000_000_000)
    .offset(opts.offset ?? 0);
  return rows.map((r) => ({
    id: r.id,
    sponsorLicenceNumber: r.sponsorLicenceNumber,
    state: r.state,
    deliveredAt: r.deliveredAt.toISOString(),
    changedSince: r.changedSince?.toISOString() ?? null,
    file: r.fileName,
    casCount: r.casCount,
    lastEventId: r.lastEventId,
  }));
}

/** How many deliveries there are (of one sponsor or all). */
export async function countDeliveries(db: Db, licence?: string | undefined): Promise<number> {
  const [row] = await rowsOf<{ n: string | number }>(
    db,
    licence !== undefined
      ? sql`select count(*) as n from export_deliveries where sponsor_licence_number = ${licence}`
      : sql`select count(*) as n from export_deliveries`,
  );
  return Number(row?.n ?? 0);
}
