/**
 * Graduate notification files, inside the file's transaction: each reported CAS must be
 * this sponsor's and USED; it is then marked graduated (once; re-reports change nothing).
 */
import { findSponsorCasByNumbers, markGraduated } from '../db/graduates.ts';
import type { Db } from '../db/client.ts';
import { isoDateUtc } from '../domain/dates.ts';
import { countRecord, zeroCounts, type RecordResult } from '../domain/result.ts';
import { alreadyReportedIssue, casNotFoundIssue, casStatusIssue } from '../domain/rules.ts';
import { parseRecordXml, readGraduateRecord } from '../xml/record-reader.ts';
import { renderRecord } from '../xml/result-xml.ts';
import type { Inspected } from './inspect.ts';
import type { Stored } from './store-upload.ts';

export async function storeGraduateReport(
  tx: Db,
  file: Inspected,
  opts: { licence: string; submissionId: number; now: Date; onProgress?: ((fraction: number) => void) | undefined },
): Promise<Stored> {
  const entries = [];
  let index = 0;
  for (const span of file.children) {
    if (span.local !== 'BulkReportingCASData') continue;
    entries.push(readGraduateRecord(parseRecordXml(file.text.slice(span.start, span.end)), ++index));
  }
  const found = await findSponsorCasByNumbers(tx, opts.licence, entries.map((e) => e.casNumber));
  const graduatedOn = isoDateUtc(opts.now);
  const toMark: number[] = [];
  const records: RecordResult[] = entries.map((e) => {
    const base = { index: e.index, reportedCasNumber: e.casNumber };
    const target = found.get(e.casNumber);
    if (!target) return { ...base, outcome: 'REJECTED', issues: [casNotFoundIssue(e.casNumber)] };
    if (target.status !== 'USED') return { ...base, outcome: 'REJECTED', issues: [casStatusIssue(e.casNumber, target.status)] };
    if (target.graduatedOn) return { ...base, outcome: 'REPORTED', issues: [alreadyReportedIssue(e.casNumber, target.graduatedOn)] };
    target.graduatedOn = graduatedOn;
    toMark.push(target.id);
    return { ...base, outcome: 'REPORTED', issues: [] };
  });
  if (toMark.length) await markGraduated(tx, toMark, graduatedOn, opts.submissionId, opts.now);
  const counts = zeroCounts();
  for (const r of records) countRecord(counts, r);
  opts.onProgress?.(1);
  return { counts, recordsXml: [records.map(renderRecord).join('')] };
}
