/**
 * The assignment engine: CAS numbers, expiry, allocation and one payment, for the upload
 * path (which writes its CAS assigned as it stores them: `freshNumbers`, which opens the
 * payment, and `closePayment`) and `cas-bdt assign` (`assignCas`, built on the same two).
 * The fee and the expiry are domain rules (domain/assignment.ts); CAS numbers have one
 * source of randomness (`numberSource`).
 */
import { randomBytes, randomInt as cryptoRandomInt } from 'node:crypto';
import { sql, type SQL } from 'drizzle-orm';
import { assignmentFee, casExpiry } from '../domain/assignment.ts';
import { generateCasNumber } from '../domain/cas-number.ts';
import { isoDateUtc } from '../domain/dates.ts';
import { formatPence, type PaymentSummary } from '../domain/result.ts';
import type { Route } from '../domain/types.ts';
import type { Db } from './client.ts';
import { eventsTo, recordEvents } from './cas-events.ts';
import { queueStatements } from './statements.ts';
import { chunkFor, jsonParam, rowsOf, sendQuery } from './sql-util.ts';

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

/** Where CAS numbers' randomness comes from: the settings' source (tests), else crypto. */
export const numberSource = (settings: AssignSettings): ((maxExclusive: number) => number) =>
  settings.randomInt ?? ((n) => cryptoRandomInt(n));

/** The numbers of these that some CAS already has (one index look-up each: see findLiveByKeys, the planner misjudges a table filled in this transaction). */
const takenSql = (numbers: string[]) =>
  sql`select c.cas_number as n from jsonb_array_elements_text(${jsonParam(numbers)}) as k(n),
      lateral (select cas_number from cas where cas_number = k.n limit 1) c`;

/**
 * The payment of CAS assigned a part at a time, opened with a count and amount of 0
 * (closePayment sets them). A raw statement: it runs once per file of a backlog (see decodeRow).
 */
const paymentInsert = (ctx: AssignContext, reference: string) =>
  sql`insert into payments (reference, sponsor_licence_number, cas_count, amount, currency, submission_id, reason, paid_at)
      values (${reference}, ${ctx.licence}, 0, 0, 'GBP', ${ctx.submissionId ?? null}::bigint, ${ctx.reason}, ${ctx.now.toISOString()}::timestamptz)
      returning id`;

interface FreshNumbers {
  numbers: string[];
  /** The payment opened, when `open` was given. */
  payment?: { id: number; reference: string };
}

/**
 * Fresh CAS numbers, none already in the store (the unique index still guards races).
 * With `open`, the payment of the CAS assigned a part at a time (an upload's
 * auto-assignment, `assignCas`) is opened by the statement of the first look-up (so none
 * without a number to assign); its count and amount are set by `closePayment` once all
 * are written.
 */
export async function freshNumbers(tx: Db, routes: Route[], randomInt: (n: number) => number, open?: AssignContext): Promise<FreshNumbers> {
  const out: (string | undefined)[] = new Array(routes.length).fill(undefined);
  const seen = new Set<string>();
  let payment: FreshNumbers['payment'];
  let todo = routes.map((_, i) => i);
  for (let round = 0; todo.length > 0; round++) {
    if (round > 20) throw new Error('could not generate unique CAS numbers');
    for (const i of todo) out[i] = drawNumber(routes[i]!, randomInt, seen);
    const taken = new Set<string>();
    // One jsonb parameter rather than one parameter per number.
    for (const part of chunkFor(todo, 1)) {
      const numbers = part.map((i) => out[i]!);
      if (open && !payment) {
        const opened = await takenOpening(tx, numbers, open);
        payment = opened.payment;
        for (const n of opened.taken) taken.add(n);
      } else {
        for (const r of await rowsOf<{ n: string }>(tx, takenSql(numbers))) taken.add(r.n);
      }
    }
    todo = todo.filter((i) => taken.has(out[i]!));
  }
  return { numbers: out as string[], ...(payment ? { payment } : {}) };
}

/** A CAS number for the route, none of `seen` (to which it is added). */
function drawNumber(route: Route, randomInt: (n: number) => number, seen: Set<string>): string {
  let n: string;
  do n = generateCasNumber(route, randomInt);
  while (seen.has(n));
  seen.add(n);
  return n;
}

