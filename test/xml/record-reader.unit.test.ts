import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { judgeRecord } from '../../src/domain/rules.ts';
import { ADDRESS_COUNTRY_PATHS, parseRecordXml, readCasRecord, readGraduateRecord } from '../../src/xml/record-reader.ts';

// Reference data lives outside the repository; it is read, never copied.
const EXAMPLES = fileURLToPath(new URL('../../../shared/reference/homeoffice-bdt-v2.1/examples/', import.meta.url));
const haveExamples = existsSync(EXAMPLES);
if (!haveExamples) console.warn(`Home Office examples not found at ${EXAMPLES}: skipping the reference-example tests`);

function example(name: string): string {
  return readFileSync(`${EXAMPLES}${name}`, 'latin1');
}

function casFragments(xml: string): string[] {
  return [...xml.matchAll(/<(?:\w+:)?CAS>[\s\S]*?<\/(?:\w+:)?CAS>/g)].map((m) => m[0]);
}

function readExample(name: string) {
  const [fragment] = casFragments(example(name));
  if (!fragment) throw new Error(`no CAS in ${name}`);
  return readCasRecord(parseRecordXml(fragment), 1);
}

const address = (country: string) =>
  `<AddressLine>1 High Street</AddressLine><AddressLine>Flat 2</AddressLine><City>Any City</City><Country>${country}</Country>`;

interface Parts {
  prefix?: string;
  applicant?: string;
  dob?: string;
  institution?: string;
  course?: string;
  workPlacement?: string;
  evidence?: string;
}

/** A CAS fragment with every required element; parts replace whole sections. */
function cas(p: Parts = {}): string {
  const x = p.prefix ? `${p.prefix}:` : '';
  const applicant =
    p.applicant ??
    `<ApplicantID>  S-001  </ApplicantID><FamilyName>O'Brien &amp; Sons</FamilyName>
     <Nationality>IRL</Nationality><Gender>2</Gender><CountryOfBirth>FRA</CountryOfBirth>
     <DateOfBirth>${p.dob ?? '<FullDate>2001-02-03</FullDate>'}</DateOfBirth>
     <ApplicantPassportOrTravelDocumentNumber>PN123</ApplicantPassportOrTravelDocumentNumber>`;
  const course =
    p.course ??
    `<CourseCurriculumTitle>History</CourseCurriculumTitle><AcademicLevel>RQF6</AcademicLevel>
     <CourseStartDate>2025-09-20</CourseStartDate><ExpectedCourseEndDate>2028-06-30</ExpectedCourseEndDate>
     <CourseIsFullTime>1</CourseIsFullTime><CourseHoursPerWeek>0.0</CourseHoursPerWeek>
     <MainSiteOfStudy><AddressLine>1 Road</AddressLine><City>York</City><PostCode>YO1 7HH</PostCode></MainSiteOfStudy>
     <ApplicantHasWorkPlacement>0</ApplicantHasWorkPlacement>`;
  return `<${x}CAS>
  <${x}ApplicantData>${applicant}</${x}ApplicantData>
  <${x}NonSponsorEducationInstitutionData>${p.institution ?? ''}</${x}NonSponsorEducationInstitutionData>
  <${x}CourseDetails>${course}</${x}CourseDetails>
  ${p.workPlacement ?? ''}
  <${x}Documentation><${x}DocumentsUsedToObtainOffer>Certificates</${x}DocumentsUsedToObtainOffer>
    <${x}CourseRequiresATAS>false</${x}CourseRequiresATAS><${x}PostgraduateDeanCertificateRequired>false</${x}PostgraduateDeanCertificateRequired></${x}Documentation>
  ${p.evidence ?? ''}
  <${x}FinancialAndAccommodationDetails><${x}AccomodationProvided>false</${x}AccomodationProvided>
    <${x}CourseFeeIncludesAccomodationCosts>false</${x}CourseFeeIncludesAccomodationCosts>
    <${x}CourseFeesForFirstYearOnly>9000</${x}CourseFeesForFirstYearOnly><${x}BoardingFeesForFirstYearOnly>0</${x}BoardingFeesForFirstYearOnly>
  </${x}FinancialAndAccommodationDetails>
</${x}CAS>`;
}

