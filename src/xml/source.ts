/**
 * A document's text, read a slice at a time. Offsets are byte offsets into the document's
 * body (after any byte-order mark), in UTF-8 or ISO-8859-1: every markup character is one
 * ASCII byte in both, so the safety pass finds spans in bytes and later steps decode only
 * the spans they read. Text comes back with XML's line ends (CR LF and a lone CR read as
 * LF, section 2.11); lines and columns are those of that text, a column counting the
 * UTF-16 code units of the decoded line, as a JavaScript string does.
 *
 * Two kinds: over a Buffer in memory, and over an open file. A file is read asynchronously,
 * a window at a time, never with a blocking read on the main thread (a file on a hung NFS
 * or sshfs server would stop the whole service): a reader first `load`s the byte range it
 * is about to look at, then reads it with the synchronous methods, or uses the async walks
 * (`lineColumnAt`, `offsetAt`, `lineTextAt`) that load as they go. Reading in order costs
 * one read per window. Each consumer that reads on its own schedule (the engine's
 * chunker, the record reader) takes its own `fork()`.
 */
import { read } from 'node:fs';
import { promisify } from 'node:util';

const readAt = promisify(read);

export type TextEncoding = 'utf8' | 'latin1';

const LF = 0x0a;
const CR = 0x0d;

/** Bytes read from a file at a time. */
const WINDOW_BYTES = 1 << 20;

interface Window {
  buf: Buffer;
  /** Offset of buf[0] in the body. */
  start: number;
}

/** Characters (UTF-16 code units) of bytes [from, to) of buf, line ends not looked at. */
function unitsIn(buf: Buffer, from: number, to: number, encoding: TextEncoding): number {
  if (encoding === 'latin1') return to - from;
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = buf[i]!;
    if ((c & 0xc0) !== 0x80) n += c >= 0xf0 ? 2 : 1;
  }
  return n;
}

export abstract class DocSource {
  private pos = 0;
  private line = 1;
  private lineStartAt = 0;
  /** Characters in [lineStartAt, pos). */
  private col = 0;
  /** pos is just past a CR (an LF there ends no line). */
  private afterCr = false;

  constructor(
    readonly byteLength: number,
    readonly encoding: TextEncoding,
  ) {}

  /** The window holding `pos` (0 <= pos < byteLength), loaded. */
  protected abstract window(pos: number): Window;

  /** Bytes an async walk loads at a time. */
  protected abstract readonly step: number;

  /**
   * Makes bytes [start, end) readable by the synchronous methods until the next `load` of
   * this reader (at once for a document in memory). One load at a time per reader.
   */
  abstract load(start: number, end: number): Promise<void>;

  /** A new reader of the same document, with windows and a line cursor of its own. */
  abstract fork(): DocSource;

  /** Bytes [start, end), in a buffer that may be shared: read it before the next call. */
  bytes(start: number, end: number): Buffer {
    end = Math.min(end, this.byteLength);
    if (end <= start) return Buffer.alloc(0);
    const w = this.window(start);
    if (end <= w.start + w.buf.length) return w.buf.subarray(start - w.start, end - w.start);
    const parts: Buffer[] = [];
    for (let at = start; at < end;) {
      const v = this.window(at);
      const to = Math.min(end, v.start + v.buf.length);
      parts.push(Buffer.from(v.buf.subarray(at - v.start, to - v.start)));
      at = to;
    }
    return Buffer.concat(parts);
  }

  /** The text of bytes [start, end), line ends normalised. */
  slice(start: number, end: number): string {
    return this.text(this.bytes(start, end));
  }

  /** The text of bytes of this document (from `bytes`), line ends normalised. */
  text(bytes: Buffer): string {
    const text = bytes.toString(this.encoding);
    return text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
  }

  private byteAt(pos: number): number | undefined {
    if (pos >= this.byteLength) return undefined;
    const w = this.window(pos);
    return w.buf[pos - w.start];
  }

  private reset(): void {
    this.pos = 0;
    this.line = 1;
    this.lineStartAt = 0;
    this.col = 0;
    this.afterCr = false;
  }

