/** Reading PDFs back with poppler-utils (`pdftotext`, `pdftoppm`, `pdfinfo`), as a reader would. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

function withFile<T>(pdf: Buffer, f: (file: string, dir: string) => T): T {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cas-bdt-pdf-'));
  try {
    const file = path.join(dir, 'in.pdf');
    writeFileSync(file, pdf);
    return f(file, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The text of every page (`-layout` keeps columns), pages split at form feeds. */
export function pdfPages(pdf: Buffer, opts: { layout?: boolean } = {}): string[] {
  const text = withFile(pdf, (file) =>
    execFileSync('pdftotext', [...(opts.layout === false ? [] : ['-layout']), '-enc', 'UTF-8', file, '-'], { encoding: 'utf8' }),
  );
  const pages = text.split('\f');
  if (pages[pages.length - 1]!.trim() === '') pages.pop();
  return pages;
}

export const pdfText = (pdf: Buffer, opts: { layout?: boolean } = {}) => pdfPages(pdf, opts).join('\f');

/** `pdfinfo`'s fields (Title, Pages, Page size, CreationDate...). */
export function pdfInfo(pdf: Buffer): Record<string, string> {
  const out = withFile(pdf, (file) => execFileSync('pdfinfo', ['-isodates', file], { encoding: 'utf8' }));
  return Object.fromEntries(
    out.split('\n').flatMap((l) => {
      const m = /^([^:]+):\s*(.*)$/.exec(l);
      return m ? [[m[1]!, m[2]!]] : [];
    }),
  );
}

/** Page 1 rendered to PNG by `pdftoppm` (at `dpi`). */
export function renderFirstPage(pdf: Buffer, dpi = 50): Buffer {
  return withFile(pdf, (file, dir) => {
    execFileSync('pdftoppm', ['-png', '-r', String(dpi), '-f', '1', '-l', '1', '-singlefile', file, path.join(dir, 'page')]);
    return readFileSync(path.join(dir, 'page.png'));
  });
}

/** PNG width and height from its IHDR chunk. */
export const pngSize = (png: Buffer) => ({ width: png.readUInt32BE(16), height: png.readUInt32BE(20) });
