/**
 * Schema violations as a sponsor's IT team can act on them. The engine (libxml2) says
 * `Element '{namespace}FamilyName': [facet 'pattern'] The value 'Wałęsa' is not accepted
 * by the pattern '[ -~ -ÿ]+'` (with an invisible U+00A0 in the pattern), sometimes twice
 * for one fault; each E_SCHEMA entry here says instead where (the field's path from the
 * record, `CAS[3]/ApplicantData/FamilyName`, and the record's ApplicantID), what is wrong
 * and what is allowed, once, naming a character outside the Home Office set with its code
 * point and suggesting a spelling that passes. Verdicts never change here: only words.
 */
import anyAscii from 'any-ascii';
import type { FileError } from '../domain/types.ts';
import type { ScannedDocument } from './safety.ts';
import { localName, position, type ElementSpan } from './scan.ts';
import { sourceOfText, type DocSource } from './source.ts';
import { unescapeXml } from './xml-safe.ts';

/** What the engine reported (xsd.ts's XsdViolation). */
interface Violation {
  line?: number;
  column?: number;
  message: string;
}

/** Characters allowed by the Home Office's text types, as predicates on one code point. */
const printableLatin1 = (c: number) => (c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c <= 0xff);
const ADDRESS_CHARS = /^[A-Za-z0-9 ~!@%()*+,\-./:;=?^_{}&']$/;

interface CharSet {
  allows: (ch: string) => boolean;
  words: string;
}

/** The text patterns of bdt-common.xsd, as the engine quotes them. */
const CHAR_SETS: Record<string, CharSet> = {
  '[ -~\u00a0-\u00ff]+': {
    allows: (ch) => printableLatin1(ch.codePointAt(0)!),
    words: 'printable ISO-8859-1 (Latin-1) characters (é, ü or ñ are fine; tabs, line breaks and letters beyond Latin-1 are not)',
  },
  '[ -~\u00a0-\u00ff\\s]+': {
    allows: (ch) => printableLatin1(ch.codePointAt(0)!) || /^[\t\n\r]$/.test(ch),
    words: 'printable ISO-8859-1 (Latin-1) characters and line breaks',
  },
  "[A-Za-z0-9 ~!@%()\\*\\+,-./:;=?^_\\{\\}&']+": {
    allows: (ch) => ADDRESS_CHARS.test(ch),
    words:
      "letters A-Z without accents, digits, spaces and ~ ! @ % ( ) * + , - . / : ; = ? ^ _ { } & ' (address fields take no accented letters)",
  },
};

/** The other patterns of the project's schemas, in words. */
const PATTERN_WORDS: Record<string, string> = {
  '[A-Za-z0-9]{1}[A-Za-z0-9 _\\.\\-]+': 'a letter or digit, then letters, digits, spaces, _ . or -',
  '[A-Z0-9]{8}[0-9X]{1}': 'a sponsor licence number: 8 capital letters or digits, then a digit or X',
  '(E(4[CG])[0-9][A-Z]{2}[0-9][A-Z][0-9]{2}[A-Z][0-9][A-Z][0-9X])': 'a CAS number: 14 characters starting E4G or E4C',
  'E4[CG][0-9][A-Z]{2}[0-9][A-Z][0-9]{2}[A-Z][0-9][A-Z][0-9X]': 'a CAS number: 14 characters starting E4G or E4C',
  '1': '1 (male) or 2 (female)',
  '2': '1 (male) or 2 (female)',
  '[A-Z]{3}': 'a three-letter country code in capitals, such as GBR',
  '[A-Z]{3}|"STATELESS"': 'a three-letter country code in capitals, such as GBR, or "STATELESS" with its quotes',
  '1[A-Za-z0-9]{9}': 'a UCAS or UKPASS id: 1 followed by 9 letters or digits',
  '[0-9]{4}-[0-9]{2}-[0-9]{2}': 'a date written YYYY-MM-DD, without a time zone',
  '[0-9]{4}-[0-9]{2}': 'a year and month written YYYY-MM, without a time zone',
  '[0-9]{4}': 'a year written YYYY, without a time zone',
};

const UK_POST_CODE = 'a UK post code with one space before its last three characters, such as LE1 7RH';

const TYPE_WORDS: Record<string, string> = {
  'xs:date': 'a date written YYYY-MM-DD',
  'xs:boolean': 'true or false',
  'xs:decimal': 'a number such as 1234.50',
  'xs:integer': 'a whole number',
  'xs:int': 'a whole number',
  'xs:byte': 'a whole number',
  'xs:short': 'a whole number',
  'xs:long': 'a whole number',
  'xs:positiveInteger': 'a whole number above 0',
  'xs:nonNegativeInteger': 'a whole number, 0 or more',
  'xs:gYear': 'a year written YYYY',
  'xs:gYearMonth': 'a year and month written YYYY-MM',
};

/** Characters a reader cannot see (controls, spaces that look like none, bidi and zero-width marks). */
const INVISIBLE = /[\u0000-\u001f\u007f-\u00a0\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/** `U+0141 'Ł'`; an invisible character by its code point alone. */
export function codePoint(ch: string): string {
  const hex = ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
  INVISIBLE.lastIndex = 0;
  return `U+${hex}${INVISIBLE.test(ch) ? '' : ` '${ch}'`}`;
}

/** A value as quoted in a message: invisible characters written as code points, long ones cut. */
export function shown(value: string): string {
  const cut = [...value].length > 80 ? `${[...value].slice(0, 77).join('')}...` : value;
  return `'${cut.replace(INVISIBLE, (ch) => `<${codePoint(ch)}>`)}'`;
}

/** `value` with each character outside `set` replaced by its transliteration (any-ascii), kept only where it passes. */
function suggestSpelling(value: string, set: CharSet): string {
  let out = '';
  for (const ch of value) {
    if (set.allows(ch)) out += ch;
    else if (/\s/.test(ch)) out += ' ';
    else for (const a of anyAscii(ch)) if (set.allows(a)) out += a;
  }
  return out.replace(/ {2,}/g, ' ').trim();
}

/**
 * For a text of the multi-line Latin-1 type (a CAS note) with characters outside it: what
 * to write instead of each (the first five distinct ones), as the schema messages suggest
 * a spelling: `; write ' instead of U+2019 '’'`. Empty when there is nothing to suggest.
 */
export function latin1Replacements(value: string): string {
  const set = CHAR_SETS['[ -~\u00a0-\u00ff\\s]+']!;
  const bad = [...new Set([...value].filter((ch) => !set.allows(ch)))].slice(0, 5);
  const fixes = bad.flatMap((ch) => {
    const fix = suggestSpelling(ch, set);
    return fix ? [`${fix} instead of ${codePoint(ch)}`] : [];
  });
  return fixes.length ? `; write ${fixes.join(', ')}` : '';
}

/**
 * Bytes of a UTF-8 file read as ISO-8859-1 (the file declares it): the value's characters
 * taken as bytes are valid UTF-8 with at least one character of two bytes or more.
 */
function asUtf8(value: string): string | undefined {
  if (!/[\u00c2-\u00f4][\u0080-\u00bf]/.test(value) || /[^\u0000-\u00ff]/.test(value)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(value, 'latin1'));
  } catch {
    return undefined;
  }
}

function charactersSentence(field: string, value: string, set: CharSet, encoding: string | undefined): string {
  const misread = encoding === 'ISO-8859-1' ? asUtf8(value) : undefined;
  if (misread !== undefined) {
    const fix = suggestSpelling(misread, set);
    return (
      `the file declares encoding ISO-8859-1 but is written in UTF-8: its bytes read as ISO-8859-1 give ${shown(value)} ` +
      `where ${shown(misread)} was meant; declare encoding="UTF-8" in the XML declaration or save the file as ISO-8859-1` +
      (fix !== misread && fix !== '' ? ` (the Home Office set then needs ${shown(fix)})` : '')
    );
  }
  const bad = [...new Set([...value].filter((ch) => !set.allows(ch)))];
  if (bad.length === 0) return `${field} ${shown(value)} is not allowed: it may hold only ${set.words}`;
  const named = bad.slice(0, 5).map(codePoint).join(', ') + (bad.length > 5 ? ` and ${bad.length - 5} more` : '');
  const fix = suggestSpelling(value, set);
  const suggestion = fix !== '' && fix !== value ? `; write it as ${shown(fix)}` : '';
  return `${field} ${shown(value)} has ${bad.length === 1 ? 'a character' : 'characters'} outside the Home Office set: ${named}. It may hold only ${set.words}${suggestion}`;
}

const listOf = (names: string) => {
  const all = names.split(',').map((n) => n.trim().replace(/^\{[^}]*\}/, ''));
  return all.length === 1 ? all[0]! : `one of ${all.join(', ')}`;
};