/**
 * CAS numbers drawn without asking the store which are taken, none of `seen` (the numbers
 * drawn already for the same file): for a transaction that must not wait for an answer
 * before writing them (a group's, see handle-group.ts). The unique index on CAS numbers
 * refuses one some CAS has (one chance in 1.2 x 10^12 per number for each CAS stored),
 * which fails the whole group, whose files are then stored alone, each with freshNumbers.
 */
export function drawnNumbers(route: Route, count: number, randomInt: (n: number) => number, seen: Set<string>): string[] {
  return Array.from({ length: count }, () => drawNumber(route, randomInt, seen));
}

/**
 * The payment of CAS assigned a part at a time, opened by a statement sent and not
 * awaited: the statements behind it on the transaction find it by its reference (unique),
 * as `id`. `written` settles when it has run.
 */
export function openPayment(tx: Db, open: AssignContext): { payment: { id: SQL; reference: string }; written: Promise<unknown> } {
  const reference = paymentReference(open.now);
  const written = sendQuery(tx, paymentInsert(open, reference));
  return { payment: { id: sql`(select id from payments where reference = ${reference})`, reference }, written };
}

/** The numbers of these that some CAS already has, and the payment opened, in one statement. */
async function takenOpening(
  tx: Db,
  numbers: string[],
  open: AssignContext,
): Promise<{ taken: string[]; payment: { id: number; reference: string } }> {
  const reference = paymentReference(open.now);
  const [row] = await rowsOf<{ payment_id: string | number; taken: string[] }>(
    tx,
    sql`with paid as (${paymentInsert(open, reference)})
        select (select id from paid) as payment_id, (select coalesce(jsonb_agg(t.n), '[]'::jsonb) from (${takenSql(numbers)}) t) as taken`,
  );
  return { taken: row!.taken, payment: { id: Number(row!.payment_id), reference } };
}

/**
 * Sets the count and amount of an opened payment and records the allocation used, in one
 * statement (a data-modifying WITH runs to completion whatever the outer statement does).
 * The summary is known at once; `written` settles when the statement has run.
 */
export function closePayment(
  tx: Db,
  payment: { id: number | SQL; reference: string },
  casCount: number,
  ctx: AssignContext,
): { summary: PaymentSummary; written: Promise<unknown> } {
  const amountPence = assignmentFee(ctx.settings.feePence, casCount);
  // The caller holds the sponsor's row lock and has checked the unused allocation.
  const written = sendQuery(
    tx,
    sql`with paid as (update payments set cas_count = ${casCount}::int, amount = ${formatPence(amountPence)}::numeric where id = ${payment.id})
        update sponsors set allocation_used = allocation_used + ${casCount}::int, updated_at = ${ctx.now.toISOString()}::timestamptz
        where licence_number = ${ctx.licence}`,
  );
  return { summary: { reference: payment.reference, casCount, amountPence, currency: 'GBP' }, written };
}

/**
 * Assigns the given CAS, in the given order. The caller holds the sponsor's row lock,
 * has checked that they are READY_TO_GO and that the unused allocation covers them.
 */
export async function assignCas(tx: Db, items: { id: number; route: Route }[], ctx: AssignContext): Promise<Assigned> {
  const expiresOn = casExpiry(ctx.now, ctx.settings.validityMonths);
  if (items.length === 0) return { casNumbers: new Map(), expiresOn };
  // The payment is opened by the numbers' look-up: one statement.
  const { numbers, payment: opened } = await freshNumbers(
    tx,
    items.map((i) => i.route),
    numberSource(ctx.settings),
    ctx,
  );
  const payment = opened!;

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
            expires_on = ${expiresOn}::date, payment_id = ${payment.id}, status_changed_at = ${nowIso}::timestamptz
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
  const paid = closePayment(tx, payment, items.length, ctx);
  await Promise.all([paid.written, queueStatements(tx, ctx.licence, numbers, ctx.now)]);
  return { casNumbers, expiresOn, payment: paid.summary };
}
