/**
 * The safety pass: one linear walk over a document's bytes, before any XML engine sees it.
 *
 * It tokenizes the prolog (XML declaration, white space, comments, processing
 * instructions) and refuses anything else that starts with `<!` there, so a DOCTYPE can
 * never hide behind a PI or comment look-alike. It then walks the markup to check the
 * limits that protect the engine (nesting depth, length of one value), that tags nest,
 * and what follows the root; on the way it records the root and the spans of its
 * children, which is all the later steps need. Every step moves forward with `indexOf`
 * or a byte loop, so the cost is linear in the file whatever it holds.
 *
 * It reads UTF-8 or ISO-8859-1 bytes (UTF-16 is transcoded to UTF-8 first): in both, every
 * markup character is one ASCII byte and no byte of a UTF-8 multi-byte sequence is ASCII,
 * so offsets are byte offsets and only names and the root's attribute values are decoded.
 * Limits counted in characters count characters, not bytes.
 *
 * What the pass does not check (character references, attribute syntax, names) is left
 * to the engine, which parses every byte of the root element.
 */
import type { FileError } from '../domain/types.ts';
import { localName, type ElementSpan, type RootInfo } from './scan.ts';
import { DocSource, sourceOfText, type TextEncoding } from './source.ts';

export interface SafetyLimits {
  /** Deepest element nesting accepted (the root is depth 1). Default 64. */
  maxDepth: number;
  /** Longest text or attribute value accepted, in characters. Default 100,000. */
  maxValueChars: number;
  /**
   * Most elements in one child of the root (a Header or a record, which the schemas bound
   * to a few hundred). The engine validates whole children, so this bounds its work per
   * piece. Default 10,000.
   */
  maxElementsPerChild: number;
  /**
   * Most pieces one text value is split into by comments, processing instructions and
   * CDATA sections. The engine joins a value's pieces one at a time, at a cost that grows
   * with the square of their number: a value of 99,000 one-character pieces between
   * comments (800 KB) took it a second. Default 1,000.
   */
  maxValuePieces: number;
}

export const DEFAULT_LIMITS: SafetyLimits = Object.freeze({
  maxDepth: 64,
  maxValueChars: 100_000,
  maxElementsPerChild: 10_000,
  maxValuePieces: 1_000,
});

export interface ScannedDocument {
  root: RootInfo;
  /** The root's child elements in document order. */
  children: ElementSpan[];
}

type SafetyScan = { ok: true; doc: ScannedDocument } | { ok: false; error: FileError };

const LT = 0x3c;
const GT = 0x3e;
const SLASH = 0x2f;
const QUOT = 0x22;
const APOS = 0x27;
const EQ = 0x3d;
const CR = 0x0d;
const LF = 0x0a;

const isWs = (c: number | undefined) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

const COMMENT_OPEN = Buffer.from('<!--');
const CDATA_OPEN = Buffer.from('<![CDATA[');
const PI_OPEN = Buffer.from('<?');
const BANG_OPEN = Buffer.from('<!');
const DASHES = Buffer.from('--');
const PI_CLOSE = Buffer.from('?>');
const CDATA_CLOSE = Buffer.from(']]>');

class Refusal {
  constructor(
    readonly code: FileError['code'],
    readonly at: number,
    readonly message: string,
  ) {}
}

/** The bytes under scan and how to read them. */
interface Bytes {
  b: Buffer;
  enc: TextEncoding;
}

function startsWith(d: Bytes, pat: Buffer, at: number): boolean {
  if (at + pat.length > d.b.length) return false;
  for (let k = 0; k < pat.length; k++) if (d.b[at + k] !== pat[k]) return false;
  return true;
}

/** Decoded text of bytes [s, e), line ends normalised. */
function textOf(d: Bytes, s: number, e: number): string {
  const t = d.b.toString(d.enc, s, e);
  return t.includes('\r') ? t.replace(/\r\n?/g, '\n') : t;
}

/** At most the first `chars` characters from byte `s` (read from no more than 4 bytes each). */
function charsFrom(d: Bytes, s: number, chars: number): string {
  let e = Math.min(d.b.length, s + 4 * chars);
  if (d.enc === 'utf8') while (e > s && e < d.b.length && (d.b[e]! & 0xc0) === 0x80) e--;
  return textOf(d, s, e).slice(0, chars);
}