/** One plain sentence for what the engine said about `field` (its local name). */
function sentence(field: string, attribute: string | undefined, body: string, encoding: string | undefined): string {
  let m: RegExpExecArray | null;
  if ((m = /^\[facet 'pattern'\] The value '(.*)' is not accepted by the pattern '(.*)'\.$/s.exec(body))) {
    const [, value, pattern] = m as unknown as [string, string, string];
    const set = CHAR_SETS[pattern];
    if (set) return charactersSentence(field, value, set, encoding);
    const words = PATTERN_WORDS[pattern] ?? (pattern.startsWith('([Gg][Ii][Rr] 0[Aa]{2})') ? UK_POST_CODE : undefined);
    return `${field} ${shown(value)} is not in the form required${words ? `: ${words}` : ''}`;
  }
  if (
    (m =
      /^\[facet '(maxLength|minLength|length)'\] The value has a length of '(\d+)'; this (?:exceeds|underruns|differs from) the allowed (?:maximum |minimum )?length of '(\d+)'\.$/s.exec(
        body,
      ))
  ) {
    const [, facet, has, limit] = m as unknown as [string, string, string, string];
    if (has === '0') return `${field} is empty; it needs a value`;
    if (facet === 'maxLength') return `${field} is ${has} characters long; at most ${limit} are allowed`;
    if (facet === 'minLength') return `${field} is ${has} characters long; at least ${limit} are needed`;
    return `${field} is ${has} characters long; it must be exactly ${limit}`;
  }
  if ((m = /^\[facet 'enumeration'\] The value '(.*)' is not an element of the set \{(.*)\}\.$/s.exec(body))) {
    return `${field} ${shown(m[1]!)} is not one of the values allowed: ${m[2]!.replace(/'/g, '')}`;
  }
  if ((m = /^\[facet 'fractionDigits'\] The value '(.*)' has more fractional digits than are allowed \('(\d+)'\)\.$/s.exec(body))) {
    return `${field} ${shown(m[1]!)} has too many decimal places; at most ${m[2]} ${m[2] === '1' ? 'is' : 'are'} allowed`;
  }
  if ((m = /^\[facet 'totalDigits'\] The value '(.*)' has more digits than are allowed \('(\d+)'\)\.$/s.exec(body))) {
    return `${field} ${shown(m[1]!)} has too many digits; at most ${m[2]} are allowed`;
  }
  if (
    (m =
      /^\[facet '(min|max)Inclusive'\] The value '(.*)' is (?:less|greater) than the (?:minimum|maximum) value allowed \('(.*)'\)\.$/s.exec(
        body,
      ))
  ) {
    return `${field} ${shown(m[2]!)} is ${m[1] === 'min' ? 'below the smallest' : 'above the largest'} value allowed, ${m[3]}`;
  }
  if ((m = /^\[facet '(min|max)Exclusive'\] The value '(.*)' must be (?:greater|less) than '(.*)'\.$/s.exec(body))) {
    return `${field} ${shown(m[2]!)} must be ${m[1] === 'min' ? 'above' : 'below'} ${m[3]}`;
  }
  if ((m = /^'(.*)' is not a valid value of the (?:local )?(?:atomic|union|list) type(?: '([^']*)')?\.$/s.exec(body))) {
    const type = m[2]?.replace(/^\{[^}]*\}/, '');
    const words = type ? (TYPE_WORDS[type] ?? `a valid ${type}`) : undefined;
    return `${field} ${shown(m[1]!)} is not valid${words ? `: it must be ${words}` : ''}`;
  }
  if ((m = /^This element is not expected\.(?: Expected is (?:one of )?\( (.*) \)\.)?$/s.exec(body))) {
    return m[1]
      ? `${field} is not expected here: ${listOf(m[1])} must come at this place (missing, misspelt or out of order)`
      : `${field} is not expected here: nothing more (or nothing of this name) may come at this place`;
  }
  if ((m = /^Missing child element\(s\)\. Expected is (?:one of )?\( (.*) \)\.$/s.exec(body))) {
    return `${field} is incomplete: ${listOf(m[1]!)} is missing`;
  }
  if (attribute !== undefined && /^The attribute '.*' is not allowed\.$/s.test(body))
    return `${field} may not have an attribute ${attribute}`;
  if (attribute !== undefined && /is required but missing\.$/s.test(body)) return `${field} needs the attribute ${attribute}`;
  if (/^Character content other than whitespace is not allowed/.test(body)) return `${field} holds text, but may hold only other elements`;
  if (/^Element content is not allowed, because the content type is a simple type\.$/.test(body))
    return `${field} holds elements, but may hold only a value`;
  // Anything else: the engine's words without namespaces, invisible characters made visible.
  return `${field}${attribute ? `, attribute ${attribute}` : ''}: ${shown(body.replace(/\{[^{}]*\}(?=\w)/g, '')).slice(1, -1)}`;
}

