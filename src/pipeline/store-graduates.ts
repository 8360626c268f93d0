/**
 * Graduate notification files, inside the file's transaction: each reported CAS must be
 * this sponsor's and USED; it is then marked graduated (once; re-reports change nothing).
 */
import { findSponsorCasByNumbers, markGraduated } from '../db/graduates.ts';
import type { Db } from '../db/client.ts';
import { isoDateUtc } from '../domain/dates.ts';
import { countRecord, zeroCounts, type RecordResult } from '../domain/result.ts';
import { isValidCasNumber } from '../domain/cas-number.ts';
import { alreadyReportedIssue, casCheckCharIssue, casNotFoundIssue, casStatusIssue } from '../domain/rules.ts';
import { parseRecordXml, readGraduateRecord } from '../xml/record-reader.ts';
import { renderRecord } from '../xml/result-xml.ts';
import type { Inspected } from './inspect.ts';
import type { Stored } from './store-upload.ts';

/** What storing a file whose records name CAS by number needs (graduate reports, fee updates). */
export interface ByNumberOptions {
  licence: string;
  submissionId: number;
  now: Date;
  onProgress?: ((fraction: number) => void) | undefined;
}

/** The file's record elements named `local`, in order, each read by `read` with its 1-based index. */
export async function readRecords<T>(
  file: Inspected,
  local: string,
  read: (node: ReturnType<typeof parseRecordXml>, index: number) => T,
): Promise<T[]> {
  const out: T[] = [];
  const text = file.source.fork();
  for (const span of file.children) {
    if (span.local !== local) continue;
    await text.load(span.start, span.end);
    out.push(read(parseRecordXml(text.slice(span.start, span.end)), out.length + 1));
  }
  return out;
}

export async function storeGraduateReport(tx: Db, file: Inspected, opts: ByNumberOptions): Promise<Stored> {
  const entries = await readRecords(file, 'BulkReportingCASData', readGraduateRecord);
  const found = await findSponsorCasByNumbers(
    tx,
    opts.licence,
    entries.map((e) => e.casNumber),
  );
  const graduatedOn = isoDateUtc(opts.now);
  const toMark: number[] = [];
  const records: RecordResult[] = entries.map((e) => {
    const base = { index: e.index, reportedCasNumber: e.casNumber };
    const target = found.get(e.casNumber);
    if (!target)
      return {
        ...base,
        outcome: 'REJECTED',
        issues: [isValidCasNumber(e.casNumber) ? casNotFoundIssue(e.casNumber) : casCheckCharIssue(e.casNumber)],
      };
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
  return { counts, recordsXml: [records.map((r) => renderRecord(r)).join('')] };
}