  /** Moves the line cursor forward to `to`. */
  private advance(to: number): void {
    to = Math.min(to, this.byteLength);
    while (this.pos < to) {
      const w = this.window(this.pos);
      const seg = w.buf.subarray(this.pos - w.start, Math.min(to, w.start + w.buf.length) - w.start);
      const base = this.pos;
      if (!this.afterCr && seg.indexOf(CR) === -1) {
        let last = -1;
        for (let nl = seg.indexOf(LF); nl !== -1; nl = seg.indexOf(LF, nl + 1)) {
          this.line++;
          last = nl;
        }
        if (last !== -1) {
          this.col = 0;
          this.lineStartAt = base + last + 1;
        }
        this.col += unitsIn(seg, last + 1, seg.length, this.encoding);
      } else {
        for (let k = 0; k < seg.length; k++) {
          const c = seg[k]!;
          if (c === LF && this.afterCr) {
            this.afterCr = false;
            this.lineStartAt = base + k + 1;
          } else if (c === LF || c === CR) {
            this.line++;
            this.col = 0;
            this.lineStartAt = base + k + 1;
            this.afterCr = c === CR;
          } else {
            this.afterCr = false;
            if (this.encoding === 'latin1') this.col++;
            else if ((c & 0xc0) !== 0x80) this.col += c >= 0xf0 ? 2 : 1;
          }
        }
      }
      this.pos = base + seg.length;
    }
  }

  /** Line and column (1-based) of a byte offset; cheapest for increasing offsets. */
  lineColumn(offset: number): { line: number; column: number } {
    if (offset < this.pos) this.reset();
    this.advance(offset);
    return { line: this.line, column: this.col + 1 };
  }

  /** The first CR or LF at or after `from` and before `limit`, or -1. */
  private nextBreak(from: number, limit = this.byteLength): number {
    for (let at = from; at < limit;) {
      const w = this.window(at);
      const seg = w.buf.subarray(at - w.start, Math.min(limit, w.start + w.buf.length) - w.start);
      const lf = seg.indexOf(LF);
      const cr = seg.subarray(0, lf === -1 ? seg.length : lf).indexOf(CR);
      const k = cr !== -1 ? cr : lf;
      if (k !== -1) return at + k;
      at += seg.length;
    }
    return -1;
  }

  /** Byte offset where `line` starts (the last line's start past the end); cheapest for increasing lines. */
  lineStart(line: number): number {
    if (line < this.line) this.reset();
    while (this.line < line) {
      const found = this.nextBreak(this.pos);
      if (found === -1) break;
      // An LF that completes a CR LF ends no line: the loop goes on to the next break.
      this.advance(found + 1);
      if (this.afterCr && this.byteAt(found + 1) === LF) this.advance(found + 2);
    }
    return this.lineStartAt;
  }

  private lastOffset: { line: number; column: number; at: number } | undefined;

  /**
   * Byte offset of the `column`th character of `line` (columns run on across line ends,
   * counting CR LF once); cheapest for increasing positions.
   */
  offsetOf(line: number, column: number): number {
    const last = this.lastOffset;
    let at: number;
    let units: number;
    if (last && last.line === line && last.column <= column) {
      at = last.at;
      units = column - last.column;
    } else {
      at = this.lineStart(line);
      units = column - 1;
    }
    const utf8 = this.encoding === 'utf8';
    while (units > 0 && at < this.byteLength) {
      const w = this.window(at);
      const b = w.buf;
      let k = at - w.start;
      while (units > 0 && k < b.length) {
        const c = b[k]!;
        if (c === CR) {
          // CR LF is one character, whichever window the LF is in.
          k++;
          units--;
          if (k < b.length) {
            if (b[k] === LF) k++;
          } else if (this.byteAt(w.start + k) === LF) {
            k++;
          }
          continue;
        }
        k++;
        if (!utf8 || c < 0x80) units--;
        else if ((c & 0xc0) !== 0x80) units -= c >= 0xf0 ? 2 : 1;
      }
      at = w.start + k;
      // Past the lead byte: over the continuation bytes of the same character.
      if (utf8) while (at < this.byteLength && ((this.byteAt(at) ?? 0) & 0xc0) === 0x80) at++;
    }
    this.lastOffset = { line, column, at };
    return at;
  }

  /** lineColumn, loading what the cursor walks over. */
  async lineColumnAt(offset: number): Promise<{ line: number; column: number }> {
    if (offset < this.pos) this.reset();
    const end = Math.min(offset, this.byteLength);
    while (this.pos < end) {
      const to = Math.min(end, this.pos + this.step);
      await this.load(this.pos, to);
      this.advance(to);
    }
    return this.lineColumn(offset);
  }

  /** Moves the line cursor to the start of `line` (the last line's start past the end), loading as it goes. */
  private async seekLine(line: number): Promise<number> {
    if (line < this.line) this.reset();
    while (this.line < line && this.pos < this.byteLength) {
      const limit = Math.min(this.byteLength, this.pos + this.step);
      // One byte more: the LF of a CR LF that ends the step.
      await this.load(this.pos, limit + 1);
      const found = this.nextBreak(this.pos, limit);
      if (found === -1) {
        this.advance(limit);
        continue;
      }
      this.advance(found + 1);
      if (this.afterCr && this.byteAt(found + 1) === LF) this.advance(found + 2);
    }
    return this.lineStartAt;
  }

