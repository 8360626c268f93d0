/**
 * The fast path of parseRecordXml gives exactly what the general parser gives: on every
 * record of the fixtures and of the Home Office examples, on generated records, and on
 * hand-made edge cases (entities, character references, attributes holding '>', prefixes,
 * empty and self-closing elements, repeated elements, comments, CDATA, mixed content).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRecordXml, parseRecordXmlGeneral } from '../../src/xml/record-reader.ts';
import { casXml, esc } from '../helpers/bdt.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const EXAMPLES = path.resolve(ROOT, '../shared/reference/homeoffice-bdt-v2.1/examples');

function recordsOf(xml: string): string[] {
  return [...xml.matchAll(/<((?:[\w.-]+:)?(?:CAS|BulkReportingCASData|Header|BulkReportingFileHeader))\b[^>]*>[\s\S]*?<\/\1>/g)].map(
    (m) => m[0],
  );
}

function filesIn(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.endsWith('.xml'))
    .map((n) => path.join(dir, n));
}

const same = (xml: string) => expect(parseRecordXml(xml)).toEqual(parseRecordXmlGeneral(xml));

describe('parseRecordXml fast path', () => {
  it('agrees with the general parser on every record of the fixtures and examples', () => {
    const files = [
      ...filesIn(path.join(ROOT, 'fixtures/upload')),
      ...filesIn(path.join(ROOT, 'fixtures/conformance')),
      ...filesIn(path.join(ROOT, 'fixtures/graduate')),
      ...filesIn(EXAMPLES),
    ];
    let seen = 0;
    for (const f of files) {
      for (const rec of recordsOf(readFileSync(f, 'latin1'))) {
        let general;
        try {
          general = parseRecordXmlGeneral(rec);
        } catch {
          continue; // not a record the pipeline would read
        }
        expect(parseRecordXml(rec), f).toEqual(general);
        seen++;
      }
    }
    expect(seen).toBeGreaterThan(50);
  });

  it('agrees on generated records with every optional part', () => {
    same(
      casXml({
        applicantId: 'A&B <x> "q"',
        familyName: '  Müller  ',
        partnerCountry: 'NGA',
        hasWorkPlacement: true,
        workPlacementDetails: '<WorkPlacementPercentage>50</WorkPlacementPercentage>',
      }),
    );
    same(casXml({ courseId: null, latestAcceptance: '2027-09-01', evidence: null, dateOfBirth: '<YearMonth>2001-04</YearMonth>' }));
    same(casXml({ familyName: esc('a & b'), givenName: '' }));
  });

  it('agrees on edge cases', () => {
    const cases = [
      '<CAS><A>x</A></CAS>',
      '<c:CAS xmlns:c="urn:x"><c:A c:attr="1">x</c:A><c:B/></c:CAS>',
      '<CAS><A a="x>y" b=\'>\'>v</A><B a="/" /></CAS>',
      '<CAS>\n  <A>  padded  </A>\n  <B></B>\n  <C>   </C>\n  <D/>\n</CAS>',
      '<CAS><A>&lt;&gt;&amp;&quot;&apos;</A><B>&amp;lt;</B><C>&#233;&#x20AC;&#38;&#60;</C></CAS>',
      '<CAS><X><AddressLine>1</AddressLine></X><Y><AddressLine>1</AddressLine><AddressLine>2</AddressLine></Y></CAS>',
      '<CAS><R>1</R><R>2</R><R>3</R><S><T>a</T></S><S><T>b</T></S></CAS>',
      '<CAS><A><!-- c --> x </A></CAS>',
      '<CAS><A><![CDATA[ <x> ]]></A></CAS>',
      '<CAS><A>x<?pi y?></A></CAS>',
      '<CAS><A>x<B>y</B></A></CAS>',
      '<CAS/>',
      '<CAS></CAS>',
      '<BulkReportingCASData><CASReport>GRADUATED</CASReport></BulkReportingCASData>',
      '<g:BulkReportingCASData xmlns:g="urn:g">\r\n  <g:CASReport>\tGRADUATED\r\n</g:CASReport>\r\n</g:BulkReportingCASData>',
    ];
    for (const c of cases) {
      let general: unknown;
      try {
        general = parseRecordXmlGeneral(c);
      } catch (err) {
        expect(() => parseRecordXml(c), c).toThrow((err as Error).message);
        continue;
      }
      expect(parseRecordXml(c), c).toEqual(general);
    }
  });
});
