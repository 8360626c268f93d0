/**
 * Builds BDT files in the real Home Office format (element order of schema v2.1): the
 * files `cas-bdt demo` drops, and those of the tests and benchmarks. Every field has a
 * sensible default making a READY-TO-GO record.
 */

import type { ReportKind } from '../domain/reports.ts';
import { REPORT_BLOCKS } from './record-reader.ts';

export const UPLOAD_NS = 'http://homeoffice.gov.uk/immigration/migrant/cas/bulk-cas-upload-200910';
const COMMON_NS = 'http://homeoffice.gov.uk/immigration/migrant/cas/bulk-cas-common-200910';
const GRADUATE_NS = 'http://homeoffice.gov.uk/immigration/migrant/cas/bulk-cas-reporting-graduated-202102';

export interface CasSpec {
  applicantId?: string;
  /** Omitted unless given. */
  applicationId?: string;
  familyName?: string;
  /** null omits GivenName. */
  givenName?: string | null;
  nationality?: string;
  countryOfBirth?: string;
  /** Inner XML of DateOfBirth, e.g. `<FullDate>2001-04-12</FullDate>` or `<Year>1980</Year>`. */
  dateOfBirth?: string;
  passport?: string;
  partnerCountry?: string;
  courseTitle?: string;
  /** null omits CourseID. */
  courseId?: string | null;
  courseStart?: string;
  latestAcceptance?: string | null;
  courseEnd?: string;
  hasWorkPlacement?: boolean;
  /** Inner XML of WorkPlacementDetails; null omits the element. */
  workPlacementDetails?: string | null;
  /** Inner XML of EvidenceDetails; null omits the element (child route: always omitted). */
  evidence?: string | null;
}

export const esc = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

const SELT_OK =
  '<SELTRequired>true</SELTRequired><EnglishLanguageLevelAttained>B2</EnglishLanguageLevelAttained><TestProvider>IELTS</TestProvider><PreviousUKStudy>false</PreviousUKStudy>';

export function casXml(spec: CasSpec = {}, route: 'student' | 'child' = 'student'): string {
  const s = {
    applicantId: 'STU-0001',
    familyName: 'Okafor',
    givenName: 'Ada',
    nationality: 'NGA',
    countryOfBirth: 'NGA',
    dateOfBirth: route === 'child' ? '<FullDate>2015-03-01</FullDate>' : '<FullDate>2001-04-12</FullDate>',
    passport: 'A01234567',
    courseTitle: 'MSc Data Science',
    courseStart: '2027-09-20',
    courseEnd: '2028-06-30',
    hasWorkPlacement: false,
    ...spec,
  };
  const courseId =
    spec.courseId === undefined
      ? '<CourseID>MSC-DS-27</CourseID>'
      : spec.courseId === null
        ? ''
        : `<CourseID>${esc(spec.courseId)}</CourseID>`;
  const latest =
    spec.latestAcceptance === undefined || spec.latestAcceptance === null
      ? ''
      : `<LatestDateForAcceptanceOnCourse>${spec.latestAcceptance}</LatestDateForAcceptanceOnCourse>`;
  const partner = spec.partnerCountry
    ? `<PartnerInstitutionDetails><Name>Partner College</Name><AddressDetails><AddressLine>1 High Street</AddressLine><City>Lagos</City><Country>${spec.partnerCountry}</Country></AddressDetails></PartnerInstitutionDetails>`
    : '';
  const wp =
    route === 'student' && spec.workPlacementDetails != null
      ? `<WorkPlacementDetails>${spec.workPlacementDetails}</WorkPlacementDetails>`
      : '';
  const evidenceInner = spec.evidence === undefined ? SELT_OK : spec.evidence;
  const evidence = route === 'student' && evidenceInner !== null ? `<EvidenceDetails>${evidenceInner}</EvidenceDetails>` : '';
  return `  <CAS>
    <ApplicantData>
      <ApplicantID>${esc(s.applicantId)}</ApplicantID>${spec.applicationId !== undefined ? `\n      <ApplicationID>${esc(spec.applicationId)}</ApplicationID>` : ''}
      <FamilyName>${esc(s.familyName)}</FamilyName>${s.givenName !== null ? `\n      <GivenName>${esc(s.givenName)}</GivenName>` : ''}
      <Nationality>${s.nationality}</Nationality>
      <Gender>2</Gender>
      <CountryOfBirth>${s.countryOfBirth}</CountryOfBirth>
      <DateOfBirth>${s.dateOfBirth}</DateOfBirth>
      <ApplicantPassportOrTravelDocumentNumber>${esc(s.passport)}</ApplicantPassportOrTravelDocumentNumber>
    </ApplicantData>
    <NonSponsorEducationInstitutionData>${partner}</NonSponsorEducationInstitutionData>
    <CourseDetails>
      <CourseCurriculumTitle>${esc(s.courseTitle)}</CourseCurriculumTitle>
      ${courseId}
      <AcademicLevel>RQF7</AcademicLevel>
      <CourseStartDate>${s.courseStart}</CourseStartDate>
      ${latest}
      <ExpectedCourseEndDate>${s.courseEnd}</ExpectedCourseEndDate>
      <CourseIsFullTime>true</CourseIsFullTime>
      <CourseHoursPerWeek>37.5</CourseHoursPerWeek>
      <MainSiteOfStudy><AddressLine>1 University Road</AddressLine><City>Leicester</City><PostCode>LE1 7RH</PostCode></MainSiteOfStudy>
      <ApplicantHasWorkPlacement>${s.hasWorkPlacement}</ApplicantHasWorkPlacement>
    </CourseDetails>
    ${wp}
    <Documentation>
      <DocumentsUsedToObtainOffer>BSc Mathematics, awarded 2023</DocumentsUsedToObtainOffer>
      <CourseRequiresATAS>false</CourseRequiresATAS>
      <PostgraduateDeanCertificateRequired>false</PostgraduateDeanCertificateRequired>
    </Documentation>
    ${evidence}
    <FinancialAndAccommodationDetails>
      <AccomodationProvided>false</AccomodationProvided>
      <CourseFeeIncludesAccomodationCosts>false</CourseFeeIncludesAccomodationCosts>
      <CourseFeesForFirstYearOnly>24500.00</CourseFeesForFirstYearOnly>
      <BoardingFeesForFirstYearOnly>0</BoardingFeesForFirstYearOnly>
    </FinancialAndAccommodationDetails>
  </CAS>
`;
}

