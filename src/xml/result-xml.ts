/** Renders the result XML of results.md (namespace urn:cas-bdt:result:1). */
import { XMLBuilder } from 'fast-xml-parser';
import { formatPence, type RecordResult, type SubmissionResult } from '../domain/result.ts';
import { xmlAttr, xmlSafe, xmlText } from './xml-safe.ts';

export const RESULT_NS = 'urn:cas-bdt:result:1';

/**
 * The result's builder. The objects given to it hold only what is written: an element or attribute that is not
 * there is left out of them (a conditional spread), never set to undefined.
 */
const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  textNodeName: '#text',
  format: true,
  indentBy: '  ',
  suppressEmptyNode: false,
  // Text is escaped here (xmlText): the builder's own escaping turns every quote into an entity.
  // Attribute values get only their quotes escaped by the builder, so they are given through xmlText too.
  processEntities: false,
});

const iso = (d: Date) => d.toISOString();

function indent(xml: string, by: string): string {
  return xml
    .split('\n')
    .map((l) => (l ? by + l : l))
    .join('\n');
}

function recordObject(r: RecordResult): Record<string, unknown> {
  const attrs: Record<string, unknown> = { '@_index': r.index };
  if (r.applicantId !== undefined) attrs['@_applicantId'] = xmlText(xmlSafe(r.applicantId));
  if (r.reportedCasNumber !== undefined) attrs['@_casNumber'] = xmlText(xmlSafe(r.reportedCasNumber));
  if (r.report !== undefined) attrs['@_report'] = xmlText(xmlSafe(r.report));
  const body: Record<string, unknown> = { ...attrs, Outcome: r.outcome };
  if (r.status) body.Status = r.status;
  if (r.casNumber) body.CASNumber = xmlText(r.casNumber);
  if (r.expiryDate) body.ExpiryDate = xmlText(r.expiryDate);
  if (r.dueDate) body.DueDate = xmlText(r.dueDate);
  if (r.issues.length) {
    body.Issue = r.issues.map((i) => ({
      '@_severity': i.severity,
      '@_code': i.code,
      ...(i.field ? { '@_field': xmlText(i.field) } : {}),
      '#text': xmlText(xmlSafe(i.message)),
    }));
  }
  return { Record: body };
}

/** recordObject through the builder: the reference the direct rendering below is tested against. */
export function renderRecordWithBuilder(r: RecordResult): string {
  return indent(builder.build(recordObject(r)) as string, '    ');
}

/** A value's further lines get the record's indentation, as `indent` gives the builder's output (an empty line in the middle stays empty). */
const continued = (s: string) =>
  s
    .split('\n')
    .map((l, i, all) => (i === 0 || (l === '' && i < all.length - 1) ? l : `    ${l}`))
    .join('\n');
const text = (s: string) => (s.includes('\n') ? continued(xmlText(s)) : xmlText(s));
const attr = (s: string) => (s.includes('\n') ? continued(xmlAttr(s)) : xmlAttr(s));

/**
 * One Record element, indented for its place in the file: byte for byte what the builder
 * gives for recordObject, written directly (the builder costs as much as storing the record).
 */
export function renderRecord(r: RecordResult, dryRun = false): string {
  let out = `    <Record index="${r.index}"`;
  if (r.applicantId !== undefined) out += ` applicantId="${attr(xmlSafe(r.applicantId))}"`;
  if (r.reportedCasNumber !== undefined) out += ` casNumber="${attr(xmlSafe(r.reportedCasNumber))}"`;
  if (r.report !== undefined) out += ` report="${attr(xmlSafe(r.report))}"`;
  out += `>\n      <Outcome>${r.outcome}</Outcome>\n`;
  if (r.status) out += `      <Status>${r.status}</Status>\n`;
  // A dry run gives no CAS number: its records say what would be, not which number.
  if (r.casNumber && !dryRun) out += `      <CASNumber>${text(r.casNumber)}</CASNumber>\n`;
  if (r.expiryDate) out += `      <ExpiryDate>${text(r.expiryDate)}</ExpiryDate>\n`;
  if (r.dueDate) out += `      <DueDate>${text(r.dueDate)}</DueDate>\n`;
  for (const i of r.issues) {
    out += `      <Issue severity="${i.severity}" code="${i.code}"${i.field ? ` field="${attr(i.field)}"` : ''}>${text(xmlSafe(i.message))}</Issue>\n`;
  }
  return `${out}    </Record>\n`;
}

/**
 * The whole result document. `recordsXml`: the Record elements of an ACCEPTED file, as
 * renderRecord gave them (in pieces, joined here once).
 */
export function renderResult(res: SubmissionResult, recordsXml: readonly string[] = []): string {
  const head: Record<string, unknown> = {
    Submission: {
      SubmissionId: res.dryRun ? 'DRY-RUN' : String(res.submissionId),
      FileName: xmlText(xmlSafe(res.fileName)),
      Sha256: res.sha256,
      SponsorLicenceNumber: res.sponsorLicenceNumber,
      FileType: res.fileType,
      ...(res.fileId !== undefined ? { FileId: xmlText(xmlSafe(res.fileId)) } : {}),
      ReceivedAt: iso(res.receivedAt),
      ProcessedAt: iso(res.processedAt),
      Replay: String(res.replay),
    },
    Outcome: res.outcome,
    Summary: Object.fromEntries(Object.entries(res.counts).map(([k, v]) => [`@_${k}`, v])),
  };
  if (res.outcome === 'REJECTED') {
    head.FileErrors = {
      Error: res.fileErrors.map((e) => ({
        '@_code': e.code,
        ...(e.line !== undefined ? { '@_line': e.line } : {}),
        ...(e.column !== undefined ? { '@_column': e.column } : {}),
        '#text': xmlText(xmlSafe(e.message)),
      })),
    };
  }
  if (res.payment) {
    head.Payment = {
      '@_reference': xmlText(res.payment.reference),
      '@_casCount': res.payment.casCount,
      '@_amount': formatPence(res.payment.amountPence),
      '@_currency': res.payment.currency,
    };
  }
  const parts: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n', `<BulkResult xmlns="${RESULT_NS}">\n`];
  parts.push(indent(builder.build(head) as string, '  '));
  if (res.outcome === 'ACCEPTED') {
    parts.push('  <Records>\n');
    parts.push(...recordsXml);
    parts.push('  </Records>\n');
  }
  parts.push('</BulkResult>\n');
  return parts.join('');
}
