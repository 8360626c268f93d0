/**
 * The CAS statement PDF (spec section 11), read back with poppler-utils: the golden text of
 * one CAS (layout regressions), the same bytes for the same CAS, DRAFT on every page of an
 * unassigned one with no CAS number, hostile values and Latin-1 letters as written, and a
 * rendered first page. `UPDATE_GOLDEN=1` rewrites fixtures/statements/ (review the diff).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { statementContent } from '../../src/domain/statement.ts';
import { drawable, statementPdf } from '../../src/pdf/statement-pdf.ts';
import { pdfInfo, pdfPages, pdfText, pngSize, renderFirstPage } from '../helpers/pdf.ts';
import { sampleDraftInput, sampleStatementInput } from '../helpers/statement-sample.ts';
import { REPO } from '../helpers/watch.ts';

const GOLDEN_DIR = path.join(REPO, 'fixtures/statements');

function compareGolden(name: string, actual: string): void {
  const file = path.join(GOLDEN_DIR, name);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, actual);
  if (!existsSync(file)) throw new Error(`${file} is missing; run with UPDATE_GOLDEN=1 to create it`);
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

const pdfOf = (input = sampleStatementInput()) => statementPdf(statementContent(input));

describe('CAS statement PDF', () => {
  test('the golden statement: every field, grouped as section 11 lists, with the notes and history', async () => {
    const pdf = await pdfOf();
    compareGolden('statement-final.txt', pdfText(pdf));
    const text = pdfText(pdf).replaceAll('\f', '\n');
    // The section 11 groups, in order.
    const headings = [
      'CAS',
      'Sponsor',
      'Student',
      'Course',
      'Evidence used to obtain the offer',
      'English language',
      'ATAS',
      'Fees, payments, accommodation and boarding',
      'Previous UK study and progression',
      'Assigned and expiry dates',
      'Sponsor notes',
      'History',
    ];
    let at = 0;
    for (const h of headings) {
      const found = text.indexOf(`\n${h}\n`, at);
      expect(found, h).toBeGreaterThan(at - 1);
      at = found + 1;
    }
    // Every leaf of the record is on it.
    const leaves = (n: unknown): string[] =>
      n && typeof n === 'object' ? Object.values(n).flatMap(leaves) : typeof n === 'string' && n !== '' ? [n] : [];
    for (const v of leaves(sampleStatementInput().data)) {
      const shown = v === 'true' ? 'Yes' : v === 'false' ? 'No' : v;
      expect(text.replace(/\s+/g, ' ')).toContain(shown.replace(/\s+/g, ' '));
    }
    expect(text).toContain('E4G8KT2QX9Z7M3');
    expect(text).toContain('Scholarship of 5000.00 confirmed');
    expect(text).toContain('course fees paid 5000.00 -> 12000.00');
  });

  test('the same CAS gives the same bytes; fixed dates and ID from the CAS, A4, real text', async () => {
    const a = await pdfOf();
    const b = await pdfOf();
    expect(a.equals(b)).toBe(true);
    const info = pdfInfo(a);
    expect(info.Title).toBe('CAS statement E4G8KT2QX9Z7M3');
    // The CAS's last change, not the time of printing.
    expect(info.CreationDate).toMatch(/^2027-06-02T16:45:00/);
    expect(info['Page size']).toMatch(/^595\.2\d* x 841\.8\d* pts \(A4\)/);
    expect(info.Encrypted).toBe('no');
    // A change to the CAS changes the document (and its ID).
    const changed = await pdfOf(sampleStatementInput({ status: 'USED', usedOn: '2027-07-01' }));
    expect(changed.equals(a)).toBe(false);
    const id = (pdf: Buffer) => /\/ID \[<([0-9a-f]+)>/.exec(pdf.toString('latin1'))?.[1];
    expect(id(a)).toBe(id(b));
    expect(id(a)).not.toBe(id(changed));
  });

  test('a draft: DRAFT on every page, no CAS number, the warnings that keep it from READY TO GO', async () => {
    const draft = sampleDraftInput();
    // Enough history for more than one page.
    for (let i = 0; i < 60; i++)
      draft.history.push({
        from: 'WORK_IN_PROGRESS',
        to: 'WORK_IN_PROGRESS',
        at: '2027-05-02T15:00:00.000Z',
        reason: `amended by submission ${20 + i}`,
      });
    const pdf = await pdfOf(draft);
    const pages = pdfPages(pdf);
    expect(pages.length).toBeGreaterThan(1);
    for (const p of pages) expect(p).toContain('DRAFT - not a CAS: no CAS number has been assigned');
    const text = pages.join('\n');
    expect(text).not.toContain('E4G8KT2QX9Z7M3');
    expect(text).not.toMatch(/^\s*CAS number/m);
    expect(text).toContain('Why this CAS is not READY TO GO');
    expect(text).toContain('W_SELT_NOT_PROVIDED (EvidenceDetails): EvidenceDetails is missing');
    expect(pdfInfo(pdf).Title).toBe('CAS statement (DRAFT)');
    compareGolden('statement-draft-page1.txt', pages[0]!);
  });

  test('hostile but valid values and Latin-1 letters come out as written; other characters are transliterated', async () => {
    const hostile = 'O(Brien) \\ 100% ) ( \\\\ %%EOF <</Type /Page>> endobj';
    const long = 'Ä'.repeat(10) + 'x'.repeat(80) + 'ÿÉ' + 'z'.repeat(8);
    expect(long).toHaveLength(100);
    const latin1 = Array.from({ length: 0x100 - 0xc0 }, (_, i) => String.fromCharCode(0xc0 + i))
      .filter((c) => c !== '×' && c !== '÷')
      .join('');
    const input = sampleStatementInput({ sponsorName: `${hostile} ${long}` });
    input.data = {
      ...input.data,
      ApplicantData: { ...(input.data.ApplicantData as object), FamilyName: hostile.slice(0, 35), OtherNames: long, PlaceOfBirth: latin1 },
    };
    input.history.push({
      from: 'ASSIGNED',
      to: 'ASSIGNED',
      at: '2027-06-03T00:00:00.000Z',
      reason: 'note',
      event: 'NOTE',
      note: 'Łódź ☃ 東京',
    });
    const pdf = await pdfOf(input);
    const flat = pdfText(pdf, { layout: false });
    const joined = flat.replace(/\s*\n\s*/g, '');
    expect(flat).toContain(hostile.slice(0, 35));
    expect(flat.replace(/\s+/g, ' ')).toContain(hostile);
    expect(joined).toContain(long);
    expect(joined).toContain(latin1);
    expect(flat).toContain('Lódz');
    expect(drawable('a\u0000b\u0085c€')).toBe('a b c€');
    // Still one valid PDF of real text that poppler renders.
    const png = renderFirstPage(pdf);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(pngSize(png).width).toBeGreaterThan(300);
  });
});
