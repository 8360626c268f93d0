/** schemas/result.xsd and schemas/export.xsd accept the shapes of results.md and refuse near misses. */
import { describe, expect, it } from 'vitest';
import type { SchemaName } from '../../src/xml/xsd.ts';
import { briefly, judge, limiter, type Verdict } from './support.ts';

const run = limiter(2);

const submission = (fileType = 'UPLOAD_GENERAL') => `
  <Submission>
    <SubmissionId>sub-000123</SubmissionId>
    <FileName>batch &amp; co &lt;2027&gt; Müller.xml</FileName>
    <Sha256>9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08</Sha256>
    <SponsorLicenceNumber>QHDGHB91X</SponsorLicenceNumber>
    <FileType>${fileType}</FileType>
    <FileId>GENERAL-BASIC-2027-001</FileId>
    <ReceivedAt>2027-08-01T10:15:00Z</ReceivedAt>
    <ProcessedAt>2027-08-01T10:15:02.250Z</ProcessedAt>
    <Replay>false</Replay>
  </Submission>`;

const summary = '<Summary records="3" created="2" amended="0" assigned="1" readyToGo="0" workInProgress="1" rejected="1" reported="0"/>';

const accepted = (
  payment = '<Payment reference="PAY-2027-0001" casCount="1" amount="25.00" currency="GBP"/>',
) => `<?xml version="1.0" encoding="UTF-8"?>
<BulkResult xmlns="urn:cas-bdt:result:1">${submission()}
  <Outcome>ACCEPTED</Outcome>
  ${summary}
  ${payment}
  <Records>
    <Record index="1" applicantId="STU-2027-000417">
      <Outcome>CREATED</Outcome>
      <Status>ASSIGNED</Status>
      <CASNumber>E4G7QK3M58T2B4</CASNumber>
      <ExpiryDate>2028-02-01</ExpiryDate>
    </Record>
    <Record index="2" applicantId="STU-2">
      <Outcome>CREATED</Outcome>
      <Status>WORK_IN_PROGRESS</Status>
      <Issue severity="WARNING" code="W_SELT_NOT_PROVIDED" field="EvidenceDetails">EvidenceDetails is missing</Issue>
    </Record>
    <Record index="3" applicantId="STU-3">
      <Outcome>REJECTED</Outcome>
      <Issue severity="ERROR" code="E_COURSE_DATES" field="CourseDetails/ExpectedCourseEndDate">ExpectedCourseEndDate (2013-12-20) is not after CourseStartDate (2013-12-26)</Issue>
      <Issue severity="WARNING" code="W_WORK_PLACEMENT">WorkPlacementPercentage is missing</Issue>
    </Record>
  </Records>
</BulkResult>
`;

const rejected = `<?xml version="1.0" encoding="UTF-8"?>
<BulkResult xmlns="urn:cas-bdt:result:1">${submission('UNKNOWN').replace(/\s*<FileId>[^<]*<\/FileId>/, '')}
  <Outcome>REJECTED</Outcome>
  <Summary records="0" created="0" amended="0" assigned="0" readyToGo="0" workInProgress="0" rejected="0" reported="0"/>
  <FileErrors>
    <Error code="E_SCHEMA" line="12" column="9">Value 'QHDGHB91Y' is not facet-valid</Error>
    <Error code="E_ENCODING">Bytes invalid for ISO-8859-1</Error>
  </FileErrors>
</BulkResult>
`;

const graduate = `<?xml version="1.0" encoding="UTF-8"?>
<BulkResult xmlns="urn:cas-bdt:result:1">${submission('GRADUATE_REPORT')}
  <Outcome>ACCEPTED</Outcome>
  <Summary records="2" created="0" amended="0" assigned="0" readyToGo="0" workInProgress="0" rejected="1" reported="1"/>
  <Records>
    <Record index="1" casNumber="E4G7QK3M58T2B4"><Outcome>REPORTED</Outcome><Issue severity="WARNING" code="W_ALREADY_REPORTED">Already reported</Issue></Record>
    <Record index="2" casNumber="E4G2HW8R04N6D1"><Outcome>REJECTED</Outcome><Issue severity="ERROR" code="E_CAS_NOT_FOUND">No such CAS</Issue></Record>
  </Records>
</BulkResult>
`;

const update = `<?xml version="1.0" encoding="UTF-8"?>
<BulkResult xmlns="urn:cas-bdt:result:1">${submission('UPDATE_FEES')}
  <Outcome>ACCEPTED</Outcome>
  <Summary records="3" created="0" amended="0" assigned="0" readyToGo="0" workInProgress="0" rejected="1" reported="0" updated="2"/>
  <Records>
    <Record index="1" casNumber="E4G7QK3M58T2B4"><Outcome>UPDATED</Outcome></Record>
    <Record index="2" casNumber="E4G7QK3M58T2B4"><Outcome>UPDATED</Outcome><Issue severity="WARNING" code="W_NO_CHANGE">Nothing was changed</Issue></Record>
    <Record index="3" casNumber="E4G2HW8R04N6D1"><Outcome>REJECTED</Outcome><Issue severity="ERROR" code="E_FEES_PAID_MISSING">No fees paid</Issue></Record>
  </Records>
</BulkResult>
`;

