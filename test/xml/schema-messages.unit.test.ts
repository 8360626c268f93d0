/**
 * The wording of E_SCHEMA entries from the engine's messages (no engine here: its
 * messages as libxml2 writes them, on a scanned document), and the spelling hints.
 */
import { describe, expect, it } from 'vitest';
import { scanDocument } from '../../src/xml/safety.ts';
import { codePoint, readableSchemaErrors, shown } from '../../src/xml/schema-messages.ts';

const NS = '{http://homeoffice.gov.uk/immigration/migrant/cas/bulk-cas-common-200910}';
const TEXT = [
  '<r:Root xmlns:r="urn:r" xmlns="urn:c">',
  '<Header><Id>F1</Id></Header>',
  '<CAS><ApplicantData><ApplicantID> O&apos;Neil &amp; Co </ApplicantID><FamilyName>x</FamilyName></ApplicantData></CAS>',
  '<CAS><ApplicantData><!-- <FamilyName> --><ApplicantID>B-2</ApplicantID>',
  '<FamilyName a="&lt;x>">y</FamilyName></ApplicantData><MainSiteOfStudy><City>z</City></MainSiteOfStudy></CAS>',
  '</r:Root>',
].join('\n');

function errorsOf(messages: { line: number; element: string; message: string }[]) {
  const scan = scanDocument(TEXT);
  if (!scan.ok) throw new Error(scan.error.message);
  const lines = TEXT.split('\n');
  const violations = messages.map((m) => ({ line: m.line, column: lines[m.line - 1]!.indexOf(`<${m.element}`) + 1, message: m.message }));
  return readableSchemaErrors(violations, TEXT, scan.doc, { encoding: 'ISO-8859-1' });
}

describe('readableSchemaErrors', () => {
  it('gives the path from the record, its ApplicantID as written, and lists a value refused twice once', async () => {
    const errors = await errorsOf([
      {
        line: 3,
        element: 'FamilyName',
        message: `Element '${NS}FamilyName': [facet 'minLength'] The value has a length of '0'; this underruns the allowed minimum length of '1'.`,
      },
      {
        line: 3,
        element: 'FamilyName',
        message: `Element '${NS}FamilyName': [facet 'pattern'] The value '' is not accepted by the pattern '[ -~\u00a0-\u00ff]+'.`,
      },
      {
        line: 5,
        element: 'FamilyName',
        message: `Element '${NS}FamilyName': 'x' is not a valid value of the atomic type '${NS}NameType'.`,
      },
      {
        line: 5,
        element: 'City',
        message: `Element '${NS}City': [facet 'pattern'] The value 'Gdańsk #1' is not accepted by the pattern '[A-Za-z0-9 ~!@%()\\*\\+,-./:;=?^_\\{\\}&']+'.`,
      },
    ]);
    expect(errors).toEqual([
      {
        code: 'E_SCHEMA',
        line: 3,
        column: 70,
        field: 'CAS[1]/ApplicantData/FamilyName',
        applicantId: "O'Neil & Co",
        message: "CAS[1]/ApplicantData/FamilyName (ApplicantID O'Neil & Co): FamilyName is empty; it needs a value",
      },
      {
        code: 'E_SCHEMA',
        line: 5,
        column: 1,
        field: 'CAS[2]/ApplicantData/FamilyName',
        applicantId: 'B-2',
        message: "CAS[2]/ApplicantData/FamilyName (ApplicantID B-2): FamilyName 'x' is not valid: it must be a valid NameType",
      },
      {
        code: 'E_SCHEMA',
        line: 5,
        column: 71,
        field: 'CAS[2]/MainSiteOfStudy/City',
        applicantId: 'B-2',
        message:
          "CAS[2]/MainSiteOfStudy/City (ApplicantID B-2): City 'Gdańsk #1' has characters outside the Home Office set: U+0144 'ń', U+0023 '#'. " +
          "It may hold only letters A-Z without accents, digits, spaces and ~ ! @ % ( ) * + , - . / : ; = ? ^ _ { } & ' (address fields take no accented letters); write it as 'Gdansk 1'",
      },
    ]);
  });

  it('says a header field has no record, and keeps an unknown message readable', async () => {
    const [e] = await errorsOf([{ line: 2, element: 'Id', message: `Element '${NS}Id': Something new about {urn:x}Thing\u202e here.` }]);
    expect(e!.field).toBe('Header/Id');
    expect(e!.message).toBe('Header/Id: Id: Something new about Thing<U+202E> here.');
  });
});

describe('how characters and values are shown', () => {
  it('names a character by code point, with the character when it is visible', () => {
    expect(codePoint('Ł')).toBe("U+0141 'Ł'");
    expect(codePoint('\t')).toBe('U+0009');
    expect(codePoint('\u009e')).toBe('U+009E');
    expect(codePoint('😀')).toBe("U+1F600 '😀'");
  });

  it('writes invisible characters as code points and cuts long values', () => {
    expect(shown('a\u00a0b\u200bc')).toBe("'a<U+00A0>b<U+200B>c'");
    expect(shown('x'.repeat(100))).toBe(`'${'x'.repeat(77)}...'`);
  });
});
