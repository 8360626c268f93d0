/**
 * The conformance case catalogue: mutations of the Home Office example documents, each
 * with the verdict the Home Office v2.1 schema gives. The differential test checks that
 * the project's schema and the reference agree on every case (and that the reference
 * still says what is written here); the fixture generator writes the same mutations,
 * applied to personalised copies of the examples, as fixtures/conformance.
 *
 * `note` marks cases where the reference's verdict is easy to get wrong.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { SchemaName } from '../../src/xml/xsd.ts';
import {
  REFERENCE_DIR,
  addAttributes,
  count,
  getElement,
  insertAfter,
  insertBefore,
  latin1,
  moveAfter,
  prependInside,
  remove,
  renameTag,
  repeat,
  setText,
  swap,
  type Verdict,
} from './support.ts';

export type BaseName = 'selt' | 'selt-not-required' | 'progression-higher' | 'below-threshold' | 'no-work-placement' | 'child' | 'graduate';

type Bases = Record<BaseName, string>;

export interface Case {
  /** Unique, file-name safe. */
  id: string;
  group: string;
  base: BaseName;
  /** The schema the document is judged by (the pipeline picks it by root element). */
  schema: Extract<SchemaName, 'upload-general' | 'upload-child' | 'graduate'>;
  expect: Verdict;
  /** Text in, text or raw bytes out. Text is written as ISO-8859-1. */
  make: (doc: string) => string | Buffer;
  note?: string;
}

const EXAMPLES: Record<Exclude<BaseName, 'child'>, string> = {
  selt: '1. SELT required.xml',
  'selt-not-required': '2. SELT not required.xml',
  'progression-higher': '4. Previously UK student - progression HIGHER.xml',
  'below-threshold': '9. Work placement - below threshold.xml',
  'no-work-placement': '12. No work placement.xml',
  graduate: '13. Graduate Notifications.xml',
};

/** A child-route upload made from a General one: the Child CAS has no work placement and no evidence details. */
function toChild(general: string): string {
  let doc = remove(general, 'WorkPlacementDetails');
  doc = remove(doc, 'EvidenceDetails');
  doc = renameTag(doc, 'ns2:BulkFileUploadGeneralRootElement', 'ns2:BulkFileUploadChildRootElement');
  doc = setText(doc, 'SchemaID', 'T4Child Ready To Go');
  return setText(doc, 'Category', 'Child');
}

/** The Home Office examples as they are (read at run time, never copied into the repository). */
export function referenceBases(): Bases {
  const read = (file: string) => readFileSync(path.join(REFERENCE_DIR, 'examples', file)).toString('latin1');
  const out = {} as Bases;
  for (const [name, file] of Object.entries(EXAMPLES)) out[name as BaseName] = read(file);
  out.child = toChild(out.selt);
  return out;
}

/** The examples with other identities, for the committed fixture corpus. */
export function personalisedBases(): Bases {
  const ref = referenceBases();
  const out = {} as Bases;
  let k = 0;
  for (const [name, doc] of Object.entries(ref) as Array<[BaseName, string]>) {
    k++;
    if (name === 'graduate') {
      let g = doc.replace(/<bulk:BulkReportingId>[^<]*</, `<bulk:BulkReportingId>CONF-GRAD-${k}<`);
      g = g.replace(/E4G0AA0A00A0A(\d)/g, 'E4G7QK3M58T2B$1');
      out[name] = g;
      continue;
    }
    let d = setText(doc, 'BulkUploadFileId', `CONF-${name}`);
    d = setText(d, 'ApplicantID', `CONF-STUDENT-${String(k).padStart(4, '0')}`);
    d = setText(d, 'FamilyName', 'Ashworth-Lindqvist');
    d = setText(d, 'GivenName', 'Imogen');
    d = setText(d, 'ApplicantPassportOrTravelDocumentNumber', `P9912045${k}`);
    out[name] = d;
  }
  return out;
}

export function buildCase(c: Case, bases: Bases): Buffer {
  const out = c.make(bases[c.base]);
  return typeof out === 'string' ? latin1(out) : out;
}

// ---------------------------------------------------------------------------

const cases: Case[] = [];
let group = '';

type Opts = Partial<Pick<Case, 'base' | 'schema' | 'note'>>;

function add(id: string, expect: Verdict, make: Case['make'], opts: Opts = {}): void {
  const base = opts.base ?? 'selt';
  const schema = opts.schema ?? (base === 'child' ? 'upload-child' : base === 'graduate' ? 'graduate' : 'upload-general');
  cases.push({ id, group, base, schema, expect, make, ...(opts.note ? { note: opts.note } : {}) });
}

/** Sets the nth `el` to `value`; the common way to probe a simple type. */
function value(id: string, el: string, v: string, expect: Verdict, opts: Opts & { nth?: number } = {}): void {
  add(id, expect, (d) => setText(d, el, v, opts.nth ?? 0), opts);
}

const same = (d: string) => d;

// ----- The examples themselves -----
group = 'examples';
for (const base of ['selt', 'selt-not-required', 'progression-higher', 'below-threshold', 'no-work-placement', 'child'] as const) {
  add(`example-${base}`, 'valid', same, { base });
}