const TAG =
  /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<\?[\s\S]*?\?>|<(\/?)([A-Za-z_][\w.:-]*)(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*(\/?)>/y;

/** The name of a start tag at a given offset (its attributes, however many, are not read). */
const START_AT = /<([A-Za-z_][\w.:-]*)/y;

/** A value's text, trimmed: `[^<]*` rather than a lazy match, so that no value makes the search quadratic. */
const valueIn = (body: string, name: string) =>
  unescapeXml(new RegExp(`<(?:[\\w.-]+:)?${name}>([^<]*)</`).exec(body)?.[1]?.trim() ?? '') || undefined;

/**
 * Where a violation is: the field's path from the record and the record's id. Violations
 * come in document order, so the tags of a record are read forward once, from where the
 * last look stopped: a file's cost stays linear however many violations one record has.
 */
class Locator {
  private ordinals: number[] | undefined;
  private child = -1;
  /** The current child's text, and where in it the tags were last read to. */
  private body = '';
  private pos = 0;
  /** A byte offset in the current child and its offset in `body`, for counting forward. */
  private fromByte = 0;
  private fromChar = 0;
  private last = 0;
  private stack: string[] = [];
  private ids: { applicantId?: string | undefined; casNumber?: string | undefined } = {};

  constructor(
    private readonly source: DocSource,
    private readonly doc: ScannedDocument,
  ) {}

  /** Each child's 1-based position among the root's children of its name. */
  private ordinal(i: number): number {
    if (!this.ordinals) {
      const seen = new Map<string, number>();
      this.ordinals = this.doc.children.map((c) => {
        const n = (seen.get(c.local) ?? 0) + 1;
        seen.set(c.local, n);
        return n;
      });
    }
    return this.ordinals[i]!;
  }

  /** The names of the elements open at byte `offset` inside child `i` (the element starting there included). */
  private openAt(i: number, span: ElementSpan, offset: number): string[] {
    if (i !== this.child || offset < this.last) {
      this.child = i;
      this.pos = 0;
      this.stack = [];
      this.body = this.source.slice(span.start, span.end);
      this.fromByte = span.start;
      this.fromChar = 0;
      const applicantId = valueIn(this.body, 'ApplicantID');
      const casNumber = span.local === 'CAS' ? undefined : valueIn(this.body, 'CASNumber');
      this.ids = { applicantId, casNumber };
    }
    this.last = offset;
    const body = this.body;
    const at = this.fromChar + this.source.slice(this.fromByte, offset).length;
    this.fromByte = offset;
    this.fromChar = at;
    // Each tag before the offset is read once; none after it (it may be long) is read at all.
    for (let lt = body.indexOf('<', this.pos); lt !== -1 && lt < at; lt = body.indexOf('<', this.pos)) {
      TAG.lastIndex = lt;
      const m = TAG.exec(body);
      this.pos = m ? TAG.lastIndex : lt + 1;
      const name = m?.[2];
      if (name === undefined) continue;
      if (m![1]) this.stack.pop();
      else if (!m![3]) this.stack.push(localName(name));
    }
    const names = [...this.stack];
    START_AT.lastIndex = at;
    const here = START_AT.exec(body)?.[1];
    if (here !== undefined) names.push(localName(here));
    return names;
  }

  async locate(offset: number): Promise<{ path: string; applicantId?: string | undefined; casNumber?: string | undefined }> {
    const { children, root } = this.doc;
    let lo = 0;
    let hi = children.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const c = children[mid]!;
      if (offset < c.start) hi = mid - 1;
      else if (offset >= c.end) lo = mid + 1;
      else {
        // What openAt reads: the whole child when it starts on one, else from where it stopped.
        const fresh = mid !== this.child || offset < this.last;
        await this.source.load(fresh ? c.start : this.fromByte, fresh ? c.end : offset);
        const names = this.openAt(mid, c, offset);
        const repeated = children.length > 1 && mid > 0;
        names[0] = repeated ? `${c.local}[${this.ordinal(mid)}]` : c.local;
        return { path: names.join('/'), ...this.ids };
      }
    }
    return { path: root.local };
  }
}

