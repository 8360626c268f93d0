/**
 * The safety pass walks bytes; its refusals must stand where they stood when it walked
 * decoded text: the line and column of the normalised text (CR LF and CR read as LF, a
 * column counting characters of the decoded line), in every accepted encoding, and its
 * limits count characters, not bytes.
 */
import { describe, expect, it } from 'vitest';
import { decodeXml } from '../../src/xml/decode.ts';
import { DEFAULT_LIMITS, scanDocument, type SafetyLimits } from '../../src/xml/safety.ts';
import { MemorySource } from '../../src/xml/source.ts';

/** The pipeline's own path: decode (UTF-16 transcoded), then the pass over the bytes. */
function scanBytes(bytes: Buffer, limits: SafetyLimits = DEFAULT_LIMITS) {
  const d = decodeXml(bytes);
  if (!d.ok) throw new Error(d.error.message);
  return scanDocument({ bytes: d.bytes, encoding: d.textEncoding, source: new MemorySource(d.bytes, d.textEncoding) }, limits);
}

/** Line and column of a character offset in the normalised text. */
function reference(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).replace(/\r\n?/g, '\n');
  const nl = before.lastIndexOf('\n');
  return { line: before.split('\n').length, column: before.length - nl };
}

const ENCODINGS: [string, (text: string) => Buffer, string][] = [
  ['UTF-8', (t) => Buffer.from(t, 'utf8'), 'UTF-8'],
  ['UTF-8 with a byte-order mark', (t) => Buffer.from(`\ufeff${t}`, 'utf8'), 'UTF-8'],
  ['ISO-8859-1', (t) => Buffer.from(t, 'latin1'), 'ISO-8859-1'],
  ['UTF-16 LE', (t) => Buffer.from(`\ufeff${t}`, 'utf16le'), 'UTF-16'],
  ['UTF-16 BE', (t) => Buffer.from(`\ufeff${t}`, 'utf16le').swap16(), 'UTF-16'],
];

const LINE_ENDS: [string, string][] = [
  ['LF', '\n'],
  ['CR LF', '\r\n'],
  ['CR', '\r'],
];

/** A document with non-ASCII text on the line of the refusal and before it; `{!}` marks where the refusal stands. */
function doc(declared: string, nl: string, body: string): { text: string; at: number } {
  const latin = declared === 'ISO-8859-1';
  const words = latin ? 'Zoë Müller-Ñúñez & Søn' : 'Zoë 日本語 𝄞 Søn';
  const t = `<?xml version="1.0" encoding="${declared}"?>${nl}<r>${nl}  <a>${words}</a>${nl}${nl}  <b x="${words}">${words}</b>${body}`;
  return { text: t.replace('{!}', ''), at: t.indexOf('{!}') };
}

describe.each(ENCODINGS)('the safety pass over %s', (_name, encode, declared) => {
  describe.each(LINE_ENDS)('with %s line ends', (_ends, nl) => {
    it('puts a mismatched end tag where the decoded text has it', () => {
      const { text, at } = doc(declared, nl, `${nl}  <c>é{!}</d>${nl}</r>`);
      const s = scanBytes(encode(text));
      expect(s.ok).toBe(false);
      if (s.ok) return;
      expect(s.error.message).toBe('the end tag </d> does not match the start tag <c>');
      expect({ line: s.error.line, column: s.error.column }).toEqual(reference(text, at));
    });

    it('puts a forbidden character where the decoded text has it', () => {
      const { text, at } = doc(declared, nl, `${nl}  <c>ä {!}\u0001</c>${nl}</r>`);
      const s = scanBytes(encode(text));
      expect(s.ok || s.error.message).toBe('the file holds the character U+0001, which XML does not allow');
      if (s.ok) return;
      expect({ line: s.error.line, column: s.error.column }).toEqual(reference(text, at));
    });

    it('puts a truncation at the end of the file', () => {
      const { text } = doc(declared, nl, `${nl}  <c>ü`);
      const s = scanBytes(encode(text));
      expect(s.ok || s.error.message).toBe('the file ends before element(s) r, c are closed (is it truncated?)');
      if (s.ok) return;
      expect({ line: s.error.line, column: s.error.column }).toEqual(reference(text, text.length));
    });

    it('records the children of the root as the spans of their text', () => {
      const { text } = doc(declared, nl, `${nl}</r>`);
      const d = decodeXml(encode(text));
      if (!d.ok) throw new Error(d.error.message);
      const source = new MemorySource(d.bytes, d.textEncoding);
      const s = scanDocument({ bytes: d.bytes, encoding: d.textEncoding, source });
      if (!s.ok) throw new Error(s.error.message);
      const normalised = text.replace(/\r\n?/g, '\n');
      expect(s.doc.children.map((c) => source.slice(c.start, c.end))).toEqual([
        normalised.slice(normalised.indexOf('<a>'), normalised.indexOf('</a>') + 4),
        normalised.slice(normalised.indexOf('<b '), normalised.indexOf('</b>') + 4),
      ]);
      expect(s.doc.root.namespace).toBeUndefined();
    });
  });
});