// ----- Structure: required, order, unknown, cardinality -----
group = 'structure';
add('missing-header', 'invalid', (d) => remove(d, 'Header'));
add('missing-cas', 'invalid', (d) => remove(d, 'CAS'));
add('two-cas', 'valid', (d) => insertAfter(d, 'CAS', getElement(d, 'CAS')));
add('missing-applicant-data', 'invalid', (d) => remove(d, 'ApplicantData'));
add('missing-non-sponsor-education-data', 'invalid', (d) => remove(d, 'NonSponsorEducationInstitutionData'));
add('empty-non-sponsor-education-data', 'valid', (d) => setText(d, 'NonSponsorEducationInstitutionData', ''));
add('missing-course-details', 'invalid', (d) => remove(d, 'CourseDetails'));
add('missing-documentation', 'invalid', (d) => remove(d, 'Documentation'));
add('missing-financial-details', 'invalid', (d) => remove(d, 'FinancialAndAccommodationDetails'));
add('missing-work-placement-details', 'valid', (d) => remove(d, 'WorkPlacementDetails'));
add('missing-evidence-details', 'valid', (d) => remove(d, 'EvidenceDetails'));
add('empty-evidence-details', 'valid', (d) => setText(d, 'EvidenceDetails', ''));
add('order-documentation-before-course', 'invalid', (d) => swap(d, 'CourseDetails', 'Documentation'));
add('order-work-placement-after-documentation', 'invalid', (d) => moveAfter(d, 'WorkPlacementDetails', 'Documentation'));
add('order-evidence-after-financial', 'invalid', (d) => moveAfter(d, 'EvidenceDetails', 'FinancialAndAccommodationDetails'));
add('order-header-schema-tier-swapped', 'invalid', (d) => swap(d, 'SchemaID', 'TierID'));
add('order-family-before-applicant-id', 'invalid', (d) => swap(d, 'ApplicantID', 'FamilyName'));
add('order-course-end-before-start', 'invalid', (d) => swap(d, 'CourseStartDate', 'ExpectedCourseEndDate'));
add('unknown-element-in-header', 'invalid', (d) => insertAfter(d, 'SponsorLicenceNumber', '<Comment>x</Comment>'));
add('unknown-element-in-cas', 'invalid', (d) => insertAfter(d, 'ApplicantData', '<Notes>x</Notes>'));
add('foreign-namespace-element', 'invalid', (d) => insertAfter(d, 'ApplicantID', '<x:Extra xmlns:x="urn:example:other">x</x:Extra>'));
add('unknown-attribute', 'invalid', (d) => addAttributes(d, 'CAS', 'id="1"'));
add('no-namespace-children', 'invalid', (d) =>
  d.replace(` xmlns="http://homeoffice.gov.uk/immigration/migrant/cas/bulk-cas-common-200910"`, ''),
);
add('root-in-common-namespace', 'invalid', (d) => renameTag(d, 'ns2:BulkFileUploadGeneralRootElement', 'BulkFileUploadGeneralRootElement'));
add('comment-and-pi-inside', 'valid', (d) => prependInside(d, 'ApplicantData', '<!-- applicant --><?audit ok?>'));
add('cdata-family-name', 'valid', (d) => setText(d, 'FamilyName', "<![CDATA[O'Brien & Sons]]>"));
add('missing-sponsor-licence', 'invalid', (d) => remove(d, 'SponsorLicenceNumber'));
add('missing-schema-id', 'invalid', (d) => remove(d, 'SchemaID'));
add('missing-date-of-birth', 'invalid', (d) => remove(d, 'DateOfBirth'));
add('missing-passport', 'invalid', (d) => remove(d, 'ApplicantPassportOrTravelDocumentNumber'));
add('missing-given-name', 'valid', (d) => remove(d, 'GivenName'));
add('missing-place-of-birth', 'valid', (d) => remove(d, 'PlaceOfBirth'));
add('missing-main-site', 'invalid', (d) => remove(d, 'MainSiteOfStudy'));
add('missing-has-work-placement', 'invalid', (d) => remove(d, 'ApplicantHasWorkPlacement'));
add('missing-academic-level', 'invalid', (d) => remove(d, 'AcademicLevel'));
add('missing-course-id', 'valid', (d) => remove(d, 'CourseID'));
add('missing-latest-acceptance-date', 'valid', (d) => remove(d, 'LatestDateForAcceptanceOnCourse'));
add('missing-course-requires-atas', 'invalid', (d) => remove(d, 'CourseRequiresATAS'));
add('missing-course-fees', 'invalid', (d) => remove(d, 'CourseFeesForFirstYearOnly'));
add('missing-boarding-fees', 'invalid', (d) => remove(d, 'BoardingFeesForFirstYearOnly'));
add('optional-fees-in-order', 'valid', (d) =>
  insertAfter(
    d,
    'CourseFeesForFirstYearOnly',
    '<CourseFeesPaidToDate>100</CourseFeesPaidToDate><AccommodationFeesPaidToDate>50.5</AccommodationFeesPaidToDate>',
  ),
);
add('optional-fees-out-of-order', 'invalid', (d) =>
  insertAfter(
    d,
    'CourseFeesForFirstYearOnly',
    '<AccommodationFeesPaidToDate>50</AccommodationFeesPaidToDate><CourseFeesPaidToDate>100</CourseFeesPaidToDate>',
  ),
);
add('course-work-placement-address', 'valid', (d) =>
  insertAfter(
    d,
    'ApplicantHasWorkPlacement',
    '<WorkPlacementAddress><AddressLine>2 Mill Lane</AddressLine><City>Derby</City><Country>GBR</Country></WorkPlacementAddress>',
  ),
);
add('overseas-institution', 'valid', (d) =>
  insertAfter(
    d,
    'PartnerInstitutionDetails',
    '<OverseasHigherEducationInstitutionDetails><Name>Universidad de Chile</Name><Address><AddressLine>Av. Libertador 1058</AddressLine><City>Santiago</City><Country>CHL</Country></Address></OverseasHigherEducationInstitutionDetails>',
  ),
);
add('overseas-before-partner', 'invalid', (d) =>
  insertBefore(
    d,
    'PartnerInstitutionDetails',
    '<OverseasHigherEducationInstitutionDetails><Name>Uni</Name><Address><AddressLine>1 Road</AddressLine><City>Lima</City><Country>PER</Country></Address></OverseasHigherEducationInstitutionDetails>',
  ),
);
add('partner-licence-number', 'valid', (d) => insertAfter(d, 'Name', '<SponsorLicenseNumber>ABCDEFGH1</SponsorLicenseNumber>'));
add('partner-licence-number-bad', 'invalid', (d) => insertAfter(d, 'Name', '<SponsorLicenseNumber>ABC</SponsorLicenseNumber>'));
add('date-of-birth-two-forms', 'invalid', (d) => setText(d, 'DateOfBirth', '<Year>1980</Year><FullDate>1980-01-01</FullDate>'));
add('date-of-birth-empty', 'invalid', (d) => setText(d, 'DateOfBirth', ''));