const HEAD = /^Element '(?:\{[^}]*\})?([^']+)'(?:, attribute '(?:\{[^}]*\})?([^']+)')?: (.*)$/s;

/** A fault the engine reports twice (a value refused by a facet and then by its type, or by two facets) is listed once. */
const valueFault = (body: string) => /^\[facet '|^'.*' is not a valid value of /s.test(body);

interface ReadableOptions {
  /** The encoding the file declared (ISO-8859-1 text read from UTF-8 bytes is recognised). */
  encoding?: string;
}

/** The engine's violations as E_SCHEMA entries: path, record, one sentence; duplicates dropped. */
export async function readableSchemaErrors(
  violations: Violation[],
  input: string | DocSource,
  doc: ScannedDocument,
  opts: ReadableOptions = {},
): Promise<FileError[]> {
  const source = typeof input === 'string' ? sourceOfText(input) : input.fork();
  const locator = new Locator(source, doc);
  const seen = new Set<string>();
  const out: FileError[] = [];
  for (const v of violations) {
    const head = HEAD.exec(v.message);
    if (!head) {
      out.push({ code: 'E_SCHEMA', message: sentence('the document', undefined, v.message, opts.encoding), ...position(v) });
      continue;
    }
    const [, field, attribute, body] = head as unknown as [string, string, string | undefined, string];
    if (valueFault(body)) {
      const key = `${v.line}:${v.column}:${field}`;
      if (seen.has(key)) continue;
      seen.add(key);
    }
    const where =
      v.line !== undefined && v.column !== undefined ? await locator.locate(await source.offsetAt(v.line, v.column)) : undefined;
    const record =
      where?.applicantId !== undefined
        ? ` (ApplicantID ${shown(where.applicantId).slice(1, -1)})`
        : where?.casNumber !== undefined
          ? ` (CASNumber ${shown(where.casNumber).slice(1, -1)})`
          : '';
    const prefix = where ? `${where.path}${record}: ` : '';
    out.push({
      code: 'E_SCHEMA',
      message: prefix + sentence(field, attribute, body, opts.encoding),
      ...position(v),
      ...(where ? { field: where.path } : {}),
      ...(where?.applicantId !== undefined ? { applicantId: where.applicantId } : {}),
    });
  }
  return out;
}
