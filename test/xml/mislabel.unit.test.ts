/**
 * decodeXml on mislabelled files: which bytes make a file declared ISO-8859-1 "most likely
 * UTF-8" or "most likely Windows-1252", where the first such place is (CR LF and CR as one
 * line break), and what a file declared UTF-8 but holding single-byte text is told.
 */
import { describe, expect, it } from 'vitest';
import { decodeXml } from '../../src/xml/decode.ts';

const head = (encoding: string) => `<?xml version="1.0" encoding="${encoding}"?>\r\n<a>\r\n<n>`;
const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
const refusal = (b: Buffer) => {
  const d = decodeXml(b);
  if (d.ok) throw new Error('expected a refusal');
  return d;
};

describe('files declared ISO-8859-1', () => {
  it('accepts genuine ISO-8859-1, Ã followed by a letter included', () => {
    expect(decodeXml(bytes(head('ISO-8859-1'), 'Ãlvarez Müller Désirée</n></a>')).ok).toBe(true);
    // Ã then a byte that is a UTF-8 continuation, but another byte of the file is not UTF-8.
    expect(decodeXml(bytes(head('ISO-8859-1'), 'Ã© Ã¼ ü</n></a>')).ok).toBe(true);
    expect(decodeXml(bytes(head('ISO-8859-1'), 'plain ASCII</n></a>')).ok).toBe(true);
  });

  it('refuses UTF-8 bytes as most likely UTF-8, at the first one', () => {
    const d = refusal(Buffer.concat([Buffer.from(head('iso-8859-1')), Buffer.from('\r\nDésirée Müller</n></a>', 'utf8')]));
    expect(d.mislabelled).toBe(true);
    expect(d.error).toMatchObject({ code: 'E_ENCODING', line: 4, column: 2 });
    expect(d.error.message).toContain('the file declares encoding "iso-8859-1" but is most likely UTF-8');
    expect(d.error.message).toContain("'é' (bytes 0xC3 0xA9), which read as ISO-8859-1 would be stored as 'Ã©'");
  });

  it('refuses Windows-1252 bytes, naming the character and the plain one to use', () => {
    const d = refusal(bytes(head('ISO-8859-1'), '\rDésirée O', [0x92], 'Brien ', [0x80], '</n></a>'));
    expect(d.error).toMatchObject({ code: 'E_ENCODING', line: 4, column: 10 });
    expect(d.error.message).toContain("most likely Windows-1252: byte 0x92 at line 4, column 10 is Windows-1252's ’");
    expect(d.error.message).toContain("write ' instead");
  });

  it('finds the Windows-1252 byte wherever it lies, whatever the alignment of the bytes', () => {
    for (let pad = 0; pad < 9; pad++) {
      const file = bytes(head('ISO-8859-1'), 'é'.repeat(pad), [0x96], 'x</n></a>');
      // A view that does not start on a word boundary of its memory, as a slice of a larger read.
      const view = Buffer.concat([Buffer.from('abc'), file]).subarray(3);
      for (const b of [file, view]) expect(refusal(b).error, `pad ${pad}`).toMatchObject({ line: 3, column: 4 + pad });
    }
  });

  it('leaves bytes Windows-1252 does not assign to the schema, which names them', () => {
    expect(decodeXml(bytes(head('ISO-8859-1'), 'a', [0x81], 'b é</n></a>')).ok).toBe(true);
  });
});

describe('files declared UTF-8 that are not', () => {
  it('says a Latin-1 file is most likely ISO-8859-1', () => {
    const d = refusal(bytes(head('UTF-8'), 'Müller</n></a>'));
    expect(d.mislabelled).toBeUndefined();
    expect(d.error).toMatchObject({ code: 'E_ENCODING', line: 3, column: 5 });
    expect(d.error.message).toContain("byte 0xFC, which is 'ü' in ISO-8859-1. The file is most likely ISO-8859-1");
  });

  it('says a file with Windows-1252 bytes is most likely Windows-1252', () => {
    const d = refusal(bytes(head('UTF-8'), 'Désirée O', [0x92], 'Brien</n></a>'));
    expect(d.error.message).toContain('The file is most likely Windows-1252');
  });

  it('places overlong forms and surrogates, which are not UTF-8 either', () => {
    expect(refusal(bytes(head('UTF-8'), 'ab', [0xe0, 0x80, 0x80], '</n></a>')).error).toMatchObject({ line: 3, column: 6 });
    expect(refusal(bytes(head('UTF-8'), 'ab', [0xed, 0xa0, 0x80], '</n></a>')).error).toMatchObject({ line: 3, column: 6 });
  });

  it('guesses nothing for a file that does not start like XML', () => {
    const d = refusal(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x92]));
    expect(d.error.message).not.toContain('most likely');
  });
});