// ----- Header values -----
group = 'header';
value('licence-ok-digit-check', 'SponsorLicenceNumber', 'QHDGHB912', 'valid');
value('licence-bad-check-char', 'SponsorLicenceNumber', 'QHDGHB91Y', 'invalid');
value('licence-too-short', 'SponsorLicenceNumber', 'QHDGHB91', 'invalid');
value('licence-too-long', 'SponsorLicenceNumber', 'QHDGHB910X', 'invalid');
value('licence-lower-case', 'SponsorLicenceNumber', 'qhdghb91x', 'invalid');
value('licence-padded', 'SponsorLicenceNumber', ' QHDGHB91X', 'invalid');
value('licence-punctuation', 'SponsorLicenceNumber', 'QHDGH-91X', 'invalid');
value('file-id-one-char', 'BulkUploadFileId', 'A', 'invalid');
value('file-id-two-chars', 'BulkUploadFileId', 'AB', 'valid');
value('file-id-50', 'BulkUploadFileId', repeat(50, 'F1'), 'valid');
value('file-id-51', 'BulkUploadFileId', repeat(51, 'F1'), 'invalid');
value('file-id-punctuation-ok', 'BulkUploadFileId', 'batch 2027_09.v-2', 'valid');
value('file-id-leading-underscore', 'BulkUploadFileId', '_batch', 'invalid');
value('file-id-slash', 'BulkUploadFileId', 'batch/2027', 'invalid');
value('file-id-latin1', 'BulkUploadFileId', 'batch-é', 'invalid');
value('file-id-empty', 'BulkUploadFileId', '', 'invalid');
add('version-present', 'valid', (d) => insertAfter(d, 'BulkUploadFileId', '<Version>2.1</Version>'));
add('version-empty', 'invalid', (d) => insertAfter(d, 'BulkUploadFileId', '<Version></Version>'));
add('version-after-schema-id', 'invalid', (d) => insertAfter(d, 'SchemaID', '<Version>2.1</Version>'));
value('schema-id-child-in-general-root', 'SchemaID', 'T4Child Ready To Go', 'valid', {
  note: 'the schema does not tie SchemaID to the root element',
});
value('schema-id-wrong-case', 'SchemaID', 'T4General Ready to go', 'invalid');
value('schema-id-padded', 'SchemaID', ' T4General Ready To Go', 'invalid', { note: 'xs:string enumerations keep whitespace' });
value('schema-id-unknown', 'SchemaID', 'T4General', 'invalid');
value('tier-2', 'TierID', 'Tier 2', 'invalid');
value('tier-no-space', 'TierID', 'Tier4', 'invalid');
value('category-child-in-general-root', 'Category', 'Child', 'valid');
value('category-lower-case', 'Category', 'general', 'invalid');
value('category-unknown', 'Category', 'Adult', 'invalid');

