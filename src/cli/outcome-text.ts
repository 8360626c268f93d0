/**
 * What a file's outcome says in words, for people: its errors with their messages (not
 * only codes) and each record's outcome. Shared by process, validate, submissions and demo.
 */
import { fileKind } from '../domain/file-kinds.ts';
import { everyRecordRefused, type FileSummary, type RecordResult } from '../domain/result.ts';
import type { FileError } from '../domain/types.ts';
import { count } from './words.ts';

/** `E_SCHEMA at 13:7: message`, one line. */
function fileErrorLine(e: FileError): string {
  return `${e.code}${e.line ? ` at ${e.line}:${e.column ?? 0}` : ''}: ${e.message}`;
}

/** The first `max` errors, indented, then how many more there are. */
export function fileErrorLines(errors: FileError[], max = 10, indent = '  '): string[] {
  const lines = errors.slice(0, max).map((e) => indent + fileErrorLine(e));
  if (errors.length > max) lines.push(`${indent}... and ${errors.length - max} more (the result file lists them all)`);
  return lines;
}

const STATUS_WORDS: Record<string, string> = {
  ASSIGNED: 'assigned',
  READY_TO_GO: 'ready to go',
  WORK_IN_PROGRESS: 'work in progress',
};

/** One line per record, then one per issue; `wouldBe` for a dry run, which gives no CAS number. */
export function recordLines(records: RecordResult[], opts: { wouldBe?: boolean; indent?: string } = {}): string[] {
  const indent = opts.indent ?? '  ';
  const lines: string[] = [];
  for (const r of records) {
    const who =
      r.applicantId !== undefined ? `ApplicantID ${r.applicantId}` : r.reportedCasNumber !== undefined ? `CAS ${r.reportedCasNumber}` : '';
    const status = r.status ? ` -> ${STATUS_WORDS[r.status] ?? r.status}` : '';
    const number = r.casNumber ? ` ${r.casNumber} (expires ${r.expiryDate})` : '';
    const outcome = opts.wouldBe && r.outcome !== 'REJECTED' ? `would be ${r.outcome.toLowerCase()}` : r.outcome.toLowerCase();
    lines.push(`${indent}record ${r.index}${who ? ` (${who})` : ''}: ${outcome}${status}${number}`);
    for (const i of r.issues)
      lines.push(`${indent}  ${i.severity === 'ERROR' ? 'error' : 'warning'} ${i.code}${i.field ? ` ${i.field}` : ''}: ${i.message}`);
  }
  return lines;
}

/** The distinct error codes of a summary, for a table cell. */
export const errorCodes = (s: Pick<FileSummary, 'fileErrors'>) =>
  s.fileErrors
    .map((e) => e.code)
    .filter((c, i, a) => a.indexOf(c) === i)
    .join(',');

/** The records of a stored result, read back from its XML (the reader is loaded here: commands that never read a result start without it). */
export async function recordsOf(resultXml: string): Promise<RecordResult[]> {
  const { readResult } = await import('../xml/result-reader.ts');
  return readResult(resultXml).records;
}

/** The first `max` refused records of a stored result, and how many it refuses in all (only those few are parsed). */
export async function refusedOf(resultXml: string, max: number): Promise<{ records: RecordResult[]; total: number }> {
  const { refusedRecords } = await import('../xml/result-reader.ts');
  return refusedRecords(resultXml, max);
}

/** What an accepted file's records came to, in words ("1 record: 1 created, ..."). */
export function countsLine(s: Pick<FileSummary, 'counts' | 'fileType'>): string {
  const c = s.counts;
  return `${count(c.records, 'record')}: ${fileKind(s.fileType)?.countsWords(c) ?? `${c.rejected} rejected`}`;
}

/** The outcome in words: a file whose records were refused, all or some, is not told like a clean one. */
export function outcomeWords(s: Pick<FileSummary, 'outcome' | 'counts'>): string {
  if (everyRecordRefused(s)) return 'ACCEPTED, but EVERY RECORD REFUSED (nothing stored)';
  if (s.outcome === 'ACCEPTED' && s.counts.rejected > 0)
    return `ACCEPTED, ${s.counts.rejected} of ${count(s.counts.records, 'record')} refused`;
  return s.outcome;
}