/** Characters (UTF-16 code units) of bytes [s, e), CR LF counted once, as the decoded text has them. */
function charsIn(d: Bytes, s: number, e: number): number {
  const b = d.b;
  let n = 0;
  for (let i = s; i < e; i++) {
    const c = b[i]!;
    if (c === CR && b[i + 1] === LF && i + 1 < e) continue;
    if (d.enc === 'latin1' || c < 0x80) n++;
    else if ((c & 0xc0) !== 0x80) n += c >= 0xf0 ? 2 : 1;
  }
  return n;
}

function skipWs(d: Bytes, i: number): number {
  const b = d.b;
  while (i < b.length && isWs(b[i])) i++;
  return i;
}

/** End of the comment at `lt` (past `-->`); a `--` inside is not XML. */
function skipComment(d: Bytes, lt: number): number {
  const dashes = d.b.indexOf(DASHES, lt + 4);
  if (dashes === -1) throw new Refusal('E_NOT_WELL_FORMED', d.b.length, 'the file ends inside a comment (is it truncated?)');
  if (d.b[dashes + 2] !== GT) throw new Refusal('E_NOT_WELL_FORMED', dashes, "a comment holds '--', which XML does not allow");
  return dashes + 3;
}

/** End of the processing instruction at `lt` (past `?>`). An `<?xml` other than the declaration at the start is refused. */
function skipPi(d: Bytes, lt: number): number {
  const end = d.b.indexOf(PI_CLOSE, lt + 2);
  if (end === -1) throw new Refusal('E_NOT_WELL_FORMED', d.b.length, 'the file ends inside a processing instruction (is it truncated?)');
  let t = lt + 2;
  while (t < end && !isWs(d.b[t])) t++;
  if (t - lt - 2 <= 12 && textOf(d, lt + 2, t).toLowerCase() === 'xml') {
    throw new Refusal('E_NOT_WELL_FORMED', lt, 'an XML declaration may only stand at the very start of the file');
  }
  if (t === lt + 2) throw new Refusal('E_NOT_WELL_FORMED', lt, 'a processing instruction has no target name');
  return end + 2;
}

/** The `<!` markup allowed inside elements: comments and CDATA sections. Returns the end and, for CDATA, the content's byte range. */
function skipBang(d: Bytes, lt: number): { end: number; cdata?: [number, number] } {
  if (startsWith(d, COMMENT_OPEN, lt)) return { end: skipComment(d, lt) };
  if (startsWith(d, CDATA_OPEN, lt)) {
    const end = d.b.indexOf(CDATA_CLOSE, lt + 9);
    if (end === -1) throw new Refusal('E_NOT_WELL_FORMED', d.b.length, 'the file ends inside a CDATA section (is it truncated?)');
    return { end: end + 3, cdata: [lt + 9, end] };
  }
  throw doctypeOr(d, lt);
}

function doctypeOr(d: Bytes, lt: number): Refusal {
  const word = charsFrom(d, lt + 2, 7).toUpperCase();
  if (word.startsWith('DOCTYPE') || word.startsWith('ENTITY')) {
    return new Refusal(
      'E_DOCTYPE_FORBIDDEN',
      lt,
      'the file has a DOCTYPE or ENTITY declaration; these are never accepted (no DTDs, no entities)',
    );
  }
  return new Refusal(
    'E_DOCTYPE_FORBIDDEN',
    lt,
    "the file has a '<!' declaration outside a comment or CDATA section; only elements, comments and processing instructions are accepted",
  );
}

interface Tag {
  /** The name's bytes [nameStart, nameEnd): decoded only where it is needed (nameOf). */
  nameStart: number;
  nameEnd: number;
  end: number;
  empty: boolean;
  attrs: Map<string, string> | undefined;
}

const nameOf = (d: Bytes, tag: { nameStart: number; nameEnd: number }) => textOf(d, tag.nameStart, tag.nameEnd);

