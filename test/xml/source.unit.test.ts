/**
 * The document source: text of byte ranges and line and column of byte offsets, the same
 * from memory and from an open file read through small windows (so that every line end,
 * CR LF pair and multi-byte character falls across a window's edge somewhere), and the
 * same as the decoded text's own positions always were.
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileSource, MemorySource, type DocSource, type TextEncoding } from '../../src/xml/source.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'cas-bdt-source-'));
const fds: number[] = [];
afterAll(() => {
  for (const fd of fds) closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
});

/** Line and column of a character offset in normalised text, as positions were computed before sources. */
function reference(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

let n = 0;
/** The file's body as memory and as file sources (windows of `window` bytes), after `prefix` bytes (a byte-order mark). */
function sources(body: Buffer, encoding: TextEncoding, window: number, prefix = Buffer.alloc(0)): DocSource[] {
  const file = path.join(dir, `f${++n}`);
  writeFileSync(file, Buffer.concat([prefix, body]));
  const fd = openSync(file, 'r');
  fds.push(fd);
  return [new MemorySource(body, encoding), new FileSource(fd, prefix.length, body.length, encoding, window)];
}

/** Byte offsets of the characters of `text` encoded, with the normalised text's offset of each. */
function offsets(raw: string, encoding: TextEncoding): { byte: number; char: number }[] {
  const out: { byte: number; char: number }[] = [];
  let byte = 0;
  let char = 0;
  for (let i = 0; i < raw.length;) {
    const cp = raw.codePointAt(i)!;
    const s = String.fromCodePoint(cp);
    const crlf = s === '\r' && raw[i + 1] === '\n';
    out.push({ byte, char });
    byte += Buffer.byteLength(s, encoding);
    i += s.length;
    // CR LF is one character of the normalised text: its LF has the CR's offset plus one byte, and no character of its own.
    if (crlf) {
      byte += 1;
      i += 1;
    }
    char += crlf ? 1 : s.length;
  }
  out.push({ byte, char });
  return out;
}

const TEXTS: [string, string, TextEncoding][] = [
  ['LF lines, UTF-8', '<r>\n  <a>Zoë Müller</a>\n  <b>日本語</b>\n</r>\n', 'utf8'],
  ['CR LF lines, UTF-8, astral characters', '<r>\r\n  <a>𝄞 clef</a>\r\n\r\n  <b>x</b></r>', 'utf8'],
  ['lone CRs and mixed line ends', '<r>\r<a>x</a>\r\r\n<b>ñ</b>\n\r<c/></r>\r', 'utf8'],
  ['ISO-8859-1 with CR LF', '<r>\r\n<a>Søn & Ñúñez</a>\r\n<b>é</b></r>', 'latin1'],
  ['one long line', `<r>${'<a>é</a>'.repeat(50)}</r>`, 'utf8'],
];

describe.each(TEXTS)('a document source over %s', (_name, raw, encoding) => {
  const body = Buffer.from(raw, encoding);
  const text = raw.replace(/\r\n?/g, '\n');
  const at = offsets(raw, encoding);

  it.each([1, 2, 3, 5, 1 << 20])('gives line and column of every offset as the decoded text does (windows of %i bytes)', async (window) => {
    for (const s of sources(body, encoding, window)) {
      // In order (the cursor moves forward), then backwards (it starts again).
      for (const o of at) expect(await s.lineColumnAt(o.byte), `byte ${o.byte}`).toEqual(reference(text, o.char));
      for (const o of [...at].reverse()) expect(await s.lineColumnAt(o.byte), `byte ${o.byte}`).toEqual(reference(text, o.char));
    }
  });

  it.each([1, 2, 3, 7, 1 << 20])(
    'gives the normalised text of any range, line starts and offsets of positions (windows of %i bytes)',
    async (window) => {
      const lines = text.split('\n');
      for (const s of sources(body, encoding, window, Buffer.from([0xef, 0xbb, 0xbf]))) {
        await s.load(0, s.byteLength);
        expect(s.slice(0, s.byteLength)).toBe(text);
        for (let i = 0; i < at.length; i += 3) {
          for (let j = i; j < at.length; j += 5) {
            // Each range loaded alone: the windows of another range are let go.
            await s.load(at[i]!.byte, at[j]!.byte);
            expect(s.slice(at[i]!.byte, at[j]!.byte)).toBe(text.slice(at[i]!.char, at[j]!.char));
          }
        }
        for (let line = 1; line <= lines.length; line++) {
          expect(await s.lineTextAt(line, 1000)).toBe(lines[line - 1]);
          expect(await s.lineTextAt(line, 2)).toBe(lines[line - 1]!.slice(0, 2));
          const start = s.lineStart(line);
          expect(await s.lineColumnAt(start)).toEqual({ line, column: 1 });
        }
        // Each character's position leads back to its offset (in order, then from the start again).
        for (const pass of [0, 1]) {
          for (const o of at.slice(0, -1)) {
            const p = reference(text, o.char);
            if (pass === 1 && p.column % 2 === 0) continue;
            expect(await s.offsetAt(p.line, p.column), `line ${p.line} column ${p.column}`).toBe(o.byte);
          }
        }
      }
    },
  );
});

describe('a file source', () => {
  it('refuses to read past the end of a file that shrank (the file changed)', async () => {
    const [, file] = sources(Buffer.from('<r>\n<a/>\n</r>'), 'utf8', 4);
    const shrunk = new FileSource(fds.at(-1)!, 0, 100, 'utf8', 4);
    await file!.load(0, 5);
    expect(file!.slice(0, 5)).toBe('<r>\n<');
    await expect(shrunk.load(90, 100)).rejects.toMatchObject({ code: 'ESTALE' });
  });

  it('reads nothing it was not asked to load: a read of bytes not loaded is a bug, said at once', async () => {
    const [, file] = sources(Buffer.from('<r>\n<a/>\n</r>'), 'utf8', 4);
    expect(() => file!.slice(0, 5)).toThrow(/read before it was loaded/);
    await file!.load(0, 5);
    expect(file!.slice(0, 5)).toBe('<r>\n<');
    await file!.load(8, 12);
    expect(() => file!.slice(0, 5)).toThrow(/read before it was loaded/);
  });

  it('lets each fork keep its own place', async () => {
    const raw = Array.from({ length: 40 }, (_, i) => `<a>${i}</a>`).join('\n');
    const [, file] = sources(Buffer.from(raw), 'utf8', 8);
    const a = file!.fork();
    const b = file!.fork();
    expect(await a.lineColumnAt(raw.indexOf('<a>30'))).toEqual({ line: 31, column: 1 });
    expect(await b.lineColumnAt(raw.indexOf('<a>3<'))).toEqual({ line: 4, column: 1 });
    expect(await a.lineColumnAt(raw.indexOf('<a>35'))).toEqual({ line: 36, column: 1 });
    await b.load(raw.indexOf('<a>3<'), raw.indexOf('<a>4<'));
    expect(b.slice(raw.indexOf('<a>3<'), raw.indexOf('<a>4<'))).toBe('<a>3</a>\n');
  });
});