interface UploadSpec {
  fileId?: string;
  licence?: string;
  route?: 'student' | 'child';
  /** Header overrides (to make inconsistent headers). */
  schemaId?: string;
  category?: string;
  /** The CAS elements (casXml output). Defaults to one default record. */
  records?: string[];
  encoding?: 'ISO-8859-1' | 'UTF-8' | undefined;
}

export function uploadText(spec: UploadSpec = {}): string {
  const route = spec.route ?? 'student';
  const root = route === 'child' ? 'BulkFileUploadChildRootElement' : 'BulkFileUploadGeneralRootElement';
  const schemaId = spec.schemaId ?? (route === 'child' ? 'T4Child Ready To Go' : 'T4General Ready To Go');
  const category = spec.category ?? (route === 'child' ? 'Child' : 'General');
  const records = spec.records ?? [casXml({}, route)];
  return `<?xml version="1.0" encoding="${spec.encoding ?? 'ISO-8859-1'}"?>
<ns2:${root} xmlns:ns2="${UPLOAD_NS}" xmlns="${COMMON_NS}">
  <Header>
    <BulkUploadFileId>${spec.fileId ?? 'TEST-FILE-1'}</BulkUploadFileId>
    <SchemaID>${schemaId}</SchemaID>
    <TierID>Tier 4</TierID>
    <Category>${category}</Category>
    <SponsorLicenceNumber>${spec.licence ?? 'QHDGHB91X'}</SponsorLicenceNumber>
  </Header>
${records.join('')}</ns2:${root}>
`;
}

/** The upload as bytes in its declared encoding (ISO-8859-1 unless UTF-8 is asked for). */
export function uploadBytes(spec: UploadSpec = {}): Buffer {
  const text = uploadText(spec);
  return Buffer.from(text, (spec.encoding ?? 'ISO-8859-1') === 'UTF-8' ? 'utf8' : 'latin1');
}

export function graduateBytes(reportId: string, casNumbers: string[]): Buffer {
  const entries = casNumbers
    .map(
      (n) =>
        `  <g:BulkReportingCASData>\n    <g:CASReport>GRADUATED</g:CASReport>\n    <g:BulkReportingCASGraduation>\n      <g:CASNumber>${n}</g:CASNumber>\n    </g:BulkReportingCASGraduation>\n  </g:BulkReportingCASData>\n`,
    )
    .join('');
  return Buffer.from(
    `<?xml version="1.0" encoding="UTF-8"?>\n<g:BulkReportingRootElement xmlns:g="${GRADUATE_NS}">\n  <g:BulkReportingFileHeader>\n    <g:BulkReportingId>${reportId}</g:BulkReportingId>\n  </g:BulkReportingFileHeader>\n${entries}</g:BulkReportingRootElement>\n`,
    'utf8',
  );
}

const REPORT_NS = 'http://homeoffice.gov.uk/immigration/migrant/cas/bulk-cas-reporting-200910';

/** One student activity report: its kind, its block's fields between CASNumber and Notes (in schema order), its notes. */
export interface ReportSample {
  kind: ReportKind;
  casNumber: string;
  fields: Record<string, string>;
  notes?: string;
}

/** A student activity report file (schemas/report.xsd). */
export function reportBytes(reportId: string, licence: string, reports: readonly ReportSample[]): Buffer {
  const entries = reports
    .map((r) => {
      const fields = Object.entries(r.fields)
        .map(([k, v]) => `      <r:${k}>${esc(v)}</r:${k}>\n`)
        .join('');
      const notes = r.notes !== undefined ? `      <r:Notes>${esc(r.notes)}</r:Notes>\n` : '';
      const block = REPORT_BLOCKS[r.kind];
      return `  <r:BulkReportingCASData>\n    <r:CASReport>${r.kind}</r:CASReport>\n    <r:${block}>\n      <r:CASNumber>${r.casNumber}</r:CASNumber>\n${fields}${notes}    </r:${block}>\n  </r:BulkReportingCASData>\n`;
    })
    .join('');
  return Buffer.from(
    `<?xml version="1.0" encoding="UTF-8"?>\n<r:BulkReportingRootElement xmlns:r="${REPORT_NS}">\n  <r:BulkReportingFileHeader>\n    <r:BulkReportingId>${reportId}</r:BulkReportingId>\n    <r:SponsorLicenceNumber>${licence}</r:SponsorLicenceNumber>\n  </r:BulkReportingFileHeader>\n${entries}</r:BulkReportingRootElement>\n`,
    'utf8',
  );
}