/** Reads the start tag at `lt`; attribute values are measured and, when `keepAttrs`, kept. */
function readStartTag(d: Bytes, lt: number, limits: SafetyLimits, keepAttrs: boolean): Tag {
  const b = d.b;
  const n = b.length;
  let i = lt + 1;
  while (i < n) {
    const c = b[i]!;
    if (isWs(c) || c === GT || c === SLASH || c === LT) break;
    i++;
  }
  if (i === lt + 1) throw new Refusal('E_NOT_WELL_FORMED', lt, "a '<' is not followed by an element name");
  const nameStart = lt + 1;
  const nameEnd = i;
  const attrs = keepAttrs ? new Map<string, string>() : undefined;
  for (;;) {
    i = skipWs(d, i);
    if (i >= n)
      throw new Refusal(
        'E_NOT_WELL_FORMED',
        n,
        `the file ends inside the start tag of <${textOf(d, nameStart, nameEnd)}> (is it truncated?)`,
      );
    const c = b[i]!;
    if (c === GT) return { nameStart, nameEnd, end: i + 1, empty: false, attrs };
    if (c === SLASH) {
      if (b[i + 1] !== GT) throw new Refusal('E_NOT_WELL_FORMED', i, `the start tag of <${textOf(d, nameStart, nameEnd)}> is malformed`);
      return { nameStart, nameEnd, end: i + 2, empty: true, attrs };
    }
    const attrStart = i;
    while (i < n) {
      const a = b[i]!;
      if (isWs(a) || a === EQ || a === GT || a === SLASH || a === LT) break;
      i++;
    }
    const attrEnd = i;
    i = skipWs(d, i);
    if (attrEnd === attrStart || b[i] !== EQ)
      throw new Refusal('E_NOT_WELL_FORMED', i, `an attribute of <${textOf(d, nameStart, nameEnd)}> is malformed`);
    i = skipWs(d, i + 1);
    const quote = b[i];
    if (quote !== QUOT && quote !== APOS)
      throw new Refusal(
        'E_NOT_WELL_FORMED',
        i,
        `the value of attribute ${textOf(d, attrStart, attrEnd)} of <${textOf(d, nameStart, nameEnd)}> is not quoted`,
      );
    const close = b.indexOf(quote, i + 1);
    if (close === -1)
      throw new Refusal(
        'E_NOT_WELL_FORMED',
        n,
        `the file ends inside an attribute value of <${textOf(d, nameStart, nameEnd)}> (is it truncated?)`,
      );
    // Bytes are never fewer than characters: counted only when they could be too many.
    if (close - i - 1 > limits.maxValueChars && charsIn(d, i + 1, close) > limits.maxValueChars) {
      throw new Refusal(
        'E_LIMIT',
        i + 1,
        `the value of attribute ${textOf(d, attrStart, attrEnd)} of <${textOf(d, nameStart, nameEnd)}> is longer than the limit of ${limits.maxValueChars} characters`,
      );
    }
    attrs?.set(textOf(d, attrStart, attrEnd), textOf(d, i + 1, close));
    i = close + 1;
  }
}

/** Reads the end tag at `lt`: its end, and whether it closes the element whose name is bytes [openStart, openEnd). */
function readEndTag(d: Bytes, lt: number, openStart: number, openEnd: number): { end: number; matches: boolean } {
  const b = d.b;
  const gt = b.indexOf(GT, lt + 2);
  if (gt === -1) throw new Refusal('E_NOT_WELL_FORMED', b.length, 'the file ends inside an end tag (is it truncated?)');
  let e = gt;
  while (e > lt + 2 && isWs(b[e - 1])) e--;
  let same = e - lt - 2 === openEnd - openStart && b[e - 1]! < 0x80;
  for (let k = 0; same && k < openEnd - openStart; k++) same = b[lt + 2 + k] === b[openStart + k];
  // Names compared as bytes; one that ends in a non-ASCII character (white space that
  // trimming removes, maybe) is compared as text, as it always was.
  return { end: gt + 1, matches: same || textOf(d, lt + 2, gt).trimEnd() === textOf(d, openStart, openEnd) };
}

function rootInfo(d: Bytes, tag: Tag, lt: number): Omit<RootInfo, 'end'> {
  const name = nameOf(d, tag);
  const colon = name.indexOf(':');
  const prefix = colon === -1 ? '' : name.slice(0, colon);
  return {
    qname: name,
    local: localName(name),
    prefix,
    namespace: tag.attrs?.get(prefix ? `xmlns:${prefix}` : 'xmlns'),
    start: lt,
    contentStart: tag.end,
  };
}

