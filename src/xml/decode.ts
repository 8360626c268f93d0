/**
 * Works out a file's encoding, honouring the byte-order mark and the XML declaration's
 * encoding, and checks its bytes. Only ISO-8859-1, UTF-8 and UTF-16 (with a BOM) are
 * accepted. No text is made: UTF-8 and ISO-8859-1 bytes are read as they are (a slice at
 * a time, see source.ts); UTF-16 (rare) is transcoded to UTF-8 in memory.
 */
import { isUtf8 } from 'node:buffer';
import type { FileError } from '../domain/types.ts';
import { mislabelledLatin1, notUtf8 } from './mislabel.ts';
import type { TextEncoding } from './source.ts';

export type Encoding = 'ISO-8859-1' | 'UTF-8' | 'UTF-16LE' | 'UTF-16BE';

type Decoded =
  | {
      ok: true;
      /** The body (after any byte-order mark) as UTF-8 or ISO-8859-1: a view of the file's bytes, or for UTF-16 a transcoded copy. */
      bytes: Buffer;
      /** How `bytes` read. */
      textEncoding: TextEncoding;
      /** The file's encoding. */
      encoding: Encoding;
      /** Bytes of the byte-order mark before the body in the file. */
      bomLength: number;
      /** True when `bytes` are not the file's own (UTF-16 transcoded). */
      transcoded: boolean;
    }
  | {
      ok: false;
      error: FileError;
      /** The bytes are valid as declared but were written in another encoding: a verdict the rest of the file cannot change. */
      mislabelled?: true;
    };

const LATIN1_NAMES = new Set(['iso-8859-1', 'iso8859-1', 'iso_8859-1', 'latin1', 'latin-1', 'l1', 'iso-ir-100', 'cp819', 'ibm819']);
const UTF8_NAMES = new Set(['utf-8', 'utf8']);
const UTF16_NAMES = new Set(['utf-16', 'utf-16le', 'utf-16be', 'utf16']);

const encodingError = (message: string): Decoded => ({ ok: false, error: { code: 'E_ENCODING', message } });

/** The encoding named in the XML declaration, if there is a declaration with one. */
function declaredEncoding(head: string): string | undefined {
  const decl = /^<\?xml\s[^?]*?\?>/.exec(head);
  if (!decl) return undefined;
  return /\sencoding\s*=\s*(["'])([^"']*)\1/.exec(decl[0])?.[2];
}

function bomOf(bytes: Buffer): { encoding: Encoding; length: number } | undefined {
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return { encoding: 'UTF-8', length: 3 };
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return { encoding: 'UTF-16LE', length: 2 };
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) return { encoding: 'UTF-16BE', length: 2 };
  return undefined;
}

/** The body as UTF-8 or ISO-8859-1 bytes, or undefined when it is not valid in its encoding. */
function checkedBody(bytes: Buffer, encoding: Encoding): Buffer | undefined {
  if (encoding === 'ISO-8859-1') return bytes;
  if (encoding === 'UTF-8') return isUtf8(bytes) ? bytes : undefined;
  const label = encoding === 'UTF-16LE' ? 'utf-16le' : 'utf-16be';
  try {
    return Buffer.from(new TextDecoder(label, { fatal: true, ignoreBOM: true }).decode(bytes), 'utf8');
  } catch {
    return undefined;
  }
}

/** Index of the first byte that is not valid UTF-8 (its line and column are mislabel.ts's to tell). */
function firstBadUtf8(bytes: Buffer): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const n = b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    if (n < 0) return i;
    for (let k = 1; k <= n; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
    }
    // Overlong forms, surrogates and code points above U+10FFFF, which isUtf8 refuses too.
    const c1 = bytes[i + 1]!;
    if ((b === 0xe0 && c1 < 0xa0) || (b === 0xed && c1 > 0x9f) || (b === 0xf0 && c1 < 0x90) || (b === 0xf4 && c1 > 0x8f)) return i;
    i += n + 1;
  }
  return i;
}

