/** What CAS statements are made of, and the statements owed to sponsors' outboxes. */
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { currentFees, feesFromJson, inPounds } from '../domain/fees.ts';
import type { StatementEvent, StatementInput } from '../domain/statement.ts';
import type { CasStatus, RecordIssue } from '../domain/types.ts';
import type { Db } from './client.ts';
import { batches, cas, casEvents, pendingStatements, sponsors } from './schema.ts';
import { rowsOf } from './sql-util.ts';

/** CAS loaded per round trip: their rows and events in two statements. */
export const STATEMENTS_PER_QUERY = 200;

/** The statements' inputs of these CAS (at most STATEMENTS_PER_QUERY), in the order of `ids`; unknown ids are left out. */
export async function statementInputs(db: Db, ids: readonly number[]): Promise<StatementInput[]> {
  if (ids.length === 0) return [];
  if (ids.length > STATEMENTS_PER_QUERY) throw new Error(`statementInputs: ${ids.length} ids at once`);
  const [rows, events] = await Promise.all([
    db
      .select({ c: cas, batch: batches.name, sponsorName: sponsors.name })
      .from(cas)
      .innerJoin(batches, eq(batches.id, cas.batchId))
      .innerJoin(sponsors, eq(sponsors.licenceNumber, cas.sponsorLicenceNumber))
      .where(inArray(cas.id, [...ids])),
    db
      .select()
      .from(casEvents)
      .where(inArray(casEvents.casId, [...ids]))
      .orderBy(asc(casEvents.casId), asc(casEvents.id)),
  ]);
  const history = new Map<number, StatementEvent[]>();
  for (const e of events) {
    const entry: StatementEvent = { from: e.fromStatus as CasStatus | null, to: e.toStatus, at: e.at.toISOString(), reason: e.reason };
    const d = (e.details ?? {}) as { before?: unknown; after?: unknown; text?: unknown };
    if (e.kind === 'FEES_UPDATED') {
      entry.event = 'FEES_UPDATED';
      const before = feesFromJson(d.before);
      const after = feesFromJson(d.after);
      if (before && after) entry.fees = { before: inPounds(before), after: inPounds(after) };
    }
    if (e.kind === 'NOTE') {
      entry.event = 'NOTE';
      if (typeof d.text === 'string') entry.note = d.text;
    }
    const list = history.get(e.casId) ?? [];
    list.push(entry);
    history.set(e.casId, list);
  }
  const byId = new Map<number, StatementInput>();
  for (const { c, batch, sponsorName } of rows) {
    const data = (c.data ?? {}) as Record<string, unknown>;
    byId.set(c.id, {
      id: c.id,
      casNumber: c.casNumber,
      status: c.status,
      route: c.route,
      batch,
      sponsorLicenceNumber: c.sponsorLicenceNumber,
      sponsorName,
      data,
      warnings: (c.warnings ?? []) as RecordIssue[],
      fees: inPounds(currentFees(c.fees, { FinancialAndAccommodationDetails: data.FinancialAndAccommodationDetails })),
      feesUpdated: c.fees !== null,
      assignedAt: c.assignedAt ? c.assignedAt.toISOString() : null,
      expiresOn: c.expiresOn,
      usedOn: c.usedOn,
      graduatedOn: c.graduatedOn,
      createdAt: c.createdAt.toISOString(),
      history: history.get(c.id) ?? [],
    });
  }
  return ids.flatMap((id) => byId.get(id) ?? []);
}

/** The id of a CAS by number or id, if it exists. */
export async function statementCasId(db: Db, by: { id: number } | { casNumber: string }): Promise<number | undefined> {
  const [row] = await db
    .select({ id: cas.id })
    .from(cas)
    .where('id' in by ? eq(cas.id, by.id) : eq(cas.casNumber, by.casNumber));
  return row?.id;
}

/** The ids of a sponsor's CAS, optionally of one batch and status, in id order. */
export async function statementCasIds(
  db: Db,
  f: { licence: string; batch?: string | undefined; status?: CasStatus | undefined },
): Promise<number[]> {
  const rows = await db
    .select({ id: cas.id })
    .from(cas)
    .innerJoin(batches, eq(batches.id, cas.batchId))
    .where(
      and(
        eq(cas.sponsorLicenceNumber, f.licence),
        f.batch !== undefined ? eq(batches.name, f.batch) : undefined,
        f.status !== undefined ? eq(cas.status, f.status) : undefined,
      ),
    )
    .orderBy(asc(cas.id));
  return rows.map((r) => r.id);
}

/**
 * In an assignment's transaction: owes a statement for each of these newly assigned CAS
 * (by number, each found through the unique index) when their sponsor asked for them.
 */
export async function queueStatements(tx: Db, licence: string, casNumbers: readonly string[], now: Date): Promise<void> {
  if (casNumbers.length === 0) return;
  await tx.execute(
    sql`insert into pending_statements (cas_id, sponsor_licence_number, cas_number, queued_at)
        select c.id, c.sponsor_licence_number, c.cas_number, ${now.toISOString()}::timestamptz
        from jsonb_array_elements_text(${JSON.stringify(casNumbers)}::jsonb) as k(n)
        join cas c on c.cas_number = k.n
        where exists (select 1 from sponsors s where s.licence_number = ${licence} and s.statements)
        on conflict (cas_id) do nothing`,
  );
}

interface PendingStatement {
  casId: number;
  sponsorLicenceNumber: string;
  casNumber: string;
}

/** Some of the statements owed (oldest first), all sponsors' or one's. */
export async function pendingStatementsBatch(db: Db, limit: number, licence?: string): Promise<PendingStatement[]> {
  return db
    .select({
      casId: pendingStatements.casId,
      sponsorLicenceNumber: pendingStatements.sponsorLicenceNumber,
      casNumber: pendingStatements.casNumber,
    })
    .from(pendingStatements)
    .where(licence === undefined ? undefined : eq(pendingStatements.sponsorLicenceNumber, licence))
    .orderBy(asc(pendingStatements.queuedAt), asc(pendingStatements.casId))
    .limit(limit);
}

/** A statement is in its outbox: no longer owed. */
export async function statementWritten(db: Db, casIds: readonly number[]): Promise<void> {
  if (casIds.length === 0) return;
  await db.delete(pendingStatements).where(inArray(pendingStatements.casId, [...casIds]));
}

/** How many statements are owed (for tests and the log). */
export async function pendingStatementCount(db: Db): Promise<number> {
  const [row] = await rowsOf<{ n: number | string }>(db, sql`select count(*)::int as n from pending_statements`);
  return Number(row?.n ?? 0);
}
