/**
 * The safety pass: one linear walk over a decoded document, before any XML engine sees it.
 *
 * It tokenizes the prolog (XML declaration, white space, comments, processing
 * instructions) and refuses anything else that starts with `<!` there, so a DOCTYPE can
 * never hide behind a PI or comment look-alike. It then walks the markup to check the
 * limits that protect the engine (nesting depth, length of one value), that tags nest,
 * and what follows the root; on the way it records the root and the spans of its
 * children, which is all the later steps need. Every step moves forward with `indexOf`
 * or a character loop, so the cost is linear in the text whatever it holds.
 *
 * What the pass does not check (character references, attribute syntax, names) is left
 * to the engine, which parses every byte of the root element.
 */
import type { FileError } from '../domain/types.ts';
import { lineColumnAt, type ElementSpan, type RootInfo } from './scan.ts';

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
}

export const DEFAULT_LIMITS: SafetyLimits = Object.freeze({ maxDepth: 64, maxValueChars: 100_000, maxElementsPerChild: 10_000 });

export interface ScannedDocument {
  root: RootInfo;
  /** The root's child elements in document order. */
  children: ElementSpan[];
}

export type SafetyScan = { ok: true; doc: ScannedDocument } | { ok: false; error: FileError };

const LT = 0x3c;
const GT = 0x3e;
const SLASH = 0x2f;
const QUOT = 0x22;
const APOS = 0x27;
const EQ = 0x3d;

const isWs = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/** Characters XML 1.0 never allows (C0 controls but tab and line ends, U+FFFE, U+FFFF). */
const FORBIDDEN_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

class Refusal {
  constructor(
    readonly code: FileError['code'],
    readonly at: number,
    readonly message: string,
  ) {}
}

function skipWs(text: string, i: number): number {
  while (i < text.length && isWs(text.charCodeAt(i))) i++;
  return i;
}

/** End of the comment at `lt` (past `-->`); a `--` inside is not XML. */
function skipComment(text: string, lt: number): number {
  const dashes = text.indexOf('--', lt + 4);
  if (dashes === -1) throw new Refusal('E_NOT_WELL_FORMED', text.length, 'the file ends inside a comment (is it truncated?)');
  if (text.charCodeAt(dashes + 2) !== GT) throw new Refusal('E_NOT_WELL_FORMED', dashes, "a comment holds '--', which XML does not allow");
  return dashes + 3;
}

/** End of the processing instruction at `lt` (past `?>`). An `<?xml` other than the declaration at the start is refused. */
function skipPi(text: string, lt: number): number {
  const end = text.indexOf('?>', lt + 2);
  if (end === -1) throw new Refusal('E_NOT_WELL_FORMED', text.length, 'the file ends inside a processing instruction (is it truncated?)');
  let t = lt + 2;
  while (t < end && !isWs(text.charCodeAt(t))) t++;
  if (text.slice(lt + 2, t).toLowerCase() === 'xml') {
    throw new Refusal('E_NOT_WELL_FORMED', lt, 'an XML declaration may only stand at the very start of the file');
  }
  if (t === lt + 2) throw new Refusal('E_NOT_WELL_FORMED', lt, 'a processing instruction has no target name');
  return end + 2;
}

/** The `<!` markup allowed inside elements: comments and CDATA sections. Returns the end and, for CDATA, the content length. */
function skipBang(text: string, lt: number): { end: number; chars: number } {
  if (text.startsWith('<!--', lt)) return { end: skipComment(text, lt), chars: 0 };
  if (text.startsWith('<![CDATA[', lt)) {
    const end = text.indexOf(']]>', lt + 9);
    if (end === -1) throw new Refusal('E_NOT_WELL_FORMED', text.length, 'the file ends inside a CDATA section (is it truncated?)');
    return { end: end + 3, chars: end - lt - 9 };
  }
  throw doctypeOr(text, lt);
}

function doctypeOr(text: string, lt: number): Refusal {
  const word = text.slice(lt + 2, lt + 9).toUpperCase();
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
  name: string;
  end: number;
  empty: boolean;
  attrs: Map<string, string> | undefined;
}

