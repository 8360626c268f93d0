/** A sponsor's batches (one per upload file id) and the CAS in them, for assigning later. */
import { and, asc, count, eq } from 'drizzle-orm';
import type { Route } from '../domain/types.ts';
import type { Db } from './client.ts';
import { batches, cas } from './schema.ts';

export async function findBatch(tx: Db, licence: string, name: string): Promise<{ id: number } | undefined> {
  const [batch] = await tx
    .select({ id: batches.id })
    .from(batches)
    .where(and(eq(batches.sponsorLicenceNumber, licence), eq(batches.name, name)));
  return batch;
}

/** The READY_TO_GO CAS of a batch in file order, locked until the transaction ends. */
export async function lockReadyOfBatch(tx: Db, licence: string, batchId: number): Promise<{ id: number; route: Route }[]> {
  return tx
    .select({ id: cas.id, route: cas.route })
    .from(cas)
    .where(and(eq(cas.batchId, batchId), eq(cas.sponsorLicenceNumber, licence), eq(cas.status, 'READY_TO_GO')))
    .orderBy(asc(cas.recordIndex), asc(cas.id))
    .for('update');
}

/** One CAS of the sponsor, locked until the transaction ends. */
export async function lockSponsorCas(tx: Db, licence: string, id: number) {
  const [row] = await tx
    .select({ id: cas.id, route: cas.route, status: cas.status })
    .from(cas)
    .where(and(eq(cas.id, id), eq(cas.sponsorLicenceNumber, licence)))
    .for('update');
  return row;
}

/** How many CAS of the batch are in each status. */
export async function batchStatusCounts(tx: Db, batchId: number): Promise<{ status: string; n: number }[]> {
  return tx
    .select({ status: cas.status, n: count() })
    .from(cas)
    .where(eq(cas.batchId, batchId))
    .groupBy(cas.status)
    .orderBy(asc(cas.status));
}