/** Offset of the first markup after the prolog: the root's '<'. */
function skipProlog(d: Bytes): number {
  const n = d.b.length;
  let i = 0;
  if (/^<\?xml[\s?]/.test(d.b.toString('latin1', 0, 6))) {
    const end = d.b.indexOf(PI_CLOSE, 5);
    if (end === -1) throw new Refusal('E_NOT_WELL_FORMED', n, 'the XML declaration is not closed');
    i = end + 2;
  }
  for (;;) {
    i = skipWs(d, i);
    if (i >= n) throw new Refusal('E_NOT_WELL_FORMED', n, 'the file has no root element');
    if (d.b[i] !== LT) throw new Refusal('E_NOT_WELL_FORMED', i, 'the file has text before its root element');
    if (startsWith(d, COMMENT_OPEN, i)) i = skipComment(d, i);
    else if (startsWith(d, PI_OPEN, i)) i = skipPi(d, i);
    else if (startsWith(d, BANG_OPEN, i)) throw doctypeOr(d, i);
    else return i;
  }
}

/** After the root: white space, comments and processing instructions only. */
function checkEpilog(d: Bytes, i: number): void {
  for (;;) {
    i = skipWs(d, i);
    if (i >= d.b.length) return;
    if (startsWith(d, COMMENT_OPEN, i)) i = skipComment(d, i);
    else if (startsWith(d, PI_OPEN, i)) i = skipPi(d, i);
    else if (startsWith(d, BANG_OPEN, i)) throw doctypeOr(d, i);
    else throw new Refusal('E_NOT_WELL_FORMED', i, 'the file has content after the end of its root element');
  }
}

/**
 * The first character XML 1.0 never allows (C0 controls but tab and line ends; in UTF-8
 * also U+FFFE and U+FFFF, bytes EF BF BE and EF BF BF): its offset and code point.
 */
function forbiddenChar(d: Bytes): { at: number; code: number } | undefined {
  const b = d.b;
  const n = b.length;
  const utf8 = d.enc === 'utf8';
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    if (c < 0x20) {
      if (c !== 0x09 && c !== 0x0a && c !== 0x0d) return { at: i, code: c };
    } else if (c === 0xef && utf8 && b[i + 1] === 0xbf && (b[i + 2] === 0xbe || b[i + 2] === 0xbf)) {
      return { at: i, code: b[i + 2] === 0xbe ? 0xfffe : 0xffff };
    }
  }
  return undefined;
}