// ----- Applicant -----
group = 'applicant';
value('applicant-id-50', 'ApplicantID', repeat(50, 'A7'), 'valid');
value('applicant-id-51', 'ApplicantID', repeat(51, 'A7'), 'invalid');
value('applicant-id-empty', 'ApplicantID', '', 'invalid');
add('application-id-51', 'invalid', (d) => insertAfter(d, 'ApplicantID', `<ApplicationID>${repeat(51)}</ApplicationID>`));
add('ucas-ok', 'valid', (d) => insertAfter(d, 'ApplicantID', '<UCAS_UKPASS_Id>1abcDEF789</UCAS_UKPASS_Id>'));
add('ucas-first-not-1', 'invalid', (d) => insertAfter(d, 'ApplicantID', '<UCAS_UKPASS_Id>2234567890</UCAS_UKPASS_Id>'));
add('ucas-9-chars', 'invalid', (d) => insertAfter(d, 'ApplicantID', '<UCAS_UKPASS_Id>123456789</UCAS_UKPASS_Id>'));
add('ucas-11-chars', 'invalid', (d) => insertAfter(d, 'ApplicantID', '<UCAS_UKPASS_Id>12345678901</UCAS_UKPASS_Id>'));
add('ucas-latin1', 'invalid', (d) => insertAfter(d, 'ApplicantID', '<UCAS_UKPASS_Id>12345678é9</UCAS_UKPASS_Id>'));
value('family-name-35', 'FamilyName', repeat(35, 'Ab'), 'valid');
value('family-name-36', 'FamilyName', repeat(36, 'Ab'), 'invalid');
value('family-name-latin1', 'FamilyName', 'Müller-Ñúñez', 'valid');
value('family-name-y-diaeresis', 'FamilyName', 'ÿ', 'valid');
value('family-name-copyright', 'FamilyName', '©', 'valid');
value('family-name-nbsp', 'FamilyName', 'Van\u00a0Dyke', 'valid');
value('family-name-euro-ref', 'FamilyName', 'Euro&#x20AC;', 'invalid', { note: 'beyond ISO-8859-1' });
value('family-name-cjk-ref', 'FamilyName', '&#x738B;', 'invalid');
value('family-name-del-ref', 'FamilyName', 'Bar&#x7F;ry', 'invalid');
value('family-name-c1-byte', 'FamilyName', 'Bar\u0085ry', 'invalid', {
  note: 'a raw 0x85 byte: allowed by XML 1.0, refused by PBSStringType',
});
value('family-name-tab', 'FamilyName', 'Bar\try', 'invalid');
value('family-name-newline', 'FamilyName', 'Barry\r\nSmith', 'invalid');
value('family-name-escaped-markup', 'FamilyName', 'O&apos;Neil &amp; &lt;Co&gt;', 'valid');
value('family-name-empty', 'FamilyName', '', 'invalid');
add('other-names-250', 'valid', (d) => insertAfter(d, 'GivenName', `<OtherNames>${repeat(250, 'Xy ')}</OtherNames>`));
add('other-names-251', 'invalid', (d) => insertAfter(d, 'GivenName', `<OtherNames>${repeat(251, 'Xy ')}</OtherNames>`));
value('nationality-stateless-quoted', 'Nationality', '"STATELESS"', 'valid', { note: 'the quotes are part of the reference pattern' });
value('nationality-stateless-bare', 'Nationality', 'STATELESS', 'invalid', { note: 'the reference pattern demands the quotes' });
value('nationality-stateless-entity-quotes', 'Nationality', '&quot;STATELESS&quot;', 'valid');
value('nationality-lower-case', 'Nationality', 'afg', 'invalid');
value('nationality-two-letters', 'Nationality', 'AF', 'invalid');
value('nationality-four-letters', 'Nationality', 'AFGX', 'invalid');
value('nationality-unknown-code', 'Nationality', 'ZZZ', 'valid', { note: 'the schema checks the form only; codes are judged later' });
value('gender-2', 'Gender', '2', 'valid');
value('gender-3', 'Gender', '3', 'invalid');
value('gender-0', 'Gender', '0', 'invalid');
value('gender-leading-zero', 'Gender', '01', 'invalid', { note: 'patterns apply to the lexical form' });
value('gender-padded', 'Gender', ' 1 ', 'valid', { note: 'xs:byte collapses whitespace before the pattern' });
value('gender-letter', 'Gender', 'M', 'invalid');
value('country-of-birth-stateless', 'CountryOfBirth', '"STATELESS"', 'invalid');
value('country-of-birth-mixed-case', 'CountryOfBirth', 'Geo', 'invalid');
value('place-of-birth-30', 'PlaceOfBirth', repeat(30, 'Pl'), 'valid');
value('place-of-birth-31', 'PlaceOfBirth', repeat(31, 'Pl'), 'invalid');
value('place-of-birth-latin1', 'PlaceOfBirth', 'São Paulo', 'invalid', { note: 'TownType is ASCII only' });
value('passport-35', 'ApplicantPassportOrTravelDocumentNumber', repeat(35, 'P1'), 'valid');
value('passport-36', 'ApplicantPassportOrTravelDocumentNumber', repeat(36, 'P1'), 'invalid');

// ----- Partial dates of birth -----
group = 'dates';
value('dob-year-month', 'DateOfBirth', '<YearMonth>1980-05</YearMonth>', 'valid');
value('dob-full-date', 'DateOfBirth', '<FullDate>1980-05-17</FullDate>', 'valid');
value('dob-full-date-leap-day', 'DateOfBirth', '<FullDate>2000-02-29</FullDate>', 'valid');
value('dob-full-date-not-leap', 'DateOfBirth', '<FullDate>1900-02-29</FullDate>', 'invalid');
value('dob-full-date-30-feb', 'DateOfBirth', '<FullDate>1980-02-30</FullDate>', 'invalid');
value('dob-full-date-month-13', 'DateOfBirth', '<FullDate>1980-13-01</FullDate>', 'invalid');
value('dob-full-date-short-month', 'DateOfBirth', '<FullDate>1980-1-05</FullDate>', 'invalid');
value('dob-full-date-utc', 'DateOfBirth', '<FullDate>1980-05-17Z</FullDate>', 'invalid', {
  note: 'the pattern forbids the time zone xs:date allows',
});
value('dob-full-date-offset', 'DateOfBirth', '<FullDate>1980-05-17+01:00</FullDate>', 'invalid');
value('dob-year-month-short', 'DateOfBirth', '<YearMonth>1980-1</YearMonth>', 'invalid');
value('dob-year-month-13', 'DateOfBirth', '<YearMonth>1980-13</YearMonth>', 'invalid');
value('dob-year-month-utc', 'DateOfBirth', '<YearMonth>1980-05Z</YearMonth>', 'invalid');
value('dob-year-two-digits', 'DateOfBirth', '<Year>80</Year>', 'invalid');
value('dob-year-utc', 'DateOfBirth', '<Year>1980Z</Year>', 'invalid');
value('dob-year-five-digits', 'DateOfBirth', '<Year>19800</Year>', 'invalid');
value('dob-year-padded', 'DateOfBirth', '<Year> 1980 </Year>', 'valid', { note: 'gYear collapses whitespace before the pattern' });
value('dob-year-zero', 'DateOfBirth', '<Year>0000</Year>', 'invalid', { note: 'XML Schema 1.0 has no year 0000' });
value('dob-year-as-full-date', 'DateOfBirth', '<FullDate>1980</FullDate>', 'invalid');
value('course-start-utc', 'CourseStartDate', '2013-12-26Z', 'valid', { note: 'plain xs:date: time zones allowed here' });
value('course-start-offset-14', 'CourseStartDate', '2013-12-26+14:00', 'valid');
value('course-start-offset-15', 'CourseStartDate', '2013-12-26+15:00', 'invalid');
value('course-start-uk-format', 'CourseStartDate', '26/12/2013', 'invalid');
value('course-start-date-time', 'CourseStartDate', '2013-12-26T09:00:00', 'invalid');