/** Reads the start tag at `lt`; attribute values are measured and, when `keepAttrs`, kept. */
function readStartTag(text: string, lt: number, limits: SafetyLimits, keepAttrs: boolean): Tag {
  let i = lt + 1;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (isWs(c) || c === GT || c === SLASH || c === LT) break;
    i++;
  }
  if (i === lt + 1) throw new Refusal('E_NOT_WELL_FORMED', lt, "a '<' is not followed by an element name");
  const name = text.slice(lt + 1, i);
  const attrs = keepAttrs ? new Map<string, string>() : undefined;
  for (;;) {
    i = skipWs(text, i);
    if (i >= text.length)
      throw new Refusal('E_NOT_WELL_FORMED', text.length, `the file ends inside the start tag of <${name}> (is it truncated?)`);
    const c = text.charCodeAt(i);
    if (c === GT) return { name, end: i + 1, empty: false, attrs };
    if (c === SLASH) {
      if (text.charCodeAt(i + 1) !== GT) throw new Refusal('E_NOT_WELL_FORMED', i, `the start tag of <${name}> is malformed`);
      return { name, end: i + 2, empty: true, attrs };
    }
    const nameStart = i;
    while (i < text.length) {
      const a = text.charCodeAt(i);
      if (isWs(a) || a === EQ || a === GT || a === SLASH || a === LT) break;
      i++;
    }
    const attrName = text.slice(nameStart, i);
    i = skipWs(text, i);
    if (attrName === '' || text.charCodeAt(i) !== EQ) throw new Refusal('E_NOT_WELL_FORMED', i, `an attribute of <${name}> is malformed`);
    i = skipWs(text, i + 1);
    const quote = text.charCodeAt(i);
    if (quote !== QUOT && quote !== APOS)
      throw new Refusal('E_NOT_WELL_FORMED', i, `the value of attribute ${attrName} of <${name}> is not quoted`);
    const close = text.indexOf(quote === QUOT ? '"' : "'", i + 1);
    if (close === -1)
      throw new Refusal('E_NOT_WELL_FORMED', text.length, `the file ends inside an attribute value of <${name}> (is it truncated?)`);
    if (close - i - 1 > limits.maxValueChars) {
      throw new Refusal(
        'E_LIMIT',
        i + 1,
        `the value of attribute ${attrName} of <${name}> is longer than the limit of ${limits.maxValueChars} characters`,
      );
    }
    attrs?.set(attrName, text.slice(i + 1, close));
    i = close + 1;
  }
}

/** Reads the end tag at `lt`; returns its name and end. */
function readEndTag(text: string, lt: number): { name: string; end: number } {
  const gt = text.indexOf('>', lt + 2);
  if (gt === -1) throw new Refusal('E_NOT_WELL_FORMED', text.length, 'the file ends inside an end tag (is it truncated?)');
  return { name: text.slice(lt + 2, gt).trimEnd(), end: gt + 1 };
}

const localOf = (qname: string) => qname.slice(qname.indexOf(':') + 1);

function rootInfo(tag: Tag, lt: number): Omit<RootInfo, 'end'> {
  const colon = tag.name.indexOf(':');
  const prefix = colon === -1 ? '' : tag.name.slice(0, colon);
  return {
    qname: tag.name,
    local: localOf(tag.name),
    prefix,
    namespace: tag.attrs?.get(prefix ? `xmlns:${prefix}` : 'xmlns'),
    start: lt,
    contentStart: tag.end,
  };
}

/** Offset of the first markup after the prolog: the root's '<'. */
function skipProlog(text: string): number {
  let i = 0;
  if (/^<\?xml[\s?]/.test(text.slice(0, 6))) {
    const end = text.indexOf('?>', 5);
    if (end === -1) throw new Refusal('E_NOT_WELL_FORMED', text.length, 'the XML declaration is not closed');
    i = end + 2;
  }
  for (;;) {
    i = skipWs(text, i);
    if (i >= text.length) throw new Refusal('E_NOT_WELL_FORMED', text.length, 'the file has no root element');
    if (text.charCodeAt(i) !== LT) throw new Refusal('E_NOT_WELL_FORMED', i, 'the file has text before its root element');
    if (text.startsWith('<!--', i)) i = skipComment(text, i);
    else if (text.startsWith('<?', i)) i = skipPi(text, i);
    else if (text.startsWith('<!', i)) throw doctypeOr(text, i);
    else return i;
  }
}