function walk(d: Bytes, limits: SafetyLimits): ScannedDocument {
  const b = d.b;
  const n = b.length;
  const forbidden = forbiddenChar(d);
  if (forbidden) {
    const code = forbidden.code.toString(16).toUpperCase().padStart(4, '0');
    throw new Refusal('E_NOT_WELL_FORMED', forbidden.at, `the file holds the character U+${code}, which XML does not allow`);
  }
  const rootLt = skipProlog(d);
  const rootTag = readStartTag(d, rootLt, limits, true);
  const head = rootInfo(d, rootTag, rootLt);
  const children: ElementSpan[] = [];
  if (rootTag.empty) {
    checkEpilog(d, rootTag.end);
    return { root: { ...head, end: rootTag.end }, children };
  }
  if (limits.maxDepth < 1) throw new Refusal('E_LIMIT', rootLt, `elements are nested deeper than the limit of ${limits.maxDepth}`);

  // The open elements' names, as byte ranges.
  const stackStart: number[] = [rootTag.nameStart];
  const stackEnd: number[] = [rootTag.nameEnd];
  const openNames = () => stackStart.map((s, k) => textOf(d, s, stackEnd[k]!)).join(', ');
  let childStart = -1;
  let childElements = 0;
  // One value's pieces (text between markup, CDATA content): bytes are never fewer than
  // characters, so characters are counted only once the bytes pass the limit, each once.
  let valueChars = 0;
  let valueUncounted = 0;
  // The uncounted pieces' [start, end) offsets, two numbers each, in one array used again
  // (a file has a piece of text between every two tags: none is allocated).
  const pieces: number[] = [];
  let pieceNumbers = 0;
  // All the value's pieces, counted ones included.
  let valuePieces = 0;
  let valueStart = -1;
  const addValue = (s: number, e: number, at = s) => {
    if (e <= s) return;
    if (valuePieces === 0) valueStart = at;
    if (++valuePieces > limits.maxValuePieces) {
      throw new Refusal(
        'E_LIMIT',
        at,
        `a text value is split into more than ${limits.maxValuePieces} pieces by comments, processing instructions or CDATA sections`,
      );
    }
    pieces[pieceNumbers++] = s;
    pieces[pieceNumbers++] = e;
    valueUncounted += e - s;
    if (valueChars + valueUncounted <= limits.maxValueChars) return;
    for (let k = 0; k < pieceNumbers; k += 2) valueChars += charsIn(d, pieces[k]!, pieces[k + 1]!);
    pieceNumbers = 0;
    valueUncounted = 0;
    if (valueChars > limits.maxValueChars) {
      throw new Refusal('E_LIMIT', valueStart, `a text value is longer than the limit of ${limits.maxValueChars} characters`);
    }
  };
  const endValue = () => {
    valueChars = 0;
    valueUncounted = 0;
    pieceNumbers = 0;
    valuePieces = 0;
  };
  let i = rootTag.end;
  for (;;) {
    const lt = b.indexOf(LT, i);
    if (lt === -1) {
      throw new Refusal('E_NOT_WELL_FORMED', n, `the file ends before element(s) ${openNames()} are closed (is it truncated?)`);
    }
    addValue(i, lt);
    const next = b[lt + 1];
    if (next === 0x21 /* ! */) {
      const bang = skipBang(d, lt);
      if (bang.cdata) addValue(bang.cdata[0], bang.cdata[1], lt);
      i = bang.end;
      continue;
    }
    if (next === 0x3f /* ? */) {
      i = skipPi(d, lt);
      continue;
    }
    endValue();
    if (next === SLASH) {
      const openStart = stackStart.pop()!;
      const openEnd = stackEnd.pop()!;
      const end = readEndTag(d, lt, openStart, openEnd);
      if (!end.matches) {
        throw new Refusal(
          'E_NOT_WELL_FORMED',
          lt,
          `the end tag </${textOf(d, lt + 2, end.end - 1).trimEnd()}> does not match the start tag <${textOf(d, openStart, openEnd)}>`,
        );
      }
      if (stackStart.length === 1) {
        const open = textOf(d, openStart, openEnd);
        children.push({ qname: open, local: localName(open), start: childStart, end: end.end });
      }
      if (stackStart.length === 0) {
        checkEpilog(d, end.end);
        return { root: { ...head, end: lt }, children };
      }
      i = end.end;
      continue;
    }
    const tag = readStartTag(d, lt, limits, false);
    const depth = stackStart.length;
    if (depth >= limits.maxDepth) {
      throw new Refusal('E_LIMIT', lt, `elements are nested deeper than the limit of ${limits.maxDepth}`);
    }
    if (depth === 1) {
      childStart = lt;
      childElements = 0;
    }
    if (++childElements > limits.maxElementsPerChild) {
      throw new Refusal(
        'E_LIMIT',
        childStart,
        `the element <${charsFrom(d, childStart + 1, 100).split(/[\s/>]/)[0]}> holds more than the limit of ${limits.maxElementsPerChild} elements`,
      );
    }
    if (!tag.empty) {
      stackStart.push(tag.nameStart);
      stackEnd.push(tag.nameEnd);
    } else if (depth === 1) {
      const name = nameOf(d, tag);
      children.push({ qname: name, local: localName(name), start: lt, end: tag.end });
    }
    i = tag.end;
  }
}

/**
 * Runs the safety pass over a document's bytes (UTF-8 or ISO-8859-1, after any byte-order
 * mark); `source` reads the same document, for the line and column of a refusal. Expected
 * failures come back as a FileError with line and column. Given text, scans its UTF-8.
 */
export function scanDocument(
  input: string | { bytes: Buffer; encoding: TextEncoding; source: DocSource },
  limits: SafetyLimits = DEFAULT_LIMITS,
): SafetyScan {
  const source = typeof input === 'string' ? sourceOfText(input) : input.source;
  const d: Bytes =
    typeof input === 'string' ? { b: source.bytes(0, source.byteLength), enc: 'utf8' } : { b: input.bytes, enc: input.encoding };
  try {
    return { ok: true, doc: walk(d, limits) };
  } catch (err) {
    if (!(err instanceof Refusal)) throw err;
    const where = source.fork().lineColumn(err.at);
    const message = err.code === 'E_LIMIT' ? `${err.message} (line ${where.line})` : err.message;
    return { ok: false, error: { code: err.code, message, ...where } };
  }
}