// ----- Addresses -----
group = 'addresses';
add('main-site-3-address-lines', 'valid', (d) =>
  insertAfter(d, 'AddressLine', '<AddressLine>Second Floor</AddressLine><AddressLine>East Wing</AddressLine>', 1),
);
add('main-site-4-address-lines', 'invalid', (d) =>
  insertAfter(
    d,
    'AddressLine',
    '<AddressLine>Second Floor</AddressLine><AddressLine>East Wing</AddressLine><AddressLine>Room 4</AddressLine>',
    1,
  ),
);
add('partner-4-address-lines', 'invalid', (d) =>
  insertAfter(d, 'AddressLine', '<AddressLine>a</AddressLine><AddressLine>b</AddressLine><AddressLine>c</AddressLine>', 0),
);
add('main-site-no-address-line', 'invalid', (d) => remove(d, 'AddressLine', 1));
value('address-line-35', 'AddressLine', repeat(35, 'Ab1 '), 'valid', { nth: 1 });
value('address-line-36', 'AddressLine', repeat(36, 'Ab1 '), 'invalid', { nth: 1 });
value('address-line-allowed-punctuation', 'AddressLine', "Flat 2/3, St. John's (r) &amp; Co", 'valid', { nth: 1 });
value('address-line-more-punctuation', 'AddressLine', '~!@%*+=?^_{}:;-', 'valid', { nth: 1 });
value('address-line-latin1', 'AddressLine', "Rue de l'Église", 'invalid', {
  nth: 1,
  note: 'AddressLineType is ASCII only, unlike PBSStringType',
});
value('address-line-hash', 'AddressLine', 'Unit #5', 'invalid', { nth: 1 });
value('address-line-double-quote', 'AddressLine', '"The Old Mill"', 'invalid', { nth: 1 });
value('address-line-less-than', 'AddressLine', 'A &lt; B', 'invalid', { nth: 1 });
value('address-line-brackets', 'AddressLine', 'Unit [5]', 'invalid', { nth: 1 });
value('address-line-dollar', 'AddressLine', 'Dollar$House', 'invalid', { nth: 1 });
value('address-line-empty', 'AddressLine', '', 'invalid', { nth: 1 });
value('city-padded', 'City', '   Croydon  ', 'valid', { nth: 1 });
value('city-latin1', 'City', 'Köln', 'invalid', { nth: 0 });
value('county-latin1', 'CountyAreaDistrict', 'Île-de-France', 'invalid', { nth: 0 });
add('county-missing', 'valid', (d) => remove(d, 'CountyAreaDistrict', 1));
value('uk-postcode-lower-case', 'PostCode', 'cr0 2dy', 'valid', { nth: 1 });
value('uk-postcode-gir', 'PostCode', 'GIR 0AA', 'valid', { nth: 1 });
value('uk-postcode-ec1a', 'PostCode', 'EC1A 1BB', 'valid', { nth: 1 });
value('uk-postcode-w1a', 'PostCode', 'W1A 0AX', 'valid', { nth: 1 });
value('uk-postcode-m1', 'PostCode', 'M1 1AE', 'valid', { nth: 1 });
value('uk-postcode-no-space', 'PostCode', 'CR02DY', 'invalid', { nth: 1 });
value('uk-postcode-two-spaces', 'PostCode', 'CR0  2DY', 'invalid', { nth: 1 });
value('uk-postcode-trailing-space', 'PostCode', 'CR0 2DY ', 'invalid', { nth: 1 });
value('uk-postcode-second-letter-i', 'PostCode', 'AI1 1AA', 'invalid', { nth: 1 });
value('uk-postcode-bfpo', 'PostCode', 'BFPO 123', 'invalid', { nth: 1 });
add('uk-postcode-missing', 'invalid', (d) => remove(d, 'PostCode', 1));
value('intl-postcode-latin1', 'PostCode', 'Ç-1234', 'valid', { nth: 0 });
value('intl-postcode-35', 'PostCode', repeat(35, '9'), 'valid', { nth: 0 });
value('intl-postcode-36', 'PostCode', repeat(36, '9'), 'invalid', { nth: 0 });
add('intl-postcode-missing', 'valid', (d) => remove(d, 'PostCode', 0));
value('address-country-stateless', 'Country', '"STATELESS"', 'invalid', { nth: 0 });
value('address-country-lower-case', 'Country', 'gbr', 'invalid', { nth: 1 });
add('address-country-missing', 'invalid', (d) => remove(d, 'Country', 0));