const read = (xml: string, index = 1) => readCasRecord(parseRecordXml(xml), index);

describe.skipIf(!haveExamples)('Home Office reference examples', () => {
  it('reads "1. SELT required" field by field, trimming padded values', () => {
    const rec = readExample('1. SELT required.xml');
    const { raw, ...fields } = rec;
    expect(fields).toEqual({
      index: 1,
      applicantId: '1234567890ABCDEFG',
      familyName: 'Barry',
      givenName: 'Gareth',
      nationality: 'AFG',
      countryOfBirth: 'GEO',
      dateOfBirth: { kind: 'year', value: '1980' },
      passportNumber: '16836723SDE',
      courseTitle: 'Footballing Studies',
      courseId: 'FOOT3456',
      courseStartDate: '2013-12-26',
      latestAcceptanceDate: '2013-12-27',
      expectedCourseEndDate: '2013-12-28',
      addressCountries: [
        { field: 'NonSponsorEducationInstitutionData/PartnerInstitutionDetails/AddressDetails/Country', value: 'AFG' },
        { field: 'WorkPlacementDetails/WorkPlacementAddress/Country', value: 'GBR' },
      ],
      applicantHasWorkPlacement: true,
      workPlacement: { percentage: 100, hasJustification: true },
      evidence: {
        seltRequired: true,
        englishLanguageLevel: 'B1',
        testProvider: 'TCLUK',
        previousUkStudy: true,
        previousAcademicLevel: 'SCQF10',
        comparison: 'SAME',
        hasProgressionJustification: true,
      },
    });
    const partner = raw['NonSponsorEducationInstitutionData'] as Record<string, any>;
    expect(partner['PartnerInstitutionDetails']['AddressDetails']['City']).toBe('Bracknell');
    expect((raw['Documentation'] as Record<string, unknown>)['DocumentsUsedToObtainOffer']).toBe('Exam Results');
    expect((raw['CourseDetails'] as Record<string, any>)['MainSiteOfStudy']['AddressLine']).toEqual(['4-22 Arch Buildings']);
  });

  it('reads "12. No work placement": the empty WorkPlacementDetails is absent', () => {
    const rec = readExample('12. No work placement.xml');
    expect(rec.applicantHasWorkPlacement).toBe(false);
    expect(rec.workPlacement).toBeUndefined();
    expect(rec.addressCountries.map((c) => c.value)).toEqual(['AFG']);
    expect(rec.expectedCourseEndDate).toBe('2014-12-28');
  });

  it('reads "2. SELT not required" and "4. ... progression HIGHER"', () => {
    expect(readExample('2. SELT not required.xml').evidence).toEqual({
      seltRequired: false,
      reasonSeltNotRequired: 'ENG_COUNTRY',
      hasProgressionJustification: false,
    });
    expect(readExample('4. Previously UK student - progression HIGHER.xml').evidence).toEqual({
      seltRequired: false,
      reasonSeltNotRequired: 'ENG_COUNTRY',
      previousUkStudy: true,
      previousAcademicLevel: 'SCQF10',
      comparison: 'HIGHER',
      hasProgressionJustification: false,
    });
  });

  it('reads "9. Work placement - below threshold" without a justification', () => {
    expect(readExample('9. Work placement - below threshold.xml').workPlacement).toEqual({
      percentage: 10,
      hasJustification: false,
    });
  });

  it.each([
    '1. SELT required.xml',
    '2. SELT not required.xml',
    '4. Previously UK student - progression HIGHER.xml',
    '9. Work placement - below threshold.xml',
    '12. No work placement.xml',
  ])('raises no issue for "%s" on the student route', (name) => {
    expect(judgeRecord(readExample(name), 'student')).toEqual([]);
  });

  it('reads the graduate notifications of "13. Graduate Notifications"', () => {
    const xml = example('13. Graduate Notifications.xml');
    const fragments = [...xml.matchAll(/<bulk:BulkReportingCASData>[\s\S]*?<\/bulk:BulkReportingCASData>/g)].map((m) => m[0]);
    expect(fragments).toHaveLength(4);
    expect(fragments.map((f, i) => readGraduateRecord(parseRecordXml(f), i + 1))).toEqual([
      { index: 1, report: 'GRADUATED', casNumber: 'E4G0AA0A00A0A1' },
      { index: 2, report: 'GRADUATED', casNumber: 'E4G0AA0A00A0A2' },
      { index: 3, report: 'GRADUATED', casNumber: 'E4G0AA0A00A0A3' },
      { index: 4, report: 'GRADUATED', casNumber: 'E4G0AA0A00A0A4' },
    ]);
  });
});

