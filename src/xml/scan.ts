/**
 * A light markup scanner over decoded text. It finds the root element and the spans of
 * the root's children without building a tree, so a large file's records can be parsed
 * a chunk at a time after the whole file has passed XSD validation.
 */

export interface ElementSpan {
  qname: string;
  local: string;
  /** Offset of '<' of the start tag. */
  start: number;
  /** Offset just past the end tag (or past '/>'). */
  end: number;
}

export interface RootInfo extends ElementSpan {
  prefix: string;
  namespace: string | undefined;
  /** Offset just past the root's start tag. */
  contentStart: number;
}

export function lineColumnAt(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

function insideComment(text: string, at: number): boolean {
  const open = text.lastIndexOf('<!--', at);
  if (open === -1) return false;
  const close = text.indexOf('-->', open + 4);
  return close === -1 || close > at;
}

/** Offset of a DOCTYPE or ENTITY declaration outside comments, or -1. */
export function findDoctype(text: string): number {
  for (const needle of ['<!DOCTYPE', '<!ENTITY']) {
    for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + 1)) {
      if (!insideComment(text, at)) return at;
    }
  }
  return -1;
}

const NAME = /[^\s/>]+/y;

/** Reads the start tag at `lt`: its name, attributes text, end offset and whether it is empty. */
function readStartTag(text: string, lt: number): { qname: string; attrs: string; tagEnd: number; empty: boolean } | undefined {
  NAME.lastIndex = lt + 1;
  const m = NAME.exec(text);
  if (!m) return undefined;
  let i = lt + 1 + m[0].length;
  let quote = '';
  for (; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '>') break;
  }
  if (i >= text.length) return undefined;
  const empty = text[i - 1] === '/';
  return { qname: m[0], attrs: text.slice(lt + 1 + m[0].length, empty ? i - 1 : i), tagEnd: i + 1, empty };
}

const localOf = (qname: string) => qname.slice(qname.indexOf(':') + 1);

/** Skips a comment, CDATA section or processing instruction at `lt`; returns the offset after it, or -1. */
function skipSpecial(text: string, lt: number): number | undefined {
  if (text.startsWith('<!--', lt)) {
    const e = text.indexOf('-->', lt + 4);
    return e === -1 ? -1 : e + 3;
  }
  if (text.startsWith('<![CDATA[', lt)) {
    const e = text.indexOf(']]>', lt + 9);
    return e === -1 ? -1 : e + 3;
  }
  if (text.startsWith('<?', lt)) {
    const e = text.indexOf('?>', lt + 2);
    return e === -1 ? -1 : e + 2;
  }
  if (text.startsWith('<!', lt)) {
    const e = text.indexOf('>', lt + 2);
    return e === -1 ? -1 : e + 1;
  }
  return undefined;
}

/** The root element's name and namespace; undefined when there is no readable start tag. */
export function scanRoot(text: string): RootInfo | undefined {
  let i = 0;
  for (;;) {
    const lt = text.indexOf('<', i);
    if (lt === -1) return undefined;
    const skipped = skipSpecial(text, lt);
    if (skipped === -1) return undefined;
    if (skipped !== undefined) {
      i = skipped;
      continue;
    }
    const tag = readStartTag(text, lt);
    if (!tag) return undefined;
    const colon = tag.qname.indexOf(':');
    const prefix = colon === -1 ? '' : tag.qname.slice(0, colon);
    const attr = new RegExp(`\\sxmlns${prefix ? `:${prefix.replace(/[.\-]/g, '\\$&')}` : ''}\\s*=\\s*(["'])(.*?)\\1`).exec(tag.attrs);
    const end = tag.empty ? tag.tagEnd : text.lastIndexOf('</');
    return {
      qname: tag.qname,
      local: localOf(tag.qname),
      prefix,
      namespace: attr?.[2],
      start: lt,
      end: end === -1 ? text.length : end,
      contentStart: tag.tagEnd,
    };
  }
}

/**
 * Yields the root's child elements in document order. The text must already be known
 * well-formed (it is only called after XSD validation).
 */
export function* childElements(text: string, root: RootInfo): Generator<ElementSpan> {
  let i = root.contentStart;
  let depth = 0;
  let current: { qname: string; start: number } | undefined;
  while (i < root.end) {
    const lt = text.indexOf('<', i);
    if (lt === -1 || lt >= root.end) return;
    const skipped = skipSpecial(text, lt);
    if (skipped === -1) return;
    if (skipped !== undefined) {
      i = skipped;
      continue;
    }
    if (text[lt + 1] === '/') {
      const gt = text.indexOf('>', lt);
      depth--;
      if (depth === 0 && current) {
        yield { qname: current.qname, local: localOf(current.qname), start: current.start, end: gt + 1 };
        current = undefined;
      }
      i = gt + 1;
      continue;
    }
    const tag = readStartTag(text, lt);
    if (!tag) return;
    if (depth === 0) {
      if (tag.empty) yield { qname: tag.qname, local: localOf(tag.qname), start: lt, end: tag.tagEnd };
      else current = { qname: tag.qname, start: lt };
    }
    if (!tag.empty) depth++;
    i = tag.tagEnd;
  }
}
