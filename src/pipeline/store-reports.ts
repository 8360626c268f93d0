/**
 * Student activity report files (spec section 9), inside the file's transaction: the
 * records are read in order and judged and stored by `storeReports` (src/db/reports.ts),
 * as received when the file was, with due dates in the configured nation's working days.
 * A block of another kind than its CASReport names is refused here (E_CODE_VALUE).
 */
import type { Db } from '../db/client.ts';
import { storeReports } from '../db/reports.ts';
import type { ReportInput } from '../domain/reports.ts';
import { countRecord, zeroCounts, type RecordResult } from '../domain/result.ts';
import { issueSeverity } from '../domain/rules.ts';
import { readActivityReport } from '../xml/record-reader.ts';
import { renderRecord } from '../xml/result-xml.ts';
import type { Inspected } from './inspect.ts';
import { readRecords } from './store-graduates.ts';
import type { StoreContext } from './store-steps.ts';
import type { Stored } from './store-upload.ts';

export async function storeActivityReport(tx: Db, file: Inspected, ctx: StoreContext): Promise<Stored> {
  const entries = await readRecords(file, 'BulkReportingCASData', readActivityReport);
  const inputs: ReportInput[] = entries.flatMap((e) => (e.input ? [e.input] : []));
  const outcomes = await storeReports(tx, ctx.licence, inputs, {
    receivedAt: ctx.receivedAt,
    nation: ctx.settings.holidays ?? 'england-and-wales',
    reason: `reported by submission ${ctx.submissionId}`,
    submissionId: ctx.submissionId,
  });
  let next = 0;
  const records: RecordResult[] = entries.map((e) => {
    // A record without a CASNumber reads as '': its result names none (no casNumber attribute).
    const base = { index: e.index, ...(e.casNumber ? { reportedCasNumber: e.casNumber } : {}), report: e.report };
    if (!e.input) {
      const message = `CASReport ${e.report} is followed by ${e.mismatch || 'no block'}; it needs its own block`;
      return {
        ...base,
        outcome: 'REJECTED',
        issues: [{ severity: issueSeverity('E_CODE_VALUE'), code: 'E_CODE_VALUE', field: 'CASReport', message }],
      };
    }
    const o = outcomes[next++]!;
    return { ...base, outcome: o.outcome, ...(o.dueDate ? { dueDate: o.dueDate } : {}), issues: o.issues };
  });
  const counts = zeroCounts();
  for (const r of records) countRecord(counts, r);
  ctx.onProgress?.(1);
  return { counts, recordsXml: [records.map((r) => renderRecord(r)).join('')] };
}