describe('parseRecordXml', () => {
  it('returns the content of the one element, namespace prefix removed even when undeclared', () => {
    const node = parseRecordXml(`  \n${cas({ prefix: 'cmn' })}\n`);
    expect(Object.keys(node)).toEqual([
      'ApplicantData',
      'NonSponsorEducationInstitutionData',
      'CourseDetails',
      'Documentation',
      'FinancialAndAccommodationDetails',
    ]);
    expect((node['ApplicantData'] as Record<string, unknown>)['ApplicantID']).toBe('S-001');
  });

  it('decodes predefined entities once and character references', () => {
    const node = parseRecordXml(
      '<CAS><A>Caf&#233; &#x4E2D; &#38;amp; &#60;b&#62;</A><B>&amp;#233; &lt;x&gt; &quot;q&apos;</B><C><![CDATA[ &#233; <raw> ]]></C><D>a<!-- &#233; -->b</D></CAS>',
    );
    expect(node).toEqual({
      A: 'Café 中 &amp; <b>',
      B: '&#233; <x> "q\'',
      C: '&#233; <raw>',
      D: 'ab',
    });
  });

  it('trims every text value, CDATA included, and keeps repeated AddressLine as an array', () => {
    const node = parseRecordXml(
      '<CAS><X>\n\t  padded \t\n</X><Y><![CDATA[   cdata   ]]></Y><Z><AddressLine> a </AddressLine><AddressLine>b </AddressLine></Z></CAS>',
    );
    expect(node).toEqual({ X: 'padded', Y: 'cdata', Z: { AddressLine: ['a', 'b'] } });
  });

  it('returns {} for an empty element and refuses text-only or several elements', () => {
    expect(parseRecordXml('<CAS>\n</CAS>')).toEqual({});
    expect(parseRecordXml('<CAS/>')).toEqual({});
    expect(() => parseRecordXml('<CAS>text</CAS>')).toThrow(/no child elements/);
    expect(() => parseRecordXml('<CAS><A>1</A></CAS><CAS><A>2</A></CAS>')).toThrow(/exactly one CAS/);
    expect(() => parseRecordXml('<A>1</A><B>2</B>')).toThrow(/exactly one element/);
  });

  it('parses every record the same way: text kept as text, prefixes and attributes dropped, repeatable elements as arrays', () => {
    const node = parseRecordXml(
      '<?xml version="1.0"?><c:CAS xmlns:c="urn:x" a="1"><?pi x?><c:Gender>01</c:Gender><c:Fee> 7000.10 </c:Fee>' +
        '<c:Address><c:AddressLine>1 High St</c:AddressLine><c:City x="y">Leeds</c:City></c:Address></c:CAS>',
    );
    expect(node).toEqual({ Gender: '01', Fee: '7000.10', Address: { AddressLine: ['1 High St'], City: 'Leeds' } });
    const report = parseRecordXml('<BulkReportingCASData><CASReport>GRADUATED</CASReport></BulkReportingCASData>');
    expect(report).toEqual({ CASReport: 'GRADUATED' });
  });
});