// ----- Course -----
group = 'course';
value('hours-168.0', 'CourseHoursPerWeek', '168.0', 'valid');
value('hours-168', 'CourseHoursPerWeek', '168', 'valid');
value('hours-168.1', 'CourseHoursPerWeek', '168.1', 'invalid');
value('hours-minus-0.1', 'CourseHoursPerWeek', '-0.1', 'invalid');
value('hours-minus-zero', 'CourseHoursPerWeek', '-0', 'valid', { note: '-0 is the value 0' });
value('hours-two-decimals', 'CourseHoursPerWeek', '37.55', 'invalid');
value('hours-trailing-zero', 'CourseHoursPerWeek', '37.50', 'valid', { note: 'fractionDigits counts the value, not trailing zeros' });
value('hours-leading-dot', 'CourseHoursPerWeek', '.5', 'valid');
value('hours-trailing-dot', 'CourseHoursPerWeek', '30.', 'valid');
value('hours-exponent', 'CourseHoursPerWeek', '1e1', 'invalid');
value('hours-empty', 'CourseHoursPerWeek', '', 'invalid');
value('title-250', 'CourseCurriculumTitle', repeat(250, 'Course '), 'valid');
value('title-251', 'CourseCurriculumTitle', repeat(251, 'Course '), 'invalid');
value('title-latin1', 'CourseCurriculumTitle', 'Études françaises ©', 'valid');
value('title-multi-line', 'CourseCurriculumTitle', 'Footballing\nStudies', 'invalid', { note: 'PBSStringType is single-line' });
value('academic-level-251', 'AcademicLevel', repeat(251, 'L'), 'invalid');
value('full-time-1', 'CourseIsFullTime', '1', 'valid');
value('full-time-0', 'CourseIsFullTime', '0', 'valid');
value('full-time-yes', 'CourseIsFullTime', 'yes', 'invalid');
value('full-time-upper-case', 'CourseIsFullTime', 'TRUE', 'invalid');
value('full-time-padded', 'CourseIsFullTime', ' true ', 'valid');
value('has-work-placement-no', 'ApplicantHasWorkPlacement', 'no', 'invalid');

// ----- Work placement -----
group = 'work-placement';
add('work-placement-empty', 'valid', (d) => setText(d, 'WorkPlacementDetails', ''));
value('work-placement-negative', 'WorkPlacementPercentage', '-5', 'valid', { note: 'plain xs:integer: no range' });
value('work-placement-1000', 'WorkPlacementPercentage', '1000', 'valid');
value('work-placement-decimal', 'WorkPlacementPercentage', '33.5', 'invalid');
value('work-placement-text', 'WorkPlacementPercentage', 'half', 'invalid');
value('work-justification-multi-line', 'WorkPlacementJustificationText', 'Line one\r\n\tLine two\nLine three', 'valid');
value('work-justification-2000', 'WorkPlacementJustificationText', repeat(2000, 'Why '), 'valid');
value('work-justification-2001', 'WorkPlacementJustificationText', repeat(2001, 'Why '), 'invalid');
value('work-justification-control-ref', 'WorkPlacementJustificationText', 'bell&#x85;', 'invalid');

// ----- Documentation and evidence -----
group = 'evidence';
value('documents-multi-line', 'DocumentsUsedToObtainOffer', 'Exam results\r\n\tTranscript ©\nPassport', 'valid');
value('documents-whitespace-only', 'DocumentsUsedToObtainOffer', '   ', 'valid');
value('documents-2000', 'DocumentsUsedToObtainOffer', repeat(2000, 'Doc '), 'valid');
value('documents-2001', 'DocumentsUsedToObtainOffer', repeat(2001, 'Doc '), 'invalid');
value('documents-empty', 'DocumentsUsedToObtainOffer', '', 'invalid');
value('atas-yes', 'CourseRequiresATAS', 'yes', 'invalid');
value('dean-certificate-1', 'PostgraduateDeanCertificateRequired', '1', 'valid');
value('selt-required-1', 'SELTRequired', '1', 'valid');
value('selt-required-yes', 'SELTRequired', 'yes', 'invalid');
value('reason-free-text', 'ReasonSELTNotRequired', 'ANYTHING AT ALL', 'valid', {
  base: 'selt-not-required',
  note: 'codes are judged after the schema',
});
value('reason-multi-line', 'ReasonSELTNotRequired', 'ENG\nCOUNTRY', 'invalid', { base: 'selt-not-required' });
value('language-level-free-text', 'EnglishLanguageLevelAttained', 'Z9', 'valid');
value('test-provider-free-text', 'TestProvider', 'Acme Tests Ltd', 'valid');
value('selt-score-50', 'SELTSpeakingLevel', repeat(50, '5.'), 'valid');
value('selt-score-51', 'SELTSpeakingLevel', repeat(51, '5.'), 'invalid');
value('comparison-lower', 'CurrentPreviousCourseLevelComparison', 'LOWER', 'valid');
value('comparison-higher', 'CurrentPreviousCourseLevelComparison', 'HIGHER', 'valid');
value('comparison-lower-case', 'CurrentPreviousCourseLevelComparison', 'higher', 'invalid');
value('comparison-unknown', 'CurrentPreviousCourseLevelComparison', 'EQUAL', 'invalid');
value('progression-multi-line', 'ProgressionJustification', 'Changing field:\r\nfrom law\tto medicine', 'valid');
value('progression-1000', 'ProgressionJustification', repeat(1000, 'p'), 'valid');
value('progression-1001', 'ProgressionJustification', repeat(1001, 'p'), 'invalid');
value('previous-uk-study-no', 'PreviousUKStudy', 'no', 'invalid');
add('evidence-order-test-provider-first', 'invalid', (d) => moveAfter(d, 'SELTRequired', 'TestProvider'));

