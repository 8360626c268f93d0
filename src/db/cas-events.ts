/**
 * The history of a CAS: one row in cas_events per status change (and per fee update or
 * note, which leave the status as it is), never updated or deleted.
 */
import type { CasStatus } from '../domain/types.ts';
import type { Db } from './client.ts';
import { casEvents } from './schema.ts';
import { chunkFor } from './sql-util.ts';

type CasEvent = typeof casEvents.$inferInsert;

/** The to_status of the last event of a deleted CAS (not a CAS status: the CAS is gone). */
export const DELETED_EVENT = 'DELETED';

/** Records status changes, as many statements as the bind-parameter limit needs. */
export async function recordEvents(tx: Db, events: readonly CasEvent[]): Promise<void> {
  for (const part of chunkFor(events, 6)) await tx.insert(casEvents).values(part);
}

/** The events of CAS that all moved from their own status to `to` at once, for one reason. */
export function eventsTo(
  rows: readonly { id: number; from: CasStatus }[],
  to: CasStatus,
  at: Date,
  reason: string,
  submissionId?: number,
): CasEvent[] {
  return rows.map((r) => ({
    casId: r.id,
    fromStatus: r.from,
    toStatus: to,
    at,
    reason,
    submissionId,
  }));
}
