/** Step 7 of the pipeline: a file's header against the sponsor whose inbox it came from (the sponsor's row locked). */
import type { SponsorRow } from '../db/sponsors.ts';
import type { FileError } from '../domain/types.ts';
import { FILE_KINDS } from '../domain/file-kinds.ts';
import type { Inspected } from './inspect.ts';

/** Step 7: header checks against the (locked) sponsor row. */
export function headerErrors(
  file: Inspected,
  sponsor: SponsorRow,
  inboxLicence: string,
  via: 'inbox' | 'sponsor-flag' = 'inbox',
): FileError[] {
  const h = file.header;
  if (FILE_KINDS[file.fileType].headerNamesLicence && h.sponsorLicenceNumber !== inboxLicence) {
    const expected =
      via === 'inbox' ? `the licence of this inbox (${inboxLicence})` : `the sponsor it was processed for (--sponsor ${inboxLicence})`;
    return [{ code: 'E_SPONSOR_MISMATCH', message: `SponsorLicenceNumber ${h.sponsorLicenceNumber ?? '(none)'} is not ${expected}` }];
  }
  if (sponsor.status !== 'active') {
    return [{ code: 'E_LICENCE_NOT_ACTIVE', message: `the sponsor licence ${sponsor.licenceNumber} is ${sponsor.status}, not active` }];
  }
  if (file.route && !sponsor.routes.includes(file.route)) {
    return [
      {
        code: 'E_ROUTE_NOT_LICENSED',
        message: `the sponsor is not licensed for the ${file.route === 'child' ? 'Child Student' : 'Student'} route`,
      },
    ];
  }
  if (file.route) {
    const expected =
      file.route === 'student'
        ? { schemaId: 'T4General Ready To Go', category: 'General' }
        : { schemaId: 'T4Child Ready To Go', category: 'Child' };
    const problems: string[] = [];
    if (h.schemaId !== expected.schemaId) problems.push(`SchemaID is "${h.schemaId}", expected "${expected.schemaId}"`);
    if (h.category !== expected.category) problems.push(`Category is "${h.category}", expected "${expected.category}"`);
    if (problems.length) {
      return [
        {
          code: 'E_HEADER_INCONSISTENT',
          message: `the header does not match the root element ${file.root.local}: ${problems.join('; ')}`,
        },
      ];
    }
  }
  return [];
}
