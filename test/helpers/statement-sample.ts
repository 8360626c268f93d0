/**
 * A made-up CAS as the store would give it, for the golden statement, the picture in docs/
 * and the PDF unit tests: every group of the record, a fee update, a note and a history.
 */
import type { StatementInput } from '../../src/domain/statement.ts';

export function sampleStatementInput(over: Partial<StatementInput> = {}): StatementInput {
  return {
    id: 4711,
    casNumber: 'E4G8KT2QX9Z7M3',
    status: 'ASSIGNED',
    route: 'student',
    batch: 'INTAKE-2027-09',
    sponsorLicenceNumber: 'QHDGHB91X',
    sponsorName: 'University of Example',
    data: {
      ApplicantData: {
        ApplicantID: 'STU-2027-000417',
        ApplicationID: 'APP-88213',
        FamilyName: 'Müller-Núñez',
        GivenName: 'Inés',
        OtherNames: 'María José',
        Nationality: 'ESP',
        Gender: '2',
        CountryOfBirth: 'ESP',
        PlaceOfBirth: 'Sevilla',
        DateOfBirth: { FullDate: '2001-04-12' },
        ApplicantPassportOrTravelDocumentNumber: 'PAE4410297',
      },
      NonSponsorEducationInstitutionData: '',
      CourseDetails: {
        CourseCurriculumTitle: 'MSc Data Science',
        CourseID: 'MSC-DS-27',
        AcademicLevel: 'RQF7',
        CourseStartDate: '2027-09-20',
        LatestDateForAcceptanceOnCourse: '2027-10-04',
        ExpectedCourseEndDate: '2028-06-30',
        CourseIsFullTime: 'true',
        CourseHoursPerWeek: '37.5',
        MainSiteOfStudy: { AddressLine: '1 University Road', City: 'Leicester', CountyAreaDistrict: 'Leicestershire', PostCode: 'LE1 7RH' },
        ApplicantHasWorkPlacement: 'false',
      },
      Documentation: {
        DocumentsUsedToObtainOffer: 'Grado en Matemáticas, Universidad de Sevilla, awarded 2023-07-15',
        CourseRequiresATAS: 'false',
        PostgraduateDeanCertificateRequired: 'false',
      },
      EvidenceDetails: {
        SELTRequired: 'true',
        EnglishLanguageLevelAttained: 'B2',
        SELTSpeakingLevel: '6.0',
        SELTListeningLevel: '6.5',
        SELTReadingLevel: '6.0',
        SELTWritingLevel: '5.5',
        TestProvider: 'IELTS',
        PreviousUKStudy: 'false',
      },
      FinancialAndAccommodationDetails: {
        AccomodationProvided: 'true',
        CourseFeeIncludesAccomodationCosts: 'false',
        CourseFeesForFirstYearOnly: '24500.00',
        CourseFeesPaidToDate: '5000.00',
        AccommodationFeesPaidToDate: '1200.00',
        BoardingFeesForFirstYearOnly: '0',
      },
    },
    warnings: [],
    fees: {
      courseFeesForFirstYearOnly: '24500.00',
      courseFeesPaidToDate: '12000.00',
      accommodationFeesPaidToDate: '1200.00',
      boardingFeesPaidToDate: null,
    },
    feesUpdated: true,
    assignedAt: '2027-05-03T09:15:00.000Z',
    expiresOn: '2027-11-03',
    usedOn: null,
    graduatedOn: null,
    createdAt: '2027-05-02T14:30:00.000Z',
    history: [
      { from: null, to: 'READY_TO_GO', at: '2027-05-02T14:30:00.000Z', reason: 'created by submission 12' },
      { from: 'READY_TO_GO', to: 'ASSIGNED', at: '2027-05-03T09:15:00.000Z', reason: 'assigned by cas-bdt assign (batch INTAKE-2027-09)' },
      {
        from: 'ASSIGNED',
        to: 'ASSIGNED',
        at: '2027-06-01T10:00:00.000Z',
        reason: 'fee update file FEES-2027-06 (submission 15)',
        event: 'FEES_UPDATED',
        fees: {
          before: {
            courseFeesForFirstYearOnly: '24500.00',
            courseFeesPaidToDate: '5000.00',
            accommodationFeesPaidToDate: '1200.00',
            boardingFeesPaidToDate: null,
          },
          after: {
            courseFeesForFirstYearOnly: '24500.00',
            courseFeesPaidToDate: '12000.00',
            accommodationFeesPaidToDate: '1200.00',
            boardingFeesPaidToDate: null,
          },
        },
      },
      {
        from: 'ASSIGNED',
        to: 'ASSIGNED',
        at: '2027-06-02T16:45:00.000Z',
        reason: 'note by the sponsor (cas-bdt cas note)',
        event: 'NOTE',
        note: 'Scholarship of 5000.00 confirmed by the faculty; deposit received.',
      },
    ],
    ...over,
  };
}

/** The same CAS before assignment: a draft held back by a warning. */
export function sampleDraftInput(): StatementInput {
  const s = sampleStatementInput();
  const { EvidenceDetails: _e, ...data } = s.data;
  return sampleStatementInput({
    casNumber: null,
    status: 'WORK_IN_PROGRESS',
    data,
    warnings: [
      {
        severity: 'WARNING',
        code: 'W_SELT_NOT_PROVIDED',
        field: 'EvidenceDetails',
        message: 'EvidenceDetails is missing: say with SELTRequired whether a secure English language test is required',
      },
    ],
    feesUpdated: false,
    assignedAt: null,
    expiresOn: null,
    history: [{ from: null, to: 'WORK_IN_PROGRESS', at: '2027-05-02T14:30:00.000Z', reason: 'created by submission 12' }],
  });
}
