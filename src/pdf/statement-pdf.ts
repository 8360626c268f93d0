/**
 * A CAS statement as a PDF (A4, spec section 11): real text in the standard Helvetica fonts
 * with WinAnsi encoding (every Latin-1 letter; nothing embedded), a DRAFT band on every page
 * of an unassigned CAS, page numbers. The document's dates (the CAS's last change) and its
 * trailer ID (a digest of the content) come from the statement itself, so the same CAS
 * gives the same bytes.
 */
import { createHash } from 'node:crypto';
import anyAscii from 'any-ascii';
import PDFDocument from 'pdfkit';
import type { StatementContent } from '../domain/statement.ts';

const MARGIN = 50;
const LABEL_WIDTH = 170;
const GAP = 10;
const FONT = 'Helvetica';
const BOLD = 'Helvetica-Bold';

/** Characters of WinAnsi (cp1252) outside Latin-1, which the standard fonts also draw. */
const WIN_ANSI_EXTRA = new Set([...'€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ']);

/**
 * Text the standard fonts can draw: Latin-1 and WinAnsi as they are, anything else
 * transliterated (a note may hold any Unicode), control characters as spaces.
 */
export function drawable(text: string): string {
  let out = '';
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (ch === '\n') out += ch;
    else if (c < 0x20 || (c >= 0x7f && c < 0xa0)) out += ' ';
    else if (c <= 0xff || WIN_ANSI_EXTRA.has(ch)) out += ch;
    else out += anyAscii(ch).replace(/[^\x20-\x7e]/g, '') || '?';
  }
  return out;
}

/** The statement's PDF bytes. */
export function statementPdf(s: StatementContent): Promise<Buffer> {
  const doc = new PDFDocument({
    size: 'A4',
    margin: MARGIN,
    bufferPages: true,
    compress: true,
    lang: 'en-GB',
    info: {
      Title: s.title,
      Subject: 'Confirmation of Acceptance for Studies',
      Creator: 'cas-bdt',
      Producer: 'cas-bdt (PDFKit)',
      CreationDate: s.date,
      ModDate: s.date,
    },
  });
  // The trailer ID: pdfkit derives it from the info dictionary (the same for two drafts of one
  // moment); a digest of the whole content makes it differ wherever the statements do.
  (doc as unknown as { _id: Buffer })._id = createHash('md5').update(JSON.stringify(s)).digest();
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  const width = doc.page.width - 2 * MARGIN;
  const valueX = MARGIN + LABEL_WIDTH + GAP;
  const valueWidth = width - LABEL_WIDTH - GAP;
  const bottom = () => doc.page.height - MARGIN - 20;
  const room = (h: number) => {
    if (doc.y + h > bottom()) doc.addPage();
  };

  const heading = (text: string) => {
    doc.font(BOLD).fontSize(12);
    room(doc.heightOfString(text, { width }) + 40);
    doc.moveDown(0.6);
    doc.fillColor('#1f3b57').text(drawable(text), MARGIN, doc.y, { width });
    const y = doc.y + 2;
    doc
      .moveTo(MARGIN, y)
      .lineTo(MARGIN + width, y)
      .lineWidth(0.5)
      .strokeColor('#9aa9b8')
      .stroke();
    doc.y = y + 5;
    doc.fillColor('black');
  };

  /** The height of `text` in the current font at `w`: one line, without wrapping it, when it fits (most values). */
  const heightIn = (text: string, w: number) =>
    !text.includes('\n') && doc.widthOfString(text) <= w ? doc.currentLineHeight(true) : doc.heightOfString(text || ' ', { width: w });

  const row = (label: string, value: string) => {
    const l = drawable(label);
    const v = drawable(value);
    doc.fontSize(10);
    doc.font(BOLD);
    const labelHeight = heightIn(l, LABEL_WIDTH);
    doc.font(FONT);
    const h = Math.max(labelHeight, heightIn(v, valueWidth));
    room(h);
    const y = doc.y;
    doc.font(BOLD).text(l, MARGIN, y, { width: LABEL_WIDTH });
    doc.font(FONT).text(v, valueX, y, { width: valueWidth });
    doc.y = y + h + 3;
  };

  const paragraph = (text: string, opts: { bold?: boolean; size?: number; color?: string } = {}) => {
    const t = drawable(text);
    doc.font(opts.bold ? BOLD : FONT).fontSize(opts.size ?? 10);
    room(doc.heightOfString(t, { width }));
    doc.fillColor(opts.color ?? 'black').text(t, MARGIN, doc.y, { width });
    doc.fillColor('black');
    doc.y += 3;
  };

  doc.font(BOLD).fontSize(18).text('Confirmation of Acceptance for Studies', MARGIN, MARGIN, { width });
  doc.font(FONT).fontSize(11).fillColor('#444444');
  doc.text(s.draft ? 'CAS statement - DRAFT: no CAS number has been assigned' : 'CAS statement', { width });
  doc.fillColor('black');

  if (s.draft) {
    heading('Why this CAS is not READY TO GO');
    for (const w of s.warnings) paragraph(w, { color: w.startsWith('- ') ? '#8a1c1c' : 'black' });
  }

  for (const section of s.sections) {
    heading(section.heading);
    for (const [label, value] of section.rows) row(label, value);
  }

  heading('Sponsor notes');
  if (s.notes.length === 0) paragraph('None.');
  for (const n of s.notes) row(n.at, n.text);

  heading('History');
  for (const e of s.history) row(e.at, `${e.what}\n${e.reason}`);

  // Page numbers, and DRAFT across every page, once all pages exist.
  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    const { height, margins } = doc.page;
    const keep = margins.bottom;
    margins.bottom = 0; // writing in the margin must not start a new page
    doc.font(FONT).fontSize(8).fillColor('#666666');
    const foot = `${s.draft ? 'DRAFT - ' : `CAS ${s.title.replace(/^CAS statement /, '')} - `}page ${i + 1 - range.start} of ${range.count}`;
    doc.text(foot, MARGIN, height - MARGIN + 10, { width, align: 'center', lineBreak: false });
    if (s.draft) {
      // A band across the top of every page; text, so that it is found and read like the rest.
      doc.save();
      doc.rect(0, 0, doc.page.width, 30).fill('#f6d5d1');
      doc.font(BOLD).fontSize(12).fillColor('#8a1c1c');
      doc.text('DRAFT - not a CAS: no CAS number has been assigned', MARGIN, 10, { width, align: 'center', lineBreak: false });
      doc.restore();
    }
    margins.bottom = keep;
  }
  doc.flushPages();
  doc.end();
  return done;
}
