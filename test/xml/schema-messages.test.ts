/**
 * E_SCHEMA entries for people: the field's path from the record and its ApplicantID, one
 * plain sentence per fault (no namespace URLs, no regular expressions, no invisible
 * characters, no fault twice), characters outside the Home Office set named with their
 * code point and a spelling that passes, a UTF-8 file declaring ISO-8859-1 refused
 * before the schema (E_ENCODING); and
 * `process` and `submissions` print the messages (both stores).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FileError } from '../../src/domain/types.ts';
import { inspectFile } from '../../src/pipeline/inspect.ts';
import { casXml, uploadBytes, uploadText } from '../helpers/bdt.ts';
import { runCli } from '../helpers/cli.ts';
import { licenceFor, Scenario } from '../helpers/lifecycle.ts';
import { suiteStore } from '../helpers/fixture.ts';
import { STORE_KINDS, tempDir } from '../helpers/stores.ts';

async function schemaErrors(bytes: Buffer): Promise<FileError[]> {
  const inspection = await inspectFile(bytes);
  if (inspection.ok) throw new Error('expected the file to be refused');
  expect(new Set(inspection.errors.map((e) => e.code))).toEqual(new Set(['E_SCHEMA']));
  return inspection.errors;
}

const utf8 = (records: string[]) => Buffer.from(uploadText({ records, encoding: 'UTF-8' }), 'utf8');

describe('readable E_SCHEMA messages', () => {
  it('name a character outside the Home Office set and suggest a spelling; Latin-1 letters stay where allowed', async () => {
    const errors = await schemaErrors(
      utf8([
        casXml({ applicantId: 'S-1', familyName: 'Wałęsa', givenName: 'Müller' }),
        casXml({ applicantId: 'S-2' }).replace('<City>Leicester</City>', '<City>Łódź</City>'),
        casXml({ applicantId: 'S-3', familyName: 'Иванов' }),
      ]),
    );
    expect(errors.map((e) => [e.field, e.applicantId])).toEqual([
      ['CAS[1]/ApplicantData/FamilyName', 'S-1'],
      ['CAS[2]/CourseDetails/MainSiteOfStudy/City', 'S-2'],
      ['CAS[3]/ApplicantData/FamilyName', 'S-3'],
    ]);
    const [walesa, lodz, ivanov] = errors.map((e) => e.message);
    expect(walesa).toMatch(
      /^CAS\[1\]\/ApplicantData\/FamilyName \(ApplicantID S-1\): FamilyName 'Wałęsa' has characters outside the Home Office set: U\+0142 'ł', U\+0119 'ę'\./,
    );
    expect(walesa).toContain("write it as 'Walesa'");
    // Address fields are ASCII: the Latin-1 ó goes too.
    expect(lodz).toContain("U+0141 'Ł', U+00F3 'ó', U+017A 'ź'");
    expect(lodz).toContain("write it as 'Lodz'");
    expect(ivanov).toContain("write it as 'Ivanov'");
    // GivenName Müller is valid: no entry about it.
    expect(errors.some((e) => e.message.includes('Müller'))).toBe(false);
  });

  it('keep the Latin-1 letters of a value in the suggestion', async () => {
    const [e] = await schemaErrors(utf8([casXml({ applicantId: 'S-4', familyName: 'Müller-Łukasz' })]));
    expect(e!.message).toContain("U+0141 'Ł'");
    expect(e!.message).toContain("write it as 'Müller-Lukasz'");
  });

  it('refuse a UTF-8 file that declares ISO-8859-1 before the schema, in those words', async () => {
    const bytes = Buffer.from(
      uploadText({ records: [casXml({ applicantId: 'S-5', familyName: 'Şahin' })], encoding: 'ISO-8859-1' }),
      'utf8',
    );
    const inspection = await inspectFile(bytes);
    if (inspection.ok) throw new Error('expected the file to be refused');
    const [e] = inspection.errors;
    expect(inspection.errors.map((x) => x.code)).toEqual(['E_ENCODING']);
    expect(e!.message).toContain('the file declares encoding "ISO-8859-1" but is most likely UTF-8');
    expect(e!.message).toContain("'Ş' (bytes 0xC5 0x9E), which read as ISO-8859-1 would be stored as 'Å<U+009E>'");
    expect(e!.message).toContain('declare encoding="UTF-8"');
    expect(e!.message).toContain('Ş (U+015E) is outside the Home Office character set (printable ISO-8859-1) either way: write S instead');
  });

  it('give each fault once, with its path and record, in a sentence without namespaces, patterns or invisible characters', async () => {
    const errors = await schemaErrors(
      utf8([
        casXml({ applicantId: 'M-1', familyName: '' }), // refused by two facets
        casXml({ applicantId: 'M-2' }).replace(/<Gender>2<\/Gender>\s*/, ''),
        casXml({ applicantId: 'M-3' }).replace('<ApplicantID>M-3</ApplicantID>', ''),
        casXml({ applicantId: 'M-4', courseStart: '2027-02-30' }),
        casXml({ applicantId: 'M-5' }).replace('<PostCode>LE1 7RH<', '<PostCode>LE17RH<'),
        casXml({ applicantId: 'M-6', familyName: 'Tab\there' }),
      ]),
    );
    expect(errors.map((e) => e.message)).toEqual([
      'CAS[1]/ApplicantData/FamilyName (ApplicantID M-1): FamilyName is empty; it needs a value',
      'CAS[2]/ApplicantData/CountryOfBirth (ApplicantID M-2): CountryOfBirth is not expected here: Gender must come at this place (missing, misspelt or out of order)',
      'CAS[3]/ApplicantData/FamilyName: FamilyName is not expected here: ApplicantID must come at this place (missing, misspelt or out of order)',
      "CAS[4]/CourseDetails/CourseStartDate (ApplicantID M-4): CourseStartDate '2027-02-30' is not valid: it must be a date written YYYY-MM-DD",
      "CAS[5]/CourseDetails/MainSiteOfStudy/PostCode (ApplicantID M-5): PostCode 'LE17RH' is not in the form required: a UK post code with one space before its last three characters, such as LE1 7RH",
      "CAS[6]/ApplicantData/FamilyName (ApplicantID M-6): FamilyName 'Tab<U+0009>here' has a character outside the Home Office set: U+0009. It may hold only printable ISO-8859-1 (Latin-1) characters (é, ü or ñ are fine; tabs, line breaks and letters beyond Latin-1 are not); write it as 'Tab here'",
    ]);
    for (const e of errors) {
      expect(e.line).toBeGreaterThan(0);
      expect(e.message).not.toMatch(/http:|\{|\[facet|[\u0000-\u001f\u007f-\u00a0]/);
    }
  });

  it('name the header field without a record', async () => {
    const [e] = await schemaErrors(uploadBytes({ licence: 'lower0001' }));
    expect(e!.field).toBe('Header/SponsorLicenceNumber');
    expect(e!.applicantId).toBeUndefined();
    expect(e!.message).toBe(
      "Header/SponsorLicenceNumber: SponsorLicenceNumber 'lower0001' is not in the form required: a sponsor licence number: 8 capital letters or digits, then a digit or X",
    );
  });
});

