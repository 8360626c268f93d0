/**
 * Assigning READY_TO_GO CAS: CAS numbers, expiry, allocation and one payment. One
 * implementation for the upload path and `cas-bdt assign`.
 */
import { randomBytes, randomInt as cryptoRandomInt } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { generateCasNumber } from '../domain/cas-number.ts';
import { addMonths, isoDateUtc } from '../domain/dates.ts';
import type { PaymentSummary } from '../domain/result.ts';
import type { Route } from '../domain/types.ts';
import type { Db } from './client.ts';
import { eventsTo, recordEvents } from './cas-events.ts';
import { payments } from './schema.ts';
import { useAllocation } from './sponsors.ts';
import { queueStatements } from './statements.ts';
import { chunkFor, jsonParam, rowsOf } from './sql-util.ts';

export interface AssignSettings {
  feePence: number;
  validityMonths: number;
  /** Source of randomness for CAS numbers (default: crypto). */
  randomInt?: (maxExclusive: number) => number;
}

export interface AssignContext {
  licence: string;
  now: Date;
  settings: AssignSettings;
  /** Why, for the events and the payment: e.g. "submission 12" or "cas-bdt assign". */
  reason: string;
  submissionId?: number;
}

interface Assigned {
  casNumbers: Map<number, string>;
  expiresOn: string;
  payment?: PaymentSummary;
}

const B32 = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
function paymentReference(now: Date): string {
  const bytes = randomBytes(10);
  let s = '';
  for (const b of bytes) s += B32[b % 32];
  return `PAY-${isoDateUtc(now).replaceAll('-', '')}-${s}`;
}

/** The default source of randomness for CAS numbers. */
export const cryptoRandom = (n: number) => cryptoRandomInt(n);

/** Fresh CAS numbers, none already in the store (the unique index still guards races). */
export async function freshNumbers(tx: Db, routes: Route[], randomInt: (n: number) => number): Promise<string[]> {
  const out: (string | undefined)[] = new Array(routes.length).fill(undefined);
  const seen = new Set<string>();
  let todo = routes.map((_, i) => i);
  for (let round = 0; todo.length > 0; round++) {
    if (round > 20) throw new Error('could not generate unique CAS numbers');
    for (const i of todo) {
      let n: string;
      do n = generateCasNumber(routes[i]!, randomInt);
      while (seen.has(n));
      seen.add(n);
      out[i] = n;
    }
    const taken = new Set<string>();
    for (const part of chunkFor(todo, 1)) {
      // One jsonb parameter rather than one parameter per number.
      const rows = await rowsOf<{ n: string }>(
        tx,
        // One index look-up per number (see findLiveByKeys: the planner misjudges a table filled in this transaction).
        sql`select c.cas_number as n from jsonb_array_elements_text(${jsonParam(part.map((i) => out[i]!))}) as k(n),
            lateral (select cas_number from cas where cas_number = k.n limit 1) c`,
      );
      for (const r of rows) taken.add(r.n);
    }
    todo = todo.filter((i) => taken.has(out[i]!));
  }
  return out as string[];
}

/** The expiry date of a CAS assigned at `now`. */
export const expiryOf = (now: Date, validityMonths: number) => addMonths(isoDateUtc(now), validityMonths);

/**
 * The payment of CAS assigned a part at a time (an upload's auto-assignment): opened before
 * the first is written, its count and amount set by `closePayment` once all are.
 */
export async function openPayment(tx: Db, ctx: AssignContext): Promise<{ id: number; reference: string }> {
  const reference = paymentReference(ctx.now);
  const [payment] = await tx
    .insert(payments)
    .values({
      reference,
      sponsorLicenceNumber: ctx.licence,
      casCount: 0,
      amount: '0.00',
      currency: 'GBP',
      submissionId: ctx.submissionId ?? null,
      reason: ctx.reason,
      paidAt: ctx.now,
    })
    .returning({ id: payments.id });
  return { id: payment!.id, reference };
}

/**
 * Sets the count and amount of an opened payment and records the allocation used. The
 * summary is known at once; `written` settles when both statements (sent together) have run.
 */
export function closePayment(
  tx: Db,
  payment: { id: number; reference: string },
  casCount: number,
  ctx: AssignContext,
): { summary: PaymentSummary; written: Promise<unknown> } {
  const amountPence = ctx.settings.feePence * casCount;
  const written = Promise.all([
    tx
      .update(payments)
      .set({ casCount, amount: (amountPence / 100).toFixed(2) })
      .where(eq(payments.id, payment.id)),
    useAllocation(tx, ctx.licence, casCount, ctx.now),
  ]);
  return { summary: { reference: payment.reference, casCount, amountPence, currency: 'GBP' }, written };
}

/**
 * Assigns the given CAS, in the given order. The caller holds the sponsor's row lock,
 * has checked that they are READY_TO_GO and that the unused allocation covers them.
 */
export async function assignCas(tx: Db, items: { id: number; route: Route }[], ctx: AssignContext): Promise<Assigned> {
  const expiresOn = addMonths(isoDateUtc(ctx.now), ctx.settings.validityMonths);
  if (items.length === 0) return { casNumbers: new Map(), expiresOn };
  const numbers = await freshNumbers(
    tx,
    items.map((i) => i.route),
    ctx.settings.randomInt ?? ((n) => cryptoRandomInt(n)),
  );
  const amountPence = ctx.settings.feePence * items.length;
  const reference = paymentReference(ctx.now);
  const [payment] = await tx
    .insert(payments)
    .values({
      reference,
      sponsorLicenceNumber: ctx.licence,
      casCount: items.length,
      amount: (amountPence / 100).toFixed(2),
      currency: 'GBP',
      submissionId: ctx.submissionId ?? null,
      reason: ctx.reason,
      paidAt: ctx.now,
    })
    .returning({ id: payments.id });

  const nowIso = ctx.now.toISOString();
  const casNumbers = new Map<number, string>();
  const rows = items.map((it, i) => {
    casNumbers.set(it.id, numbers[i]!);
    return { id: it.id, n: numbers[i]! };
  });
  for (const part of chunkFor(rows, 1, 20_000)) {
    const updated = await rowsOf<{ id: unknown }>(
      tx,
      sql`update cas c set status = 'ASSIGNED', cas_number = v.n, assigned_at = ${nowIso}::timestamptz,
            expires_on = ${expiresOn}::date, payment_id = ${payment!.id}, status_changed_at = ${nowIso}::timestamptz
          from jsonb_to_recordset(${jsonParam(part)}) as v(id bigint, n text)
          where c.id = v.id and c.status = 'READY_TO_GO' and c.sponsor_licence_number = ${ctx.licence}
          returning c.id`,
    );
    if (updated.length !== part.length) {
      throw new Error(`assignment expected ${part.length} READY_TO_GO CAS, found ${updated.length}`);
    }
  }
  await recordEvents(
    tx,
    eventsTo(
      items.map((it) => ({ id: it.id, from: 'READY_TO_GO' })),
      'ASSIGNED',
      ctx.now,
      ctx.reason,
      ctx.submissionId,
    ),
  );
  await useAllocation(tx, ctx.licence, items.length, ctx.now);
  await queueStatements(tx, ctx.licence, numbers, ctx.now);
  return {
    casNumbers,
    expiresOn,
    payment: { reference, casCount: items.length, amountPence, currency: 'GBP' },
  };
}
