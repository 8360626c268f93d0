/**
 * Mislabelled files: bytes that are valid in the declared encoding but were written in
 * another, so that reading them as declared would store garbled names. Two cases are
 * common in hand-made exports:
 *
 * - a file saved as UTF-8 that declares ISO-8859-1: every byte above 0x7F forms a valid
 *   UTF-8 sequence ("Müller" is C3 BC, which ISO-8859-1 reads "MÃ¼ller");
 * - a Windows-1252 file that declares ISO-8859-1: bytes 0x80-0x9F are Windows-1252's
 *   curly quotes, dashes and euro sign, but invisible control characters in ISO-8859-1.
 *
 * And the other way round, a file declaring UTF-8 (or nothing) whose bytes are not UTF-8 is
 * told which of the two single-byte encodings it most likely is. Every check is one linear
 * pass, and the common cases (an ASCII file, a valid UTF-8 file) are decided by Node's
 * native scanners.
 */
import { isAscii, isUtf8 } from 'node:buffer';
import anyAscii from 'any-ascii';
import type { FileError } from '../domain/types.ts';

/** Windows-1252's characters for bytes 0x80-0x9F (undefined: the five bytes it leaves unassigned). */
const CP1252: readonly (readonly [char: string, name: string, plain: string] | undefined)[] = [
  ['€', 'euro sign', 'EUR'],
  undefined,
  ['‚', 'single low quotation mark', ','],
  ['ƒ', 'f with hook', 'f'],
  ['„', 'double low quotation mark', '"'],
  ['…', 'ellipsis', '...'],
  ['†', 'dagger', '+'],
  ['‡', 'double dagger', '+'],
  ['ˆ', 'circumflex accent', '^'],
  ['‰', 'per mille sign', 'per mille'],
  ['Š', 'S with caron', 'S'],
  ['‹', 'single left angle quotation mark', "'"],
  ['Œ', 'ligature OE', 'OE'],
  undefined,
  ['Ž', 'Z with caron', 'Z'],
  undefined,
  undefined,
  ['‘', 'left single quotation mark', "'"],
  ['’', 'right single quotation mark, the curly apostrophe', "'"],
  ['“', 'left double quotation mark', '"'],
  ['”', 'right double quotation mark', '"'],
  ['•', 'bullet', '*'],
  ['–', 'en dash', '-'],
  ['—', 'em dash', '-'],
  ['˜', 'small tilde', '~'],
  ['™', 'trade mark sign', 'TM'],
  ['š', 's with caron', 's'],
  ['›', 'single right angle quotation mark', "'"],
  ['œ', 'ligature oe', 'oe'],
  undefined,
  ['ž', 'z with caron', 'z'],
  ['Ÿ', 'Y with diaeresis', 'Y'],
];

/** The plain characters to use for common characters outside ISO-8859-1 (those of Windows-1252, and a few more). */
const PLAIN = new Map<string, string>([
  ...CP1252.flatMap((e) => (e ? [[e[0], e[2]] as const] : [])),
  ['‐', '-'],
  ['‑', '-'],
  ['−', '-'],
  ['′', "'"],
  ['″', '"'],
]);