describe('the limit on a value', () => {
  const limits: SafetyLimits = { ...DEFAULT_LIMITS, maxValueChars: 10 };
  const file = (value: string) => Buffer.from(`<r><a>${value}</a><b v="${value}"/></r>`, 'utf8');

  it('counts characters, not bytes: ten three-byte characters are ten', () => {
    expect(scanBytes(file('日本語日本語日本語日'), limits).ok).toBe(true);
    expect(scanBytes(file('𝄞𝄞𝄞𝄞𝄞'), limits).ok).toBe(true);
  });

  it('refuses the eleventh character of a text, split by CDATA, and of an attribute', () => {
    const text = scanBytes(Buffer.from('<r><a>日本語日本<![CDATA[語日本語日]]>本</a></r>', 'utf8'), limits);
    expect(text.ok || text.error.message).toBe('a text value is longer than the limit of 10 characters (line 1)');
    const attr = scanBytes(Buffer.from('<r><b v="日本語日本語日本語日本"/></r>', 'utf8'), limits);
    expect(attr.ok || attr.error.message).toBe('the value of attribute v of <b> is longer than the limit of 10 characters (line 1)');
  });

  it('counts each piece of a value split by comments once, and each value afresh', () => {
    const pieces = (value: string) => scanBytes(Buffer.from(`<r><a>${value}</a><a>日本語日本語日本語日</a><a>x</a></r>`, 'utf8'), limits);
    // Pieces past the limit in bytes are counted as they come; ten characters in four pieces pass.
    expect(pieces('日本語<!--c-->日本<?p?>語日<!--c-->本語日').ok).toBe(true);
    const over = pieces('日本語<!--c-->日本<?p?>語日<!--c-->本語日本');
    expect(over.ok || over.error.message).toBe('a text value is longer than the limit of 10 characters (line 1)');
    // Values of ten characters each, one after the other, none counted with another.
    const many = Array.from({ length: 50 }, () => '<a>日本語<!--c-->日本語日本語日</a>').join('\n');
    expect(scanBytes(Buffer.from(`<r>${many}</r>`, 'utf8'), limits).ok).toBe(true);
  });

  it('refuses a value split into more pieces than the limit, whatever its length, and counts only pieces with text', () => {
    const few: SafetyLimits = { ...DEFAULT_LIMITS, maxValuePieces: 3 };
    const scan = (value: string) => scanBytes(Buffer.from(`<r>\n<a>${value}</a>\n<a>x<!---->y<!---->z</a></r>`, 'utf8'), few);
    expect(scan('a<!---->b<?p?>c').ok).toBe(true);
    // Markup with no text between adds no piece.
    expect(scan('a<!----><!----><?p?><!---->b').ok).toBe(true);
    const over = scan('a<!---->b<?p?>c<![CDATA[d]]>');
    expect(over.ok || `${over.error.code} ${over.error.line}:${over.error.column} ${over.error.message}`).toBe(
      'E_LIMIT 2:19 a text value is split into more than 3 pieces by comments, processing instructions or CDATA sections (line 2)',
    );
    // The default: a thousand pieces pass, the next is refused.
    const pieces = (n: number) => Buffer.from(`<r><a>${'a<!---->'.repeat(n)}</a></r>`, 'utf8');
    expect(scanBytes(pieces(1_000)).ok).toBe(true);
    expect(scanBytes(pieces(1_001)).ok).toBe(false);
  });

  it('counts CR LF in a value as one character, as XML reads it', () => {
    expect(scanBytes(Buffer.from('<r><a>a\r\nb\r\nc\r\nd\r\ne\r\n</a></r>', 'utf8'), limits).ok).toBe(true);
    expect(scanBytes(Buffer.from('<r><a>a\r\nb\r\nc\r\nd\r\ne\r\nf</a></r>', 'utf8'), limits).ok).toBe(false);
  });
});