describe.each(STORE_KINDS)('process and submissions print the messages on %s', (kind) => {
  const t = suiteStore(kind);
  let L: string;
  const root = tempDir('cas-bdt-messages-');

  beforeAll(async () => {
    L = await new Scenario(t.store).sponsor(licenceFor('MSGS'));
    if (kind === 'pglite') await t.store.close(); // the in-process CLI opens the embedded store itself
  });

  it('shows each refused file with its errors in words', async () => {
    const file = path.join(root, 'names.xml');
    writeFileSync(
      file,
      utf8([casXml({ applicantId: 'P-1', familyName: 'Wałęsa' })].map((r) => r))
        .toString('utf8')
        .replace('QHDGHB91X', L),
    );
    const args = [...t.cliArgs, '--root', root];
    const processed = await runCli([...args, 'process', file, '--sponsor', L]);
    expect(processed.code).toBe(3);
    const message =
      "E_SCHEMA at 13:7: CAS[1]/ApplicantData/FamilyName (ApplicantID P-1): FamilyName 'Wałęsa' has characters outside the Home Office set";
    expect(processed.stdout).toContain(message);
    const listed = await runCli([...args, 'submissions', '--sponsor', L]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/submission \d+ \(names\.xml\):/);
    expect(listed.stdout).toContain(message);
    expect(listed.stdout).toContain("write it as 'Walesa'");
  });
});
