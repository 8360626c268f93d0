/**
 * Renders the export XML of results.md: version 2 (namespace urn:cas-bdt:export:2,
 * schemas/export-v2.xsd), in the sponsor's export schema (2.1.1 with Graduated, or 1.1.1).
 */
import { XMLBuilder } from 'fast-xml-parser';
import type { ExportRow, ExportSchema } from '../domain/export.ts';
import { FEE_ELEMENTS, FEE_KEYS, pounds } from '../domain/fees.ts';
import { xmlSafe } from './xml-safe.ts';

export const EXPORT_NS = 'urn:cas-bdt:export:2';

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

const optional = (name: string, v: string | null) => (v !== null ? { [name]: xmlSafe(v) } : {});

/** Element order is the contract (results.md), so each CAS is built field by field. */
function casObject(r: ExportRow, schema: ExportSchema): Record<string, unknown> {
  return {
    CAS: {
      CASNumber: r.casNumber,
      ApplicantID: xmlSafe(r.applicantId),
      ...optional('ApplicationID', r.applicationId),
      BulkUploadFileId: xmlSafe(r.batch),
      FamilyName: xmlSafe(r.familyName),
      ...optional('GivenName', r.givenName),
      DateOfBirth: r.dateOfBirth,
      Nationality: xmlSafe(r.nationality),
      ...optional('CourseID', r.courseId),
      CourseCurriculumTitle: xmlSafe(r.courseTitle),
      CourseStartDate: r.courseStartDate,
      ExpectedCourseEndDate: r.expectedCourseEndDate,
      Status: r.status,
      StatusDate: r.statusDate,
      AssignedDate: r.assignedDate,
      ExpiryDate: r.expiryDate,
      ...(schema === '2.1.1' ? { Graduated: String(r.graduated) } : {}),
      ...feeElements(r),
    },
  };
}

export interface ExportDocument {
  licence: string;
  schema: ExportSchema;
  generatedAt: Date;
  /** A delta: the CAS whose history changed after this time. */
  changedSince?: Date | undefined;
  rows: readonly ExportRow[];
}

export function renderExport(e: ExportDocument): string {
  const head: Record<string, string> = { SponsorLicenceNumber: e.licence, GeneratedAt: e.generatedAt.toISOString() };
  if (e.changedSince !== undefined) head.ChangedSince = e.changedSince.toISOString();
  const parts: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>\n',
    `<CASExport xmlns="${EXPORT_NS}" schema="${e.schema}">\n`,
    indent(builder.build(head) as string, '  '),
  ];
  for (const r of e.rows) parts.push(indent(builder.build(casObject(r, e.schema)) as string, '  '));
  parts.push('</CASExport>\n');
  return parts.join('');
}
