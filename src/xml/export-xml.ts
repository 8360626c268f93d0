/** Renders the export XML of results.md (namespace urn:cas-bdt:export:1, schemas/export.xsd). */
import { XMLBuilder } from 'fast-xml-parser';
import type { ExportRow } from '../domain/export.ts';
import { FEE_ELEMENTS, FEE_KEYS, pounds } from '../domain/fees.ts';
import { xmlSafe } from './xml-safe.ts';

export const EXPORT_NS = 'urn:cas-bdt:export:1';

const builder = new XMLBuilder({
  format: true,
  indentBy: '  ',
  suppressEmptyNode: false,
  processEntities: true,
});

function indent(xml: string, by: string): string {
  return xml
    .split('\n')
    .map((l) => (l ? by + l : l))
    .join('\n');
}

/** Each amount the CAS has, in pounds, in the order of FEE_KEYS (the schema's). */
function feeElements(r: ExportRow): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of FEE_KEYS) {
    const v = pounds(r.fees[key]);
    if (v !== null) out[FEE_ELEMENTS[key]] = v;
  }
  return out;
}

/** Element order is the contract (results.md), so each CAS is built field by field. */
function casObject(r: ExportRow): Record<string, unknown> {
  return {
    CAS: {
      CASNumber: r.casNumber,
      ApplicantID: xmlSafe(r.applicantId),
      FamilyName: xmlSafe(r.familyName),
      ...(r.courseId !== null ? { CourseID: xmlSafe(r.courseId) } : {}),
      CourseCurriculumTitle: xmlSafe(r.courseTitle),
      CourseStartDate: r.courseStartDate,
      Status: r.status,
      StatusDate: r.statusDate,
      AssignedDate: r.assignedDate,
      ExpiryDate: r.expiryDate,
      Graduated: String(r.graduated),
      ...feeElements(r),
    },
  };
}

export function renderExport(e: { licence: string; generatedAt: Date; rows: readonly ExportRow[] }): string {
  const parts: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>\n',
    `<CASExport xmlns="${EXPORT_NS}">\n`,
    indent(builder.build({ SponsorLicenceNumber: e.licence, GeneratedAt: e.generatedAt.toISOString() }) as string, '  '),
  ];
  for (const r of e.rows) parts.push(indent(builder.build(casObject(r)) as string, '  '));
  parts.push('</CASExport>\n');
  return parts.join('');
}
