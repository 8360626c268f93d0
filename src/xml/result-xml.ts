/** Renders the result XML of results.md (namespace urn:cas-bdt:result:1). */
import { XMLBuilder } from 'fast-xml-parser';
import { formatPence, type RecordResult, type SubmissionResult } from '../domain/result.ts';
import { xmlSafe } from './xml-safe.ts';

export const RESULT_NS = 'urn:cas-bdt:result:1';

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  textNodeName: '#text',
  format: true,
  indentBy: '  ',
  suppressEmptyNode: false,
  processEntities: true,
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
  if (r.applicantId !== undefined) attrs['@_applicantId'] = xmlSafe(r.applicantId);
  if (r.reportedCasNumber !== undefined) attrs['@_casNumber'] = xmlSafe(r.reportedCasNumber);
  const body: Record<string, unknown> = { ...attrs, Outcome: r.outcome };
  if (r.status) body.Status = r.status;
  if (r.casNumber) body.CASNumber = r.casNumber;
  if (r.expiryDate) body.ExpiryDate = r.expiryDate;
  if (r.issues.length) {
    body.Issue = r.issues.map((i) => ({
      '@_severity': i.severity,
      '@_code': i.code,
      ...(i.field ? { '@_field': i.field } : {}),
      '#text': xmlSafe(i.message),
    }));
  }
  return { Record: body };
}

function renderRecord(r: RecordResult): string {
  return builder.build(recordObject(r)) as string;
}

export function renderResult(res: SubmissionResult): string {
  const head: Record<string, unknown> = {
    Submission: {
      SubmissionId: String(res.submissionId),
      FileName: xmlSafe(res.fileName),
      Sha256: res.sha256,
      SponsorLicenceNumber: res.sponsorLicenceNumber,
      FileType: res.fileType,
      ...(res.fileId !== undefined ? { FileId: xmlSafe(res.fileId) } : {}),
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
        '#text': xmlSafe(e.message),
      })),
    };
  }
  if (res.payment) {
    head.Payment = {
      '@_reference': res.payment.reference,
      '@_casCount': res.payment.casCount,
      '@_amount': formatPence(res.payment.amountPence),
      '@_currency': res.payment.currency,
    };
  }
  const parts: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n', `<BulkResult xmlns="${RESULT_NS}">\n`];
  parts.push(indent(builder.build(head) as string, '  '));
  if (res.outcome === 'ACCEPTED') {
    parts.push('  <Records>\n');
    for (const r of res.records) parts.push(indent(renderRecord(r), '    '));
    parts.push('  </Records>\n');
  }
  parts.push('</BulkResult>\n');
  return parts.join('');
}

/** The stored result of an earlier submission, marked as a replay. */
export function asReplay(resultXml: string): string {
  return resultXml.replace('<Replay>false</Replay>', '<Replay>true</Replay>');
}