export function decodeXml(bytes: Buffer): Decoded {
  // UTF-32 byte-order marks, checked first: FF FE 00 00 also starts like UTF-16 LE's.
  if (
    bytes.length >= 4 &&
    ((bytes[0] === 0xff && bytes[1] === 0xfe && bytes[2] === 0 && bytes[3] === 0) ||
      (bytes[0] === 0 && bytes[1] === 0 && bytes[2] === 0xfe && bytes[3] === 0xff))
  ) {
    return encodingError('the file is UTF-32, which is not accepted; use ISO-8859-1, UTF-8 or UTF-16 with a byte-order mark');
  }
  const bom = bomOf(bytes);
  // '<?' in UTF-16 without a byte-order mark.
  if (
    !bom &&
    bytes.length >= 4 &&
    ((bytes[0] === 0x3c && bytes[1] === 0 && bytes[2] === 0x3f && bytes[3] === 0) ||
      (bytes[0] === 0 && bytes[1] === 0x3c && bytes[2] === 0 && bytes[3] === 0x3f))
  ) {
    return encodingError('the file looks like UTF-16 without a byte-order mark; UTF-16 files must start with one');
  }
  // The declaration is ASCII in every accepted encoding; read it from the first bytes.
  let head: string;
  if (bom?.encoding === 'UTF-16LE') head = bytes.subarray(2, 402).toString('utf16le');
  else if (bom?.encoding === 'UTF-16BE') head = Buffer.from(bytes.subarray(2, 402)).swap16().toString('utf16le');
  else head = bytes.subarray(bom?.length ?? 0, 200).toString('latin1');
  if (/^\s+<\?xml[\s?]/.test(head)) {
    return {
      ok: false,
      error: {
        code: 'E_NOT_WELL_FORMED',
        message: 'the XML declaration must stand at the very start of the file (white space comes before it)',
        line: 1,
        column: 1,
      },
    };
  }
  const declared = declaredEncoding(head);
  const name = declared?.trim().toLowerCase();

  let encoding: Encoding;
  if (bom?.encoding === 'UTF-16LE' || bom?.encoding === 'UTF-16BE') {
    if (name !== undefined && !UTF16_NAMES.has(name)) {
      return encodingError(`the file starts with a UTF-16 byte-order mark but declares encoding "${declared}"`);
    }
    encoding = bom.encoding;
  } else if (name === undefined || UTF8_NAMES.has(name)) {
    encoding = 'UTF-8';
  } else if (LATIN1_NAMES.has(name)) {
    if (bom) return encodingError(`the file starts with a UTF-8 byte-order mark but declares encoding "${declared}"`);
    encoding = 'ISO-8859-1';
  } else if (UTF16_NAMES.has(name)) {
    return encodingError('the file declares UTF-16 but has no byte-order mark; UTF-16 files must start with one');
  } else {
    return encodingError(`encoding "${declared}" is not accepted; use ISO-8859-1, UTF-8 or UTF-16 with a byte-order mark`);
  }

  const bomLength = bom?.length ?? 0;
  const body = bytes.subarray(bomLength);
  const checked = checkedBody(body, encoding);
  if (checked === undefined) {
    if (encoding === 'UTF-8') return { ok: false, error: notUtf8(body, firstBadUtf8(body), declared) };
    return encodingError(`the file holds bytes that are not valid ${encoding} (declared encoding "${declared}")`);
  }
  // Valid ISO-8859-1 is any bytes at all: refuse the ones most likely written in another encoding.
  const mislabelled = encoding === 'ISO-8859-1' ? mislabelledLatin1(body, declared!) : undefined;
  if (mislabelled) return { ok: false, error: mislabelled, mislabelled: true };
  return {
    ok: true,
    bytes: checked,
    textEncoding: encoding === 'ISO-8859-1' ? 'latin1' : 'utf8',
    encoding,
    bomLength,
    transcoded: checked !== body,
  };
}