describe('readCasRecord on inline records', () => {
  it('reads a minimal record: optional fields are absent, booleans 1/0, entities decoded', () => {
    const rec = read(cas(), 7);
    const { raw, ...fields } = rec;
    expect(fields).toEqual({
      index: 7,
      applicantId: 'S-001',
      familyName: "O'Brien & Sons",
      nationality: 'IRL',
      countryOfBirth: 'FRA',
      dateOfBirth: { kind: 'full', value: '2001-02-03' },
      passportNumber: 'PN123',
      courseTitle: 'History',
      courseStartDate: '2025-09-20',
      expectedCourseEndDate: '2028-06-30',
      addressCountries: [],
      applicantHasWorkPlacement: false,
    });
    expect('givenName' in rec).toBe(false);
    expect('courseId' in rec).toBe(false);
    expect('evidence' in rec).toBe(false);
    expect('workPlacement' in rec).toBe(false);
    expect(raw['NonSponsorEducationInstitutionData']).toBe('');
    expect(judgeRecord(rec, 'student').map((i) => i.code)).toEqual(['W_SELT_NOT_PROVIDED']);
  });

  it('reads year-month and year dates of birth', () => {
    expect(read(cas({ dob: '<YearMonth> 2001-02 </YearMonth>' })).dateOfBirth).toEqual({
      kind: 'yearMonth',
      value: '2001-02',
    });
    expect(read(cas({ dob: '<Year>2001</Year>' })).dateOfBirth).toEqual({ kind: 'year', value: '2001' });
  });

  it('drops an xs:date time zone from course dates', () => {
    const rec = read(
      cas({
        course: `<CourseCurriculumTitle>History</CourseCurriculumTitle><CourseID> H1 </CourseID><AcademicLevel>RQF6</AcademicLevel>
          <CourseStartDate>2025-09-20Z</CourseStartDate><LatestDateForAcceptanceOnCourse>2025-10-01+01:00</LatestDateForAcceptanceOnCourse>
          <ExpectedCourseEndDate> 2028-06-30-05:00 </ExpectedCourseEndDate><CourseIsFullTime>true</CourseIsFullTime>
          <CourseHoursPerWeek>20</CourseHoursPerWeek><MainSiteOfStudy><AddressLine>1 Road</AddressLine><City>York</City><PostCode>YO1 7HH</PostCode></MainSiteOfStudy>
          <ApplicantHasWorkPlacement>1</ApplicantHasWorkPlacement>
          <WorkPlacementAddress>${address('DEU')}</WorkPlacementAddress>`,
      }),
    );
    expect(rec.courseId).toBe('H1');
    expect(rec.courseStartDate).toBe('2025-09-20');
    expect(rec.latestAcceptanceDate).toBe('2025-10-01');
    expect(rec.expectedCourseEndDate).toBe('2028-06-30');
    expect(rec.applicantHasWorkPlacement).toBe(true);
    expect(rec.addressCountries).toEqual([{ field: 'CourseDetails/WorkPlacementAddress/Country', value: 'DEU' }]);
  });

  it('collects the Country of every address, with its path, in a fixed order', () => {
    const rec = read(
      cas({
        institution: `<PartnerInstitutionDetails><Name>P</Name><AddressDetails>${address('GBR')}</AddressDetails></PartnerInstitutionDetails>
          <OverseasHigherEducationInstitutionDetails><Name>O</Name><Address>${address(' ZZZ ')}</Address></OverseasHigherEducationInstitutionDetails>`,
        workPlacement: `<WorkPlacementDetails><WorkPlacementPercentage>+050</WorkPlacementPercentage>
          <WorkPlacementAddress>${address('USA')}</WorkPlacementAddress></WorkPlacementDetails>`,
      }),
    );
    expect(rec.addressCountries).toEqual([
      { field: ADDRESS_COUNTRY_PATHS[0], value: 'GBR' },
      { field: ADDRESS_COUNTRY_PATHS[1], value: 'ZZZ' },
      { field: ADDRESS_COUNTRY_PATHS[3], value: 'USA' },
    ]);
    expect(rec.workPlacement).toEqual({ percentage: 50, hasJustification: false });
    expect(judgeRecord(rec, 'student').map((i) => [i.code, i.field])).toEqual([
      ['E_COUNTRY_CODE', 'NonSponsorEducationInstitutionData/OverseasHigherEducationInstitutionDetails/Address/Country'],
      ['W_SELT_NOT_PROVIDED', 'EvidenceDetails'],
      ['W_WORK_PLACEMENT', 'WorkPlacementDetails/WorkPlacementJustificationText'],
    ]);
  });

  it('treats empty optional elements as absent', () => {
    const rec = read(
      cas({
        workPlacement: '<WorkPlacementDetails>\n   </WorkPlacementDetails>',
        evidence: '<EvidenceDetails/>',
      }),
    );
    expect(rec.workPlacement).toBeUndefined();
    expect(rec.evidence).toBeUndefined();
  });

  it('reads EvidenceDetails booleans and codes', () => {
    const rec = read(
      cas({
        evidence: `<EvidenceDetails><SELTRequired> 0 </SELTRequired><ReasonSELTNotRequired>HEI</ReasonSELTNotRequired>
          <PreviousUKStudy>1</PreviousUKStudy><CurrentPreviousCourseLevelComparison>LOWER</CurrentPreviousCourseLevelComparison>
          <ProgressionJustification>
            Changing field
          </ProgressionJustification></EvidenceDetails>`,
      }),
    );
    expect(rec.evidence).toEqual({
      seltRequired: false,
      reasonSeltNotRequired: 'HEI',
      previousUkStudy: true,
      comparison: 'LOWER',
      hasProgressionJustification: true,
    });
    expect((rec.raw['EvidenceDetails'] as Record<string, unknown>)['ProgressionJustification']).toBe('Changing field');
    expect(judgeRecord(rec, 'student').map((i) => i.field)).toEqual(['EvidenceDetails/PreviousAcademicLevel']);
  });

  it('keeps Latin-1 characters (the pipeline hands over decoded text)', () => {
    expect(read(cas().replace("O'Brien &amp; Sons", 'Müller-Øster')).familyName).toBe('Müller-Øster');
  });

  it('throws, naming the record and path but no personal data, when a required element is missing', () => {
    const xml = cas().replace('<Nationality>IRL</Nationality>', '');
    expect(() => read(xml, 4)).toThrow('Record 4: required element ApplicantData/Nationality is missing or empty');
    expect(() => read(cas().replace('<ApplicantHasWorkPlacement>0', '<ApplicantHasWorkPlacement>yes'), 2)).toThrow(
      'Record 2: CourseDetails/ApplicantHasWorkPlacement is not an xs:boolean',
    );
    try {
      read(cas({ dob: '' }), 3);
      expect.unreachable();
    } catch (e) {
      expect(String(e)).toContain('Record 3: ApplicantData/DateOfBirth has no FullDate, YearMonth or Year');
      expect(String(e)).not.toMatch(/O'Brien|PN123/);
    }
  });
});

describe('readGraduateRecord on inline records', () => {
  it('reads a prefixed, padded entry', () => {
    const node = parseRecordXml(
      '<g:BulkReportingCASData xmlns:g="urn:x"><g:CASReport> GRADUATED </g:CASReport><g:BulkReportingCASGraduation><g:CASNumber>\n E4C1BC2D34E5F8 \n</g:CASNumber></g:BulkReportingCASGraduation></g:BulkReportingCASData>',
    );
    expect(readGraduateRecord(node, 9)).toEqual({ index: 9, report: 'GRADUATED', casNumber: 'E4C1BC2D34E5F8' });
  });

  it('throws when the CAS number is missing', () => {
    expect(() => readGraduateRecord({ CASReport: 'GRADUATED' }, 1)).toThrow(
      'Record 1: required element BulkReportingCASGraduation/CASNumber is missing or empty',
    );
  });
});
