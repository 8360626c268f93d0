/**
 * Renders the export XML of results.md: version 2 (namespace urn:cas-bdt:export:2,
 * schemas/export-v2.xsd), in the sponsor's export schema (2.1.1 with Graduated, or 1.1.1).
 */
import type { ExportRow, ExportSchema } from '../domain/export.ts';
import { FEE_ELEMENTS, FEE_KEYS, pounds } from '../domain/fees.ts';
import { xmlAttr, xmlSafe, xmlText } from './xml-safe.ts';

const EXPORT_NS = 'urn:cas-bdt:export:2';

/** One element per line, indented under CAS; the value made safe and escaped. */
const el = (name: string, value: string) => `    <${name}>${xmlText(xmlSafe(value))}</${name}>\n`;
const opt = (name: string, value: string | null) => (value !== null ? el(name, value) : '');

/** Element order is the contract (results.md), so each CAS is written field by field (as text: a large export is 100,000 of them). */
function casElement(r: ExportRow, schema: ExportSchema): string {
  let out =
    '  <CAS>\n' +
    el('CASNumber', r.casNumber) +
    el('ApplicantID', r.applicantId) +
    opt('ApplicationID', r.applicationId) +
    el('BulkUploadFileId', r.batch) +
    el('FamilyName', r.familyName) +
    opt('GivenName', r.givenName) +
    el('DateOfBirth', r.dateOfBirth) +
    el('Nationality', r.nationality) +
    opt('CourseID', r.courseId) +
    el('CourseCurriculumTitle', r.courseTitle) +
    el('CourseStartDate', r.courseStartDate) +
    el('ExpectedCourseEndDate', r.expectedCourseEndDate) +
    el('Status', r.status) +
    el('StatusDate', r.statusDate) +
    el('AssignedDate', r.assignedDate) +
    el('ExpiryDate', r.expiryDate);
  if (schema === '2.1.1') out += el('Graduated', String(r.graduated));
  // Each amount the CAS has, in pounds, in the order of FEE_KEYS (the schema's).
  for (const key of FEE_KEYS) {
    const v = pounds(r.fees[key]);
    if (v !== null) out += el(FEE_ELEMENTS[key], v);
  }
  return out + '  </CAS>\n';
}

interface ExportDocument {
  licence: string;
  schema: ExportSchema;
  generatedAt: Date;
  /** A delta: the CAS whose history changed after this time. */
  changedSince?: Date | undefined;
  rows: readonly ExportRow[];
}

export function renderExport(e: ExportDocument): string {
  const parts: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>\n',
    `<CASExport xmlns="${EXPORT_NS}" schema="${xmlAttr(e.schema)}">\n`,
    `  <SponsorLicenceNumber>${xmlText(e.licence)}</SponsorLicenceNumber>\n`,
    `  <GeneratedAt>${e.generatedAt.toISOString()}</GeneratedAt>\n`,
  ];
  if (e.changedSince !== undefined) parts.push(`  <ChangedSince>${e.changedSince.toISOString()}</ChangedSince>\n`);
  for (const r of e.rows) parts.push(casElement(r, e.schema));
  parts.push('</CASExport>\n');
  return parts.join('');
}
