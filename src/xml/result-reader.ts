/**
 * The one reader of result XML (results.md; what result-xml.ts renders): a stored result
 * read back as the result model, for the console, the CLI and a replay.
 */
import { XMLParser } from 'fast-xml-parser';
import type { RecordResult } from '../domain/result.ts';
import type { CasStatus, FileError, RecordIssue, RecordOutcome } from '../domain/types.ts';

interface ResultView {
  fileErrors: FileError[];
  payment?: { reference: string; casCount: number; amount: string; currency: string };
  records: RecordResult[];
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  textNodeName: '#text',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  htmlEntities: false,
  isArray: (name) => name === 'Record' || name === 'Issue' || name === 'Error',
});

type Node = Record<string, unknown>;
const text = (v: unknown): string =>
  v === undefined || v === null ? '' : typeof v === 'object' ? String((v as Node)['#text'] ?? '') : String(v);
const attr = (n: Node, name: string): string | undefined => {
  const v = n[`@${name}`];
  return v === undefined ? undefined : String(v);
};
const num = (v: string | undefined) => (v === undefined || v === '' ? undefined : Number(v));

function recordOf(r: Node): RecordResult {
  const o: RecordResult = {
    index: Number(attr(r, 'index') ?? 0),
    outcome: text(r.Outcome) as RecordOutcome,
    // As in the model the result was rendered from, an attribute the XML lacks is left out (not undefined).
    issues: ((r.Issue ?? []) as Node[]).map((i) => {
      const field = attr(i, 'field');
      return {
        severity: attr(i, 'severity') ?? '',
        code: attr(i, 'code') ?? '',
        ...(field ? { field } : {}),
        message: text(i),
      } as RecordIssue;
    }),
  };
  const applicantId = attr(r, 'applicantId');
  const reported = attr(r, 'casNumber');
  const report = attr(r, 'report');
  if (applicantId !== undefined) o.applicantId = applicantId;
  if (reported !== undefined) o.reportedCasNumber = reported;
  if (report !== undefined) o.report = report;
  if (r.Status !== undefined) o.status = text(r.Status) as CasStatus;
  if (r.CASNumber !== undefined) o.casNumber = text(r.CASNumber);
  if (r.ExpiryDate !== undefined) o.expiryDate = text(r.ExpiryDate);
  if (r.DueDate !== undefined) o.dueDate = text(r.DueDate);
  return o;
}

/** A whole result: its file errors, payment and every record. */
export function readResult(xml: string): ResultView {
  const doc = parser.parse(xml) as Node;
  const root = (doc.BulkResult ?? {}) as Node;
  const errors = (((root.FileErrors ?? {}) as Node).Error ?? []) as Node[];
  const records = (((root.Records ?? {}) as Node).Record ?? []) as Node[];
  const pay = root.Payment as Node | undefined;
  return {
    fileErrors: errors.map((e) => {
      const line = num(attr(e, 'line'));
      const column = num(attr(e, 'column'));
      return {
        code: attr(e, 'code') ?? '',
        message: text(e),
        ...(line !== undefined ? { line } : {}),
        ...(column !== undefined ? { column } : {}),
      } as FileError;
    }),
    ...(pay
      ? {
          payment: {
            reference: attr(pay, 'reference') ?? '',
            casCount: Number(attr(pay, 'casCount') ?? 0),
            amount: attr(pay, 'amount') ?? '',
            currency: attr(pay, 'currency') ?? '',
          },
        }
      : {}),
    records: records.map(recordOf),
  };
}

/** How many records one page of a result shows. */
export const RESULT_PAGE_SIZE = 100;

/**
 * Where a result's Record elements are: from the first to the end of the last, as
 * renderResult wrote them. The result XML is ours: text and attribute values are escaped,
 * so `<Record ` and `</Records>` occur only as the tags themselves.
 */
