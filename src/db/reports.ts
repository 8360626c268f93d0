/**
 * Student activity reports in the store (spec section 9): each accepted report is a row of
 * cas_reports and a REPORT event in the CAS's history; the status never changes. The
 * report file kind's store step calls `storeReports` inside its own transaction.
 */
import { and, asc, eq, inArray } from 'drizzle-orm';
import { isAfter } from '../domain/dates.ts';
import {
  alreadyReportedIssue,
  lateReportIssue,
  reportCasNotFoundIssue,
  reportCasStatusIssue,
  reportDateIssues,
  reportStatusAllowed,
  sameReport,
  triggerDate,
  type ReportInput,
  type ReportKind,
} from '../domain/reports.ts';
import { issueSeverity } from '../domain/rules.ts';
import type { CasStatus, RecordIssue } from '../domain/types.ts';
import { dueDate, type Nation } from '../domain/working-days.ts';
import type { Db } from './client.ts';
import { recordEvents } from './cas-events.ts';
import { cas, casReports } from './schema.ts';

export interface ReportOutcome {
  casNumber: string;
  kind: ReportKind;
  outcome: 'REPORTED' | 'REJECTED';
  /** When REPORTED: the due date (of the stored report, for W_ALREADY_REPORTED). */
  dueDate?: string;
  issues: RecordIssue[];
}

interface StoredReport {
  kind: string;
  fields: Record<string, string>;
  notes: string | null;
  triggerDate: string;
  dueDate: string;
  late: boolean;
  receivedAt: Date;
}

/** A USED CAS is suspended when its last SUSPENDED or RESUMED report is a suspension. */
function suspended(reports: readonly StoredReport[]): boolean {
  const last = [...reports].reverse().find((r) => r.kind === 'SUSPENDED' || r.kind === 'RESUMED');
  return last?.kind === 'SUSPENDED';
}

/**
 * Judges and stores the reports in order, for one sponsor, as received at `receivedAt`
 * with due dates in `nation`. Another sponsor's CAS is E_CAS_NOT_FOUND in the same words.
 * The CAS rows are locked (FOR UPDATE) until the caller's transaction ends.
 */
export async function storeReports(
  tx: Db,
  licence: string,
  reports: readonly ReportInput[],
  opts: { receivedAt: Date; nation: Nation; reason: string; submissionId?: number | undefined },
): Promise<ReportOutcome[]> {
  const receivedOn = opts.receivedAt.toISOString().slice(0, 10);
  const numbers = [...new Set(reports.map((r) => r.casNumber))];
  const rows = numbers.length
    ? await tx
        .select({ id: cas.id, casNumber: cas.casNumber, status: cas.status })
        .from(cas)
        .where(and(eq(cas.sponsorLicenceNumber, licence), inArray(cas.casNumber, numbers)))
        .orderBy(asc(cas.id))
        .for('update')
    : [];
  const byNumber = new Map(rows.map((r) => [r.casNumber!, { id: r.id, status: r.status as CasStatus }]));
  const ids = rows.map((r) => r.id);
  const stored = new Map<number, StoredReport[]>();
  if (ids.length) {
    const existing = await tx.select().from(casReports).where(inArray(casReports.casId, ids)).orderBy(asc(casReports.id));
    for (const e of existing) stored.set(e.casId, [...(stored.get(e.casId) ?? []), e]);
  }
  const seen = new Map<string, number>();
  for (const r of reports) seen.set(`${r.casNumber}:${r.kind}`, (seen.get(`${r.casNumber}:${r.kind}`) ?? 0) + 1);

  const out: ReportOutcome[] = [];
  for (const r of reports) {
    const rejected = (issues: RecordIssue[]) => out.push({ casNumber: r.casNumber, kind: r.kind, outcome: 'REJECTED', issues });
    if ((seen.get(`${r.casNumber}:${r.kind}`) ?? 0) > 1) {
      rejected([
        {
          severity: issueSeverity('E_DUPLICATE_IN_FILE'),
          code: 'E_DUPLICATE_IN_FILE',
          field: 'CASNumber',
          message: `CAS ${r.casNumber} has more than one ${r.kind} report in this file`,
        },
      ]);
      continue;
    }
    const dateIssues = reportDateIssues(r, receivedOn);
    if (dateIssues.length) {
      rejected(dateIssues);
      continue;
    }
    const row = byNumber.get(r.casNumber);
    if (!row) {
      rejected([reportCasNotFoundIssue(r.casNumber)]);
      continue;
    }
    const mine = stored.get(row.id) ?? [];
    const same = mine.find((s) => sameReport(s, r));
    if (same) {
      out.push({
        casNumber: r.casNumber,
        kind: r.kind,
        outcome: 'REPORTED',
        dueDate: same.dueDate,
        issues: [alreadyReportedIssue(r.casNumber, r.kind)],
      });
      continue;
    }
    const isSuspended = suspended(mine);
    if (!reportStatusAllowed(r.kind, row.status, isSuspended)) {
      rejected([reportCasStatusIssue(r.casNumber, r.kind, row.status, isSuspended)]);
      continue;
    }
    const trigger = triggerDate(r);
    const due = dueDate(trigger, opts.nation);
    const late = isAfter(receivedOn, due);
    const report: StoredReport = {
      kind: r.kind,
      fields: { ...r.fields },
      notes: r.notes ?? null,
      triggerDate: trigger,
      dueDate: due,
      late,
      receivedAt: opts.receivedAt,
    };
    await tx.insert(casReports).values({
      casId: row.id,
      sponsorLicenceNumber: licence,
      ...report,
      submissionId: opts.submissionId,
    });
    await recordEvents(tx, [
      {
        casId: row.id,
        fromStatus: row.status,
        toStatus: row.status,
        at: opts.receivedAt,
        reason: opts.reason,
        kind: 'REPORT',
        details: { ...report, receivedAt: opts.receivedAt.toISOString() },
        submissionId: opts.submissionId,
      },
    ]);
    mine.push(report);
    stored.set(row.id, mine);
    out.push({
      casNumber: r.casNumber,
      kind: r.kind,
      outcome: 'REPORTED',
      dueDate: due,
      issues: late ? [lateReportIssue(r.kind, due, receivedOn)] : [],
    });
  }
  return out;
}