const hex = (b: number) => `0x${b.toString(16).toUpperCase().padStart(2, '0')}`;
const codePoint = (ch: string) => `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * 1-based line and column of byte `index` (a character's first byte), counting
 * characters of the given encoding, CR LF and CR as one line break, as the rest of the
 * pipeline does.
 */
function positionOf(bytes: Buffer, index: number, encoding: 'utf8' | 'latin1'): { line: number; column: number } {
  let line = 1;
  let column = 1;
  for (let i = 0; i < index; i++) {
    const b = bytes[i]!;
    if (b === 0x0a) {
      if (bytes[i - 1] !== 0x0d) line++;
      column = 1;
    } else if (b === 0x0d) {
      line++;
      column = 1;
    } else if (encoding === 'latin1' || (b & 0xc0) !== 0x80) column++;
  }
  return { line, column };
}

/** Index of the first byte above 0x7F, from `from`, or -1. */
function firstHighByte(bytes: Buffer, from = 0): number {
  for (let i = from; i < bytes.length; i++) if (bytes[i]! >= 0x80) return i;
  return -1;
}

const isCp1252Byte = (b: number) => b >= 0x80 && b <= 0x9f && CP1252[b - 0x80] !== undefined;

/**
 * Index of the first byte 0x80-0x9F that Windows-1252 assigns a character to, or -1. Read
 * four bytes at a time: a word is looked at byte by byte only when one of its bytes is
 * 100xxxxx (masked with 0xE0 and xored with 0x80, that byte is zero).
 */
function firstCp1252Byte(bytes: Buffer): number {
  const head = Math.min(bytes.length, (4 - (bytes.byteOffset % 4)) % 4);
  for (let i = 0; i < head; i++) if (isCp1252Byte(bytes[i]!)) return i;
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset + head, Math.floor((bytes.length - head) / 4));
  for (let w = 0; w < words.length; w++) {
    const x = (words[w]! & 0xe0e0e0e0) ^ 0x80808080;
    if (((x - 0x01010101) & ~x & 0x80808080) === 0) continue;
    for (let i = head + w * 4, end = i + 4; i < end; i++) if (isCp1252Byte(bytes[i]!)) return i;
  }
  for (let i = head + words.length * 4; i < bytes.length; i++) if (isCp1252Byte(bytes[i]!)) return i;
  return -1;
}

/** Characters as ISO-8859-1 reads them, its invisible controls written as code points. */
const latin1Shown = (bytes: Buffer) => bytes.toString('latin1').replace(/[\u0080-\u009f]/g, (c) => `<${codePoint(c)}>`);

const at = (p: { line: number; column: number }) => `line ${p.line}, column ${p.column}`;

/** What to write instead of a character ISO-8859-1 does not have (empty when it has it). */
function outsideLatin1(ch: string): string {
  if (ch.codePointAt(0)! <= 0xff) return '';
  const plain = PLAIN.get(ch) ?? anyAscii(ch);
  return (
    `; ${ch} (${codePoint(ch)}) is outside the Home Office character set (printable ISO-8859-1) either way` +
    (plain !== '' ? `: write ${plain} instead` : ': write a plain Latin-1 letter instead')
  );
}

/**
 * The error for a body declared ISO-8859-1 that was most likely written in UTF-8 or
 * Windows-1252, or undefined when it reads as genuine ISO-8859-1.
 */
export function mislabelledLatin1(body: Buffer, declared: string): FileError | undefined {
  if (isAscii(body)) return undefined;
  if (isUtf8(body)) {
    const i = firstHighByte(body);
    const lead = body[i]!;
    const len = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
    const seq = body.subarray(i, i + len);
    const ch = seq.toString('utf8');
    const where = positionOf(body, i, 'utf8');
    return {
      code: 'E_ENCODING',
      message:
        `the file declares encoding "${declared}" but is most likely UTF-8: every byte above 0x7F forms a UTF-8 character, ` +
        `the first at ${at(where)}: '${ch}' (bytes ${[...seq].map(hex).join(' ')}), which read as ISO-8859-1 would be stored as '${latin1Shown(seq)}'; ` +
        `declare encoding="UTF-8" in the XML declaration, or save the file as ISO-8859-1` +
        outsideLatin1(ch),
      ...where,
    };
  }
  const i = firstCp1252Byte(body);
  if (i < 0) return undefined;
  const b = body[i]!;
  const [ch, name, plain] = CP1252[b - 0x80]!;
  const where = positionOf(body, i, 'latin1');
  return {
    code: 'E_ENCODING',
    message:
      `the file declares encoding "${declared}" but is most likely Windows-1252: byte ${hex(b)} at ${at(where)} is Windows-1252's ${ch} (${name}), ` +
      `which ISO-8859-1 does not have (there it is an invisible control character); write ${plain} instead` +
      ` (Windows-1252's ‘ ’ “ ” – — … € have no place in the Home Office character set) and save the file as ISO-8859-1`,
    ...where,
  };
}

/**
 * The error for a body declared UTF-8 (or declaring nothing) that is not valid UTF-8: the
 * first bad byte's place and, when the file starts like XML, the encoding it most likely is.
 */
export function notUtf8(body: Buffer, badAt: number, declared: string | undefined): FileError {
  const stated = declared ? ` (declared encoding "${declared}")` : ' (no encoding declared, so UTF-8 applies)';
  const place = positionOf(body, badAt, 'utf8');
  const base = `the file holds bytes that are not valid UTF-8${stated}, the first at ${at(place)}`;
  const b = body[badAt];
  if (body[0] !== 0x3c || b === undefined || b < 0x80) return { code: 'E_ENCODING', message: base, ...place };
  const cp = b >= 0x80 && b <= 0x9f ? CP1252[b - 0x80] : undefined;
  // A file with any Windows-1252 byte is Windows-1252; else it reads as ISO-8859-1.
  const win = cp !== undefined || firstCp1252Byte(body) >= 0;
  let message: string;
  if (win) {
    const ch = cp ? `Windows-1252's ${cp[0]} (${cp[1]})` : `'${Buffer.from([b]).toString('latin1')}' in Windows-1252`;
    message =
      `${base}: byte ${hex(b)}, ${ch}. The file is most likely Windows-1252, which is not accepted: save it as UTF-8 or ISO-8859-1` +
      (cp ? `, and write ${cp[2]} instead of ${cp[0]}, which is outside the Home Office character set` : '');
  } else {
    message =
      `${base}: byte ${hex(b)}, which is '${Buffer.from([b]).toString('latin1')}' in ISO-8859-1. The file is most likely ISO-8859-1: ` +
      `declare encoding="ISO-8859-1" in the XML declaration, or save the file as UTF-8`;
  }
  return { code: 'E_ENCODING', message, ...place };
}
