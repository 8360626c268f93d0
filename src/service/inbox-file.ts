/**
 * Inbox file names as the file system gives them: bytes. Node hands out names as UTF-8
 * strings, which loses any byte that is not UTF-8 (the file can then be neither opened
 * nor moved), so the service lists inboxes as bytes and keeps, per file, the path to
 * open (a Buffer when the name is not UTF-8) and a display name that is always safe to
 * log, store and write in XML: bytes that are not UTF-8 and control characters are
 * escaped (`\xNN` a raw byte, `\u{H}` a character, `\\` a backslash). The escaping is
 * applied only to names the spec refuses (E_FILE_NAME), and it can be undone, so a
 * restart can find such a file again from its stored name.
 */
import path from 'node:path';

/** Longest accepted name in bytes: room for the archive stamp and result suffixes within 255. */
const MAX_NAME_BYTES = 200;

export interface InboxFile {
  /** The scheduler's key: the inbox path joined with the display name. */
  key: string;
  /** What to open, stat and rename. */
  fsPath: string | Buffer;
  /** The name as stored and shown (escaped when the name is refused). */
  name: string;
  /** Why the name is refused (the E_FILE_NAME message), if it is. */
  nameProblem?: string;
}

/** A control character (C0, DEL, C1): never allowed in a name. */
const isControl = (cp: number) => cp < 0x20 || (cp >= 0x7f && cp < 0xa0);
/** Characters that reorder or hide text on a terminal: allowed in a name, escaped when shown. */
const isInvisible = (cp: number) =>
  (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2069) || cp === 0xfeff || cp === 0x061c;

const hex2 = (b: number) => `\\x${b.toString(16).padStart(2, '0')}`;

/** Length of the valid UTF-8 sequence at `i`, or 0 when the byte there starts none. */
function sequenceAt(b: Buffer, i: number): { len: number; cp: number } {
  const lead = b[i]!;
  if (lead < 0x80) return { len: 1, cp: lead };
  const len = lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
  if (len === 0 || i + len > b.length) return { len: 0, cp: 0 };
  let cp = lead & (0xff >> (len + 1));
  for (let k = 1; k < len; k++) {
    const c = b[i + k]!;
    if ((c & 0xc0) !== 0x80) return { len: 0, cp: 0 };
    cp = (cp << 6) | (c & 0x3f);
  }
  // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
  const min = [0, 0, 0x80, 0x800, 0x10000][len]!;
  if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return { len: 0, cp: 0 };
  return { len, cp };
}

function inspectName(raw: Buffer): { utf8: boolean; control: boolean; escaped: string } {
  let utf8 = true;
  let control = false;
  let out = '';
  for (let i = 0; i < raw.length;) {
    const { len, cp } = sequenceAt(raw, i);
    if (len === 0) {
      utf8 = false;
      out += hex2(raw[i]!);
      i++;
      continue;
    }
    if (cp < 0x80 && isControl(cp)) {
      control = true;
      out += hex2(cp);
    } else if (isControl(cp)) {
      control = true;
      out += `\\u{${cp.toString(16)}}`;
    } else if (isInvisible(cp)) out += `\\u{${cp.toString(16)}}`;
    else if (cp === 0x5c) out += '\\\\';
    else out += String.fromCodePoint(cp);
    i += len;
  }
  return { utf8, control, escaped: out };
}

/** Why a raw name is refused (E_FILE_NAME), or undefined when it is a usable name. */
function nameProblem(raw: Buffer): string | undefined {
  const { utf8, control } = inspectName(raw);
  if (!utf8) return 'the file name is not valid UTF-8; rename the file using UTF-8';
  if (control) return 'the file name holds control characters; rename the file without them';
  if (raw.length > MAX_NAME_BYTES) return `the file name is ${raw.length} bytes long; the limit is ${MAX_NAME_BYTES} bytes`;
  return undefined;
}

/** A name made safe to show anywhere (logs, XML, tables); reversible with `nameBytes`. */
export function escapeName(raw: Buffer | string): string {
  return inspectName(typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw).escaped;
}

/** A name fit for a log line: refused names are escaped already, others may hold bidi controls. */
export const shownName = (f: InboxFile) => (f.nameProblem ? f.name : escapeName(f.name));

/**
 * An inbox file's name as a claim stores it, fit for a log line: a refused name was stored
 * escaped already (its bytes, unescaped, are what made it refused), any other is escaped here.
 */
export const shownClaimName = (stored: string) => (nameProblem(nameBytes(stored)) ? stored : escapeName(stored));

/** The bytes of an escaped name (the inverse of `escapeName`). */
export function nameBytes(escaped: string): Buffer {
  const parts: Buffer[] = [];
  const re = /\\x([0-9a-f]{2})|\\u\{([0-9a-f]+)\}|\\\\/g;
  let last = 0;
  for (let m = re.exec(escaped); m; m = re.exec(escaped)) {
    parts.push(Buffer.from(escaped.slice(last, m.index), 'utf8'));
    if (m[1]) parts.push(Buffer.from([parseInt(m[1], 16)]));
    else if (m[2]) parts.push(Buffer.from(String.fromCodePoint(parseInt(m[2], 16)), 'utf8'));
    else parts.push(Buffer.from('\\'));
    last = m.index + m[0].length;
  }
  parts.push(Buffer.from(escaped.slice(last), 'utf8'));
  return Buffer.concat(parts);
}

/** Printable ASCII: by far the common name, and one that needs no decoding (a full listing of a huge inbox stays cheap). */
function plainAscii(raw: Buffer): boolean {
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    if (b < 0x20 || b > 0x7e) return false;
  }
  return true;
}

/** One entry of `inbox` by its raw name. */
export function inboxFile(inbox: string, raw: Buffer): InboxFile {
  const problem = plainAscii(raw) && raw.length <= MAX_NAME_BYTES ? undefined : nameProblem(raw);
  if (!problem) {
    const fsPath = path.join(inbox, raw.toString('utf8'));
    return { key: fsPath, fsPath, name: raw.toString('utf8') };
  }
  const name = escapeName(raw);
  const fsPath = Buffer.concat([Buffer.from(inbox + path.sep, 'utf8'), raw]);
  return { key: path.join(inbox, name), fsPath, name, nameProblem: problem };
}

/** Where a stored file name is in `inbox`: refused names were stored escaped. */
export function inboxPathOf(inbox: string, storedName: string, escaped: boolean): string | Buffer {
  return escaped ? Buffer.concat([Buffer.from(inbox + path.sep, 'utf8'), nameBytes(storedName)]) : path.join(inbox, storedName);
}