function recordsSpan(xml: string): { start: number; end: number } | undefined {
  const open = xml.indexOf('<Records>');
  if (open < 0) return undefined;
  const start = open + '<Records>'.length;
  const close = xml.indexOf('</Records>', start);
  return { start, end: close < 0 ? xml.length : close };
}

/**
 * The result read with `records` (some of its Record elements, as they are in it) in place
 * of all of them: the part before its records is parsed, and those alone after it.
 */
function readWithRecords(xml: string, span: { start: number }, records: string): ResultView {
  return readResult(`${xml.slice(0, span.start)}\n${records}\n</Records>\n</BulkResult>\n`);
}

/** A result's head alone (file errors and payment, no records): only the part before its records is parsed. */
export function readResultHead(xml: string): Omit<ResultView, 'records'> {
  const span = recordsSpan(xml);
  const { records: _none, ...head } = span ? readWithRecords(xml, span, '') : readResult(xml);
  return head;
}

/**
 * The Record elements of a stored result as they were rendered, each line indented for its
 * place: what renderResult takes as `recordsXml` (a replay gives the earlier records again).
 */
export function recordElements(xml: string): string {
  const span = recordsSpan(xml);
  if (!span) return '';
  // The opening tag's line ends before the first record; the closing tag's indentation follows the last.
  return xml.slice(xml.indexOf('\n', span.start) + 1, xml.lastIndexOf('\n', span.end) + 1);
}

/**
 * One page of a stored result: its file errors and payment, `size` records from the
 * `from`-th (0-based), and how many records it holds in all. Only that page's records are
 * parsed: the rest of the document is scanned for where its records start (a result of
 * 5,000 records is read in a few milliseconds, not parsed whole on the service's thread).
 */
export function readResultPage(xml: string, from: number, size = RESULT_PAGE_SIZE): ResultView & { total: number; from: number } {
  const span = recordsSpan(xml);
  if (!span) return { ...readResult(xml), total: 0, from: 0 };
  const { start: bodyStart, end: bodyEnd } = span;
  let total = 0;
  let sliceStart = -1;
  let sliceEnd = -1;
  for (let at = xml.indexOf('<Record ', bodyStart); at >= 0 && at < bodyEnd; at = xml.indexOf('<Record ', at + 8)) {
    if (total === from) sliceStart = at;
    if (total === from + size) sliceEnd = at;
    total++;
  }
  const first = Math.min(from, Math.max(0, total - 1));
  if (sliceStart < 0 && total > 0) return readResultPage(xml, Math.floor(first / size) * size, size);
  const records = sliceStart < 0 ? '' : xml.slice(sliceStart, sliceEnd < 0 ? bodyEnd : sliceEnd);
  return { ...readWithRecords(xml, span, records), total, from: sliceStart < 0 ? 0 : from };
}

/**
 * The first `max` refused records of a stored result, and how many it refuses in all.
 * Only those few are parsed: the rest is scanned for `<Outcome>REJECTED</Outcome>` (each
 * Record holds one Outcome, and escaped values never hold a tag), so that a result of
 * 50,000 records costs a scan, not a parse, for the few lines `process` prints.
 */
export function refusedRecords(xml: string, max: number): { records: RecordResult[]; total: number } {
  const span = recordsSpan(xml);
  if (!span) return { records: [], total: 0 };
  const tag = '<Outcome>REJECTED</Outcome>';
  const slices: string[] = [];
  let total = 0;
  for (let at = xml.indexOf(tag, span.start); at >= 0 && at < span.end; at = xml.indexOf(tag, at + tag.length)) {
    total++;
    if (slices.length < max) {
      const start = xml.lastIndexOf('<Record ', at);
      const close = xml.indexOf('</Record>', at);
      slices.push(xml.slice(start, close < 0 ? span.end : close + '</Record>'.length));
    }
  }
  return { records: slices.length ? readWithRecords(xml, span, slices.join('\n')).records : [], total };
}