const fees = `
    <CourseFeesForFirstYearOnly>24500.00</CourseFeesForFirstYearOnly>
    <CourseFeesPaidToDate>5000.00</CourseFeesPaidToDate>
    <AccommodationFeesPaidToDate>0.00</AccommodationFeesPaidToDate>
    <BoardingFeesPaidToDate>0.00</BoardingFeesPaidToDate>`;

const exportCas = (status = 'USED', courseId = '<CourseID>MSC-DS-27</CourseID>', feeElements = '') => `
  <CAS>
    <CASNumber>E4G2HW8R04N6D1</CASNumber>
    <ApplicantID>STU-2027-000417</ApplicantID>
    <FamilyName>Müller-Ñúñez &amp; O'Neil</FamilyName>
    ${courseId}
    <CourseCurriculumTitle>MSc Data Science</CourseCurriculumTitle>
    <CourseStartDate>2027-09-20</CourseStartDate>
    <Status>${status}</Status>
    <StatusDate>2027-08-15</StatusDate>
    <AssignedDate>2027-08-01</AssignedDate>
    <ExpiryDate>2028-02-01</ExpiryDate>
    <Graduated>false</Graduated>${feeElements}
  </CAS>`;

const exported = (body: string) => `<?xml version="1.0" encoding="UTF-8"?>
<CASExport xmlns="urn:cas-bdt:export:1">
  <SponsorLicenceNumber>QHDGHB91X</SponsorLicenceNumber>
  <GeneratedAt>2027-09-01T00:00:00Z</GeneratedAt>${body}
</CASExport>
`;

const cases: Array<[string, SchemaName, Verdict, string]> = [
  ['accepted upload result', 'result', 'valid', accepted()],
  ['accepted result without payment', 'result', 'valid', accepted('')],
  ['rejected result', 'result', 'valid', rejected],
  ['graduate report result', 'result', 'valid', graduate],
  ['fee update result', 'result', 'valid', update],
  [
    'fee update record outcome on an upload record',
    'result',
    'valid',
    accepted().replace('<Outcome>CREATED</Outcome>\n      <Status>WORK_IN_PROGRESS</Status>', '<Outcome>UPDATED</Outcome>'),
  ],
  ['updated count that is negative', 'result', 'invalid', update.replace('updated="2"', 'updated="-1"')],
  [
    'payment amount without two decimals',
    'result',
    'invalid',
    accepted('<Payment reference="P" casCount="1" amount="25" currency="GBP"/>'),
  ],
  ['summary missing an attribute', 'result', 'invalid', accepted().replace(' reported="0"', '')],
  ['unknown file outcome', 'result', 'invalid', accepted().replace('<Outcome>ACCEPTED</Outcome>', '<Outcome>PARTIAL</Outcome>')],
  [
    'record status before outcome',
    'result',
    'invalid',
    accepted().replace(
      '<Outcome>CREATED</Outcome>\n      <Status>ASSIGNED</Status>',
      '<Status>ASSIGNED</Status><Outcome>CREATED</Outcome>',
    ),
  ],
  ['error line zero', 'result', 'invalid', rejected.replace('line="12"', 'line="0"')],
  ['export of two CAS', 'export', 'valid', exported(exportCas() + exportCas('ASSIGNED', ''))],
  ['empty export', 'export', 'valid', exported('')],
  [
    'export with fees',
    'export',
    'valid',
    exported(
      exportCas('USED', '', fees) + exportCas('ASSIGNED', '', '\n    <CourseFeesForFirstYearOnly>24500.00</CourseFeesForFirstYearOnly>'),
    ),
  ],
  ['export fee without two decimals', 'export', 'invalid', exported(exportCas('USED', '', fees.replace('5000.00', '5000')))],
  [
    'export fees out of order',
    'export',
    'invalid',
    exported(
      exportCas(
        'USED',
        '',
        fees.replace('<CourseFeesForFirstYearOnly>24500.00</CourseFeesForFirstYearOnly>', '') +
          '<CourseFeesForFirstYearOnly>1.00</CourseFeesForFirstYearOnly>',
      ),
    ),
  ],
  ['export with an unassigned status', 'export', 'invalid', exported(exportCas('READY_TO_GO'))],
];

describe('result and export schemas', () => {
  it.concurrent.each(cases)('%s (%s) is %s', async (_name, schema, verdict, xml) => {
    const got = await run(() => judge(Buffer.from(xml, 'utf8'), schema));
    expect(got.verdict, briefly(got.violations)).toBe(verdict);
  });
});
