/** Reading CAS for `cas show`, `cas list` and the export. */
import { and, asc, count, eq, sql, type SQL } from 'drizzle-orm';
import { currentFees, feesFromJson, inPounds, type FeesInPounds } from '../domain/fees.ts';
import type { CasStatus, Route } from '../domain/types.ts';
import type { Db } from './client.ts';
import { batches, cas, casEvents } from './schema.ts';

export interface CasView {
  id: number;
  casNumber: string | null;
  status: CasStatus;
  route: Route;
  sponsorLicenceNumber: string;
  applicantId: string;
  familyName: string;
  givenName: string | null;
  nationality: string;
  courseTitle: string;
  courseId: string | null;
  courseStartDate: string;
  expectedCourseEndDate: string;
  batch: string;
  assignedAt: string | null;
  expiresAt: string | null;
  usedAt: string | null;
  graduatedAt: string | null;
  /** The visa decision on the application made with this CAS (`cas decide`), and its date. */
  decision: 'granted' | 'refused' | null;
  decidedOn: string | null;
  /** The current fees in pounds (`5000.00`), null where not given. */
  fees: FeesView;
}

export type FeesView = FeesInPounds;

/** Events that leave the status as it is; a status change has no `event`. */
export type CasEventKind = 'FEES_UPDATED' | 'NOTE' | 'DECISION' | 'REPORT';

export interface CasHistoryEntry {
  from: CasStatus | null;
  to: CasStatus;
  at: string;
  reason: string;
  event?: CasEventKind;
  /** FEES_UPDATED: the fees before and after. */
  fees?: { before: FeesView; after: FeesView };
  /** NOTE: the sponsor's text. */
  note?: string;
  /** DECISION: the decision, its date, and the one it corrected. */
  decision?: { decision: string; decidedOn: string; replaced: { decision: string; decidedOn: string } | null };
  /** REPORT: the student activity report. */
  report?: ReportEntry;
}

/** One student activity report as `cas show` and the console list it (notes included: shown, never logged). */
export interface ReportEntry {
  kind: string;
  triggerDate: string;
  fields: Record<string, string>;
  notes: string | null;
  dueDate: string;
  late: boolean;
  receivedAt: string;
}

const columns = {
  id: cas.id,
  casNumber: cas.casNumber,
  status: cas.status,
  route: cas.route,
  sponsorLicenceNumber: cas.sponsorLicenceNumber,
  applicantId: cas.applicantId,
  familyName: cas.familyName,
  givenName: cas.givenName,
  nationality: cas.nationality,
  courseTitle: cas.courseTitle,
  courseId: cas.courseId,
  courseStartDate: cas.courseStartDate,
  expectedCourseEndDate: cas.expectedCourseEndDate,
  batch: batches.name,
  assignedAt: cas.assignedAt,
  expiresOn: cas.expiresOn,
  usedOn: cas.usedOn,
  graduatedOn: cas.graduatedOn,
  decision: cas.decision,
  decidedOn: cas.decidedOn,
  feesUpdated: cas.fees,
  feesUploaded: sql<unknown>`${cas.data} -> 'FinancialAndAccommodationDetails'`,
};

type Row = Awaited<ReturnType<typeof selectRows>>[number];

/** A page of a listing: at most `limit` rows (all when undefined) after skipping `offset`. */
interface Page {
  limit?: number | undefined;
  offset?: number | undefined;
}

function selectRows(db: Db, where: SQL | undefined, page: Page = {}) {
  const q = db.select(columns).from(cas).innerJoin(batches, eq(batches.id, cas.batchId)).where(where).orderBy(asc(cas.id)).$dynamic();
  if (page.limit !== undefined) q.limit(page.limit);
  if (page.offset) q.offset(page.offset);
  return q;
}

function view({ expiresOn, usedOn, graduatedOn, assignedAt, feesUpdated, feesUploaded, decision, decidedOn, ...r }: Row): CasView {
  return {
    ...r,
    decision: decision ?? null,
    decidedOn: decidedOn ?? null,
    fees: inPounds(currentFees(feesUpdated, { FinancialAndAccommodationDetails: feesUploaded })),
    status: r.status,
    route: r.route,
    assignedAt: assignedAt ? assignedAt.toISOString() : null,
    expiresAt: expiresOn,
    usedAt: usedOn,
    graduatedAt: graduatedOn,
  };
}

async function select(db: Db, where: SQL | undefined, page?: Page): Promise<CasView[]> {
  return (await selectRows(db, where, page)).map(view);
}

export async function findCas(db: Db, by: { id: number } | { casNumber: string }): Promise<CasView | undefined> {
  const [row] = await select(db, 'id' in by ? eq(cas.id, by.id) : eq(cas.casNumber, by.casNumber));
  return row;
}

export async function casHistory(db: Db, id: number): Promise<CasHistoryEntry[]> {
  const rows = await db.select().from(casEvents).where(eq(casEvents.casId, id)).orderBy(asc(casEvents.id));
  return rows.map((e) => {
    const entry: CasHistoryEntry = {
      from: e.fromStatus as CasStatus | null,
      to: e.toStatus as CasStatus,
      at: e.at.toISOString(),
      reason: e.reason,
    };
    if (e.kind !== 'STATUS_CHANGED') entry.event = e.kind;
    const d = (e.details ?? {}) as { before?: unknown; after?: unknown; text?: unknown };
    if (e.kind === 'DECISION') entry.decision = e.details as NonNullable<CasHistoryEntry['decision']>;
    if (e.kind === 'REPORT') entry.report = e.details as unknown as ReportEntry;
    if (e.kind === 'FEES_UPDATED') {
      const before = feesFromJson(d.before);
      const after = feesFromJson(d.after);
      if (before && after) entry.fees = { before: inPounds(before), after: inPounds(after) };
    }
    if (e.kind === 'NOTE' && typeof d.text === 'string') entry.note = d.text;
    return entry;
  });
}

interface CasFilter {
  licence: string;
  status?: CasStatus | undefined;
  route?: Route | undefined;
  batch?: string | undefined;
  applicantId?: string | undefined;
  /** Only CAS with a student activity report of this kind. */
  reported?: string | undefined;
}

function casWhere(f: CasFilter): SQL | undefined {
  return and(
    eq(cas.sponsorLicenceNumber, f.licence),
    f.status ? eq(cas.status, f.status) : undefined,
    f.route ? eq(cas.route, f.route) : undefined,
    f.batch ? eq(batches.name, f.batch) : undefined,
    f.applicantId ? eq(cas.applicantId, f.applicantId) : undefined,
    f.reported ? sql`exists (select 1 from cas_reports r where r.cas_id = ${cas.id} and r.kind = ${f.reported})` : undefined,
  );
}

export async function listCas(db: Db, f: CasFilter, page?: Page): Promise<CasView[]> {
  return select(db, casWhere(f), page);
}

/** How many CAS match (the total a paged listing shows one page of). */
export async function countCas(db: Db, f: CasFilter): Promise<number> {
  const [row] = await db.select({ n: count() }).from(cas).innerJoin(batches, eq(batches.id, cas.batchId)).where(casWhere(f));
  return Number(row?.n ?? 0);
}
