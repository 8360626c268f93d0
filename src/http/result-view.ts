/** A stored result XML read back for the console: file errors, and each record with its issues. */
import { XMLParser } from 'fast-xml-parser';

interface ResultIssue {
  severity: string;
  code: string;
  field?: string;
  message: string;
}

interface ResultRecord {
  index: number;
  applicantId?: string;
  casNumber?: string;
  outcome: string;
  status?: string;
  expiryDate?: string;
  issues: ResultIssue[];
}

interface ResultView {
  fileErrors: { code: string; line?: number; column?: number; message: string }[];
  payment?: { reference: string; casCount: number; amount: string; currency: string };
  records: ResultRecord[];
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
      };
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
    records: records.map((r) => {
      const o: ResultRecord = {
        index: Number(attr(r, 'index') ?? 0),
        outcome: text(r.Outcome),
        issues: ((r.Issue ?? []) as Node[]).map((i) => {
          const field = attr(i, 'field');
          return { severity: attr(i, 'severity') ?? '', code: attr(i, 'code') ?? '', message: text(i), ...(field ? { field } : {}) };
        }),
      };
      const applicantId = attr(r, 'applicantId');
      const casNumber = text(r.CASNumber) || attr(r, 'casNumber');
      if (applicantId !== undefined) o.applicantId = applicantId;
      if (casNumber) o.casNumber = casNumber;
      if (r.Status !== undefined) o.status = text(r.Status);
      if (r.ExpiryDate !== undefined) o.expiryDate = text(r.ExpiryDate);
      return o;
    }),
  };
}

/** How many records one page of a result shows. */
export const RESULT_PAGE_SIZE = 100;

/**
 * One page of a stored result: its file errors and payment, `size` records from the
 * `from`-th (0-based), and how many records it holds in all. Only that page's records are
 * parsed: the rest of the document is scanned for where its records start (a result of
 * 5,000 records is read in a few milliseconds, not parsed whole on the service's thread).
 * The result XML is ours: text and attribute values are escaped, so `<Record ` and
 * `</Records>` occur only as the tags themselves.
 */
export function readResultPage(xml: string, from: number, size = RESULT_PAGE_SIZE): ResultView & { total: number; from: number } {
  const open = xml.indexOf('<Records>');
  if (open < 0) return { ...readResult(xml), total: 0, from: 0 };
  const bodyStart = open + '<Records>'.length;
  const close = xml.indexOf('</Records>', bodyStart);
  const bodyEnd = close < 0 ? xml.length : close;
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
  const view = readResult(`${xml.slice(0, bodyStart)}\n${records}</Records>\n</BulkResult>\n`);
  return { ...view, total, from: sliceStart < 0 ? 0 : from };
}