/** After the root: white space, comments and processing instructions only. */
function checkEpilog(text: string, i: number): void {
  for (;;) {
    i = skipWs(text, i);
    if (i >= text.length) return;
    if (text.startsWith('<!--', i)) i = skipComment(text, i);
    else if (text.startsWith('<?', i)) i = skipPi(text, i);
    else if (text.startsWith('<!', i)) throw doctypeOr(text, i);
    else throw new Refusal('E_NOT_WELL_FORMED', i, 'the file has content after the end of its root element');
  }
}

function walk(text: string, limits: SafetyLimits): ScannedDocument {
  const forbidden = FORBIDDEN_CHAR.exec(text);
  if (forbidden) {
    const code = forbidden[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    throw new Refusal('E_NOT_WELL_FORMED', forbidden.index, `the file holds the character U+${code}, which XML does not allow`);
  }
  const rootLt = skipProlog(text);
  const rootTag = readStartTag(text, rootLt, limits, true);
  const head = rootInfo(rootTag, rootLt);
  const children: ElementSpan[] = [];
  if (rootTag.empty) {
    checkEpilog(text, rootTag.end);
    return { root: { ...head, end: rootTag.end }, children };
  }
  if (limits.maxDepth < 1) throw new Refusal('E_LIMIT', rootLt, `elements are nested deeper than the limit of ${limits.maxDepth}`);

  const stack: string[] = [rootTag.name];
  let childStart = -1;
  let childElements = 0;
  let valueChars = 0;
  let valueStart = -1;
  const addValue = (at: number, chars: number) => {
    if (chars === 0) return;
    if (valueChars === 0) valueStart = at;
    valueChars += chars;
    if (valueChars > limits.maxValueChars) {
      throw new Refusal('E_LIMIT', valueStart, `a text value is longer than the limit of ${limits.maxValueChars} characters`);
    }
  };
  let i = rootTag.end;
  for (;;) {
    const lt = text.indexOf('<', i);
    if (lt === -1) {
      throw new Refusal(
        'E_NOT_WELL_FORMED',
        text.length,
        `the file ends before element(s) ${stack.join(', ')} are closed (is it truncated?)`,
      );
    }
    addValue(i, lt - i);
    const next = text.charCodeAt(lt + 1);
    if (next === 0x21 /* ! */) {
      const bang = skipBang(text, lt);
      addValue(lt, bang.chars);
      i = bang.end;
      continue;
    }
    if (next === 0x3f /* ? */) {
      i = skipPi(text, lt);
      continue;
    }
    valueChars = 0;
    if (next === SLASH) {
      const end = readEndTag(text, lt);
      const open = stack.pop()!;
      if (end.name !== open) {
        throw new Refusal('E_NOT_WELL_FORMED', lt, `the end tag </${end.name}> does not match the start tag <${open}>`);
      }
      if (stack.length === 1) children.push({ qname: open, local: localOf(open), start: childStart, end: end.end });
      if (stack.length === 0) {
        checkEpilog(text, end.end);
        return { root: { ...head, end: lt }, children };
      }
      i = end.end;
      continue;
    }
    const tag = readStartTag(text, lt, limits, false);
    if (stack.length >= limits.maxDepth) {
      throw new Refusal('E_LIMIT', lt, `elements are nested deeper than the limit of ${limits.maxDepth}`);
    }
    if (stack.length === 1) {
      childStart = lt;
      childElements = 0;
    }
    if (++childElements > limits.maxElementsPerChild) {
      throw new Refusal(
        'E_LIMIT',
        childStart,
        `the element <${text.slice(childStart + 1, childStart + 1 + 100).split(/[\s/>]/)[0]}> holds more than the limit of ${limits.maxElementsPerChild} elements`,
      );
    }
    if (!tag.empty) stack.push(tag.name);
    else if (stack.length === 1) children.push({ qname: tag.name, local: localOf(tag.name), start: lt, end: tag.end });
    i = tag.end;
  }
}

/** Runs the safety pass over decoded text. Expected failures come back as a FileError with line and column. */
export function scanDocument(text: string, limits: SafetyLimits = DEFAULT_LIMITS): SafetyScan {
  try {
    return { ok: true, doc: walk(text, limits) };
  } catch (err) {
    if (!(err instanceof Refusal)) throw err;
    const where = lineColumnAt(text, err.at);
    const message = err.code === 'E_LIMIT' ? `${err.message} (line ${where.line})` : err.message;
    return { ok: false, error: { code: err.code, message, ...where } };
  }
}