  /** offsetOf, loading what it reads. */
  async offsetAt(line: number, column: number): Promise<number> {
    const last = this.lastOffset;
    const near = last && last.line === line && last.column <= column;
    const from = near ? last.at : await this.seekLine(line);
    // A character is at most 4 bytes (a CR LF 2), plus the continuation bytes after the last one.
    const units = column - (near ? last.column : 1);
    await this.load(from, Math.min(this.byteLength, from + 4 * units + 4));
    return this.offsetOf(line, column);
  }

  /** lineText, loading what it reads. */
  async lineTextAt(line: number, maxChars: number): Promise<string> {
    const from = await this.seekLine(line);
    await this.load(from, Math.min(this.byteLength, from + 4 * maxChars + 1));
    return this.lineText(line, maxChars);
  }

  /** The text of `line`, at most its first `maxChars` characters (the file read for no more than that). */
  lineText(line: number, maxChars: number): string {
    const from = this.lineStart(line);
    const limit = Math.min(this.byteLength, from + 4 * maxChars);
    const found = this.nextBreak(from, limit);
    let end = found === -1 ? limit : found;
    // Cut at a character's start.
    if (this.encoding === 'utf8') while (end > from && end < this.byteLength && ((this.byteAt(end) ?? 0) & 0xc0) === 0x80) end--;
    return this.bytes(from, end).toString(this.encoding).slice(0, maxChars);
  }
}

/** A document held in memory. */
export class MemorySource extends DocSource {
  private readonly whole: Window;

  constructor(
    private readonly buf: Buffer,
    encoding: TextEncoding,
  ) {
    super(buf.length, encoding);
    this.whole = { buf, start: 0 };
  }

  protected readonly step = Infinity;

  protected window(): Window {
    return this.whole;
  }

  load(): Promise<void> {
    return Promise.resolve();
  }

  fork(): DocSource {
    return new MemorySource(this.buf, this.encoding);
  }
}

/** The source of a string (tests, and callers that have text): its UTF-8 bytes. */
export const sourceOfText = (text: string): DocSource => new MemorySource(Buffer.from(text, 'utf8'), 'utf8');

/**
 * A document read from an open file: bytes [base, base + byteLength) of `fd`. The file
 * must not change while it is read (the pipeline proves it did not before it commits).
 */
export class FileSource extends DocSource {
  /** The windows of the last load that had to read, by index; a load that reads nothing keeps them all. */
  private windows = new Map<number, Window>();
  /** Buffers of windows let go, used again. */
  private spare: Buffer[] = [];

  constructor(
    private readonly fd: number,
    private readonly base: number,
    byteLength: number,
    encoding: TextEncoding,
    private readonly windowBytes: number = WINDOW_BYTES,
  ) {
    super(byteLength, encoding);
  }

  protected get step(): number {
    return this.windowBytes;
  }

  protected window(pos: number): Window {
    const w = this.windows.get(Math.floor(pos / this.windowBytes));
    // A bug: a caller read bytes it did not load first.
    if (!w) throw new Error(`byte ${pos} of the document was read before it was loaded`);
    return w;
  }

  async load(start: number, end: number): Promise<void> {
    end = Math.min(end, this.byteLength);
    if (end <= start) return;
    const first = Math.floor(start / this.windowBytes);
    const last = Math.floor((end - 1) / this.windowBytes);
    let missing = false;
    for (let k = first; k <= last && !missing; k++) missing = !this.windows.has(k);
    if (!missing) return;
    const kept = new Map<number, Window>();
    for (let k = first; k <= last; k++) {
      const w = this.windows.get(k);
      if (w) kept.set(k, w);
    }
    // Every window's buffer is a whole one of windowBytes (readWindow), at offset 0.
    for (const [k, w] of this.windows) if (!kept.has(k)) this.spare.push(Buffer.from(w.buf.buffer, 0, this.windowBytes));
    this.windows = kept;
    for (let k = first; k <= last; k++) if (!kept.has(k)) kept.set(k, await this.readWindow(k));
  }

  private async readWindow(k: number): Promise<Window> {
    const start = k * this.windowBytes;
    const length = Math.min(this.windowBytes, this.byteLength - start);
    const into = (this.spare.pop() ?? Buffer.allocUnsafeSlow(this.windowBytes)).subarray(0, length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await readAt(this.fd, into, got, length - got, this.base + start + got);
      if (bytesRead === 0) throw Object.assign(new Error('the file is shorter than when it was read'), { code: 'ESTALE' });
      got += bytesRead;
    }
    return { buf: into, start };
  }

  fork(): DocSource {
    return new FileSource(this.fd, this.base, this.byteLength, this.encoding, this.windowBytes);
  }
}