// ----- Money, nil -----
group = 'financial';
value('fees-two-decimals', 'CourseFeesForFirstYearOnly', '7000.50', 'valid');
value('fees-three-decimals', 'CourseFeesForFirstYearOnly', '7000.005', 'invalid');
value('fees-three-decimals-trailing-zero', 'CourseFeesForFirstYearOnly', '7000.100', 'valid', {
  note: 'fractionDigits counts the value, not trailing zeros',
});
value('fees-max', 'CourseFeesForFirstYearOnly', '999999999.99', 'valid');
value('fees-1e9', 'CourseFeesForFirstYearOnly', '1000000000', 'invalid');
value('fees-1e9-decimals', 'CourseFeesForFirstYearOnly', '1000000000.00', 'invalid');
value('fees-negative', 'CourseFeesForFirstYearOnly', '-1', 'invalid');
value('fees-negative-zero', 'CourseFeesForFirstYearOnly', '-0.00', 'valid');
value('fees-thousands-separator', 'CourseFeesForFirstYearOnly', '7,000', 'invalid');
value('fees-currency-sign', 'CourseFeesForFirstYearOnly', '£7000', 'invalid');
value('fees-exponent', 'CourseFeesForFirstYearOnly', '7E3', 'invalid');
value('boarding-paid-decimals', 'BoardingFeesPaidToDate', '0.01', 'valid');
add('accommodation-nil', 'valid', (d) =>
  setText(
    addAttributes(d, 'AccomodationProvided', 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="true"'),
    'AccomodationProvided',
    '',
  ),
);
add(
  'accommodation-nil-with-value',
  'invalid',
  (d) => addAttributes(d, 'AccomodationProvided', 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="true"'),
  { note: 'a nil element must be empty' },
);
add('accommodation-nil-false-with-value', 'valid', (d) =>
  addAttributes(d, 'AccomodationProvided', 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="false"'),
);
add('accommodation-empty-not-nil', 'invalid', (d) => setText(d, 'AccomodationProvided', ''));
add('nil-on-non-nillable', 'invalid', (d) =>
  setText(
    addAttributes(d, 'CourseFeeIncludesAccomodationCosts', 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="true"'),
    'CourseFeeIncludesAccomodationCosts',
    '',
  ),
);
add(
  'nil-false-on-non-nillable',
  'invalid',
  (d) => addAttributes(d, 'CourseFeeIncludesAccomodationCosts', 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="false"'),
  { note: 'xsi:nil may not appear at all on a non-nillable element, even false' },
);

// ----- Encodings -----
group = 'encoding';
const toUtf8 = (d: string) => Buffer.from(d.replace('encoding="ISO-8859-1"', 'encoding="UTF-8"'), 'utf8');
add('utf8-declared-latin1-name', 'valid', (d) => toUtf8(setText(d, 'FamilyName', 'Ñúñez-Müller')));
add('utf16-with-bom', 'valid', (d) => {
  const text = setText(d, 'FamilyName', 'Ñúñez').replace('encoding="ISO-8859-1"', 'encoding="UTF-16"');
  return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
});
add('latin1-bytes-declared-utf8', 'invalid', (d) =>
  latin1(setText(d, 'FamilyName', 'Müller').replace('encoding="ISO-8859-1"', 'encoding="UTF-8"')),
);
add('no-xml-declaration', 'valid', (d) => d.replace(/^<\?xml[^>]*\?>\s*/, ''));

// ----- Child route -----
group = 'child';
const childOpts: Opts = { base: 'child' };
add('child-two-cas', 'valid', (d) => insertAfter(d, 'CAS', getElement(d, 'CAS')), childOpts);
add(
  'child-with-work-placement',
  'invalid',
  (d) =>
    insertAfter(d, 'CourseDetails', '<WorkPlacementDetails><WorkPlacementPercentage>10</WorkPlacementPercentage></WorkPlacementDetails>'),
  childOpts,
);
add(
  'child-with-evidence',
  'invalid',
  (d) => insertAfter(d, 'Documentation', '<EvidenceDetails><SELTRequired>false</SELTRequired></EvidenceDetails>'),
  childOpts,
);
add('child-missing-documentation', 'invalid', (d) => remove(d, 'Documentation'), childOpts);
add('child-general-schema-id', 'valid', (d) => setText(d, 'SchemaID', 'T4General Ready To Go'), childOpts);
add('child-year-month-dob', 'valid', (d) => setText(d, 'DateOfBirth', '<YearMonth>2015-03</YearMonth>'), childOpts);
add('child-bad-gender', 'invalid', (d) => setText(d, 'Gender', '3'), childOpts);
add('child-doc-against-general', 'invalid', same, { base: 'child', schema: 'upload-general' });
add('general-doc-against-child', 'invalid', same, { base: 'selt', schema: 'upload-child' });
add(
  'general-content-in-child-root',
  'invalid',
  (d) => renameTag(d, 'ns2:BulkFileUploadGeneralRootElement', 'ns2:BulkFileUploadChildRootElement'),
  { base: 'selt', schema: 'upload-child' },
);

// ----- Graduate notifications: no reference schema exists, so the verdicts are the project's own contract -----
const graduate: Case[] = [];
function grad(id: string, expect: Verdict, make: Case['make']): void {
  graduate.push({ id, group: 'graduate', base: 'graduate', schema: 'graduate', expect, make });
}
grad('example-graduate', 'valid', same);
grad('graduate-single-entry', 'valid', (d) => {
  while (count(d, 'bulk:BulkReportingCASData') > 1) d = remove(d, 'bulk:BulkReportingCASData', 1);
  return d;
});
grad('graduate-child-route-cas', 'valid', (d) => setText(d, 'bulk:CASNumber', 'E4C0AA0A00A0AX'));
grad('graduate-no-entries', 'invalid', (d) => d.replace(/\s*<bulk:BulkReportingCASData>[\s\S]*<\/bulk:BulkReportingCASData>/, ''));
grad('graduate-missing-header', 'invalid', (d) => remove(d, 'bulk:BulkReportingFileHeader'));
grad('graduate-id-empty', 'invalid', (d) => setText(d, 'bulk:BulkReportingId', ''));
grad('graduate-id-50', 'valid', (d) => setText(d, 'bulk:BulkReportingId', repeat(50, 'R')));
grad('graduate-id-51', 'invalid', (d) => setText(d, 'bulk:BulkReportingId', repeat(51, 'R')));
grad('graduate-report-other', 'invalid', (d) => setText(d, 'bulk:CASReport', 'WITHDRAWN'));
grad('graduate-report-lower-case', 'invalid', (d) => setText(d, 'bulk:CASReport', 'graduated'));
grad('graduate-cas-bad-route', 'invalid', (d) => setText(d, 'bulk:CASNumber', 'E4X0AA0A00A0A1'));
grad('graduate-cas-lower-case', 'invalid', (d) => setText(d, 'bulk:CASNumber', 'e4g0aa0a00a0a1'));
grad('graduate-cas-13-chars', 'invalid', (d) => setText(d, 'bulk:CASNumber', 'E4G0AA0A00A0A'));
grad('graduate-cas-bad-check-class', 'invalid', (d) => setText(d, 'bulk:CASNumber', 'E4G0AA0A00A0AY'));
grad('graduate-order-swapped', 'invalid', (d) => swap(d, 'bulk:CASReport', 'bulk:BulkReportingCASGraduation'));
grad('graduate-unqualified-children', 'invalid', (d) => d.replace(/<(\/?)bulk:(?!BulkReportingRootElement)/g, '<$1'));
grad('graduate-unknown-namespace', 'invalid', (d) =>
  d.replace('bulk-cas-reporting-graduated-202102', 'bulk-cas-reporting-graduated-209912'),
);

export const ALL_CASES: readonly Case[] = [...cases, ...graduate];

/**
 * The committed fixture corpus (fixtures/conformance) uses this core selection, which
 * still touches every rule family; the differential test runs the whole catalogue.
 */
const CORE = new Set([
  // examples
  'example-selt',
  'example-selt-not-required',
  'example-progression-higher',
  'example-below-threshold',
  'example-no-work-placement',
  'example-child',
  'example-graduate',
  // structure
  'missing-header',
  'missing-cas',
  'two-cas',
  'missing-non-sponsor-education-data',
  'missing-work-placement-details',
  'missing-evidence-details',
  'order-documentation-before-course',
  'order-work-placement-after-documentation',
  'unknown-element-in-cas',
  'foreign-namespace-element',
  'unknown-attribute',
  'no-namespace-children',
  'root-in-common-namespace',
  'optional-fees-out-of-order',
  'overseas-before-partner',
  'date-of-birth-two-forms',
  // header
  'licence-ok-digit-check',
  'licence-bad-check-char',
  'licence-padded',
  'file-id-one-char',
  'file-id-two-chars',
  'file-id-50',
  'file-id-51',
  'file-id-leading-underscore',
  'file-id-latin1',
  'schema-id-child-in-general-root',
  'schema-id-padded',
  'tier-2',
  'category-unknown',
  // applicant
  'ucas-ok',
  'ucas-latin1',
  'family-name-35',
  'family-name-36',
  'family-name-latin1',
  'family-name-y-diaeresis',
  'family-name-copyright',
  'family-name-euro-ref',
  'family-name-c1-byte',
  'family-name-tab',
  'nationality-stateless-quoted',
  'nationality-stateless-bare',
  'gender-3',
  'gender-leading-zero',
  'gender-padded',
  'country-of-birth-stateless',
  'place-of-birth-latin1',
  // dates
  'dob-year-month',
  'dob-full-date-short-month',
  'dob-full-date-utc',
  'dob-year-month-short',
  'dob-year-utc',
  'dob-year-zero',
  'course-start-utc',
  // addresses
  'main-site-3-address-lines',
  'main-site-4-address-lines',
  'address-line-35',
  'address-line-36',
  'address-line-allowed-punctuation',
  'address-line-latin1',
  'address-line-hash',
  'uk-postcode-lower-case',
  'uk-postcode-no-space',
  'intl-postcode-latin1',
  'address-country-stateless',
  // course
  'hours-168.0',
  'hours-168.1',
  'hours-minus-0.1',
  'hours-two-decimals',
  'hours-trailing-zero',
  'title-multi-line',
  'full-time-1',
  'full-time-yes',
  // work placement
  'work-placement-empty',
  'work-placement-negative',
  'work-justification-multi-line',
  'work-justification-2001',
  // documentation and evidence
  'documents-multi-line',
  'documents-2001',
  'reason-free-text',
  'comparison-unknown',
  'evidence-order-test-provider-first',
  // money and nil
  'fees-two-decimals',
  'fees-three-decimals',
  'fees-max',
  'fees-1e9',
  'accommodation-nil',
  'accommodation-nil-with-value',
  'nil-on-non-nillable',
  'nil-false-on-non-nillable',
  // encodings
  'utf8-declared-latin1-name',
  'utf16-with-bom',
  'latin1-bytes-declared-utf8',
  // child route
  'child-with-work-placement',
  'child-with-evidence',
  'child-doc-against-general',
  'general-doc-against-child',
  'general-content-in-child-root',
  // graduate
  'graduate-single-entry',
  'graduate-child-route-cas',
  'graduate-no-entries',
  'graduate-report-other',
  'graduate-cas-bad-route',
  'graduate-cas-bad-check-class',
  'graduate-order-swapped',
  'graduate-unknown-namespace',
]);

export const CORE_CASES: readonly Case[] = ALL_CASES.filter((c) => CORE.has(c.id));

{
  const seen = new Set<string>();
  for (const c of ALL_CASES) {
    if (seen.has(c.id)) throw new Error(`duplicate conformance case id ${c.id}`);
    seen.add(c.id);
  }
  for (const id of CORE) if (!seen.has(id)) throw new Error(`core conformance case ${id} is not defined`);
}
