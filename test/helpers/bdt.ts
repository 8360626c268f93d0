/** BDT files in the real Home Office format for tests: the builders ship with the demo (src/xml/bdt-samples.ts). */
export * from '../../src/xml/bdt-samples.ts';

const UPDATE_NS = 'http://homeoffice.gov.uk/immigration/migrant/cas/bulk-cas-update-200910';

/** One CASUpdate of a fee update file; amounts as written in the file (pounds), absent ones left out. */
interface FeeUpdateSpec {
  casNumber: string;
  course?: string;
  coursePaid?: string;
  accommodationPaid?: string;
  boardingPaid?: string;
}

export function updateBytes(spec: { licence: string; fileId: string; records: FeeUpdateSpec[] }): Buffer {
  const el = (name: string, v: string | undefined) => (v === undefined ? '' : `    <${name}>${v}</${name}>\n`);
  const records = spec.records
    .map(
      (r) =>
        `  <CASUpdate>\n${el('CASNumber', r.casNumber)}${el('CourseFeesForFirstYearOnly', r.course ?? '24500.00')}${el('CourseFeesPaidToDate', r.coursePaid)}` +
        `${el('AccommodationFeesPaidToDate', r.accommodationPaid)}${el('BoardingFeesPaidToDate', r.boardingPaid)}  </CASUpdate>\n`,
    )
    .join('');
  return Buffer.from(
    `<?xml version="1.0" encoding="UTF-8"?>\n<BulkFileUpdateRootElement xmlns="${UPDATE_NS}">\n  <Header>\n    <BulkUpdateFileId>${spec.fileId}</BulkUpdateFileId>\n` +
      `    <SponsorLicenceNumber>${spec.licence}</SponsorLicenceNumber>\n  </Header>\n${records}</BulkFileUpdateRootElement>\n`,
    'utf8',
  );
}
