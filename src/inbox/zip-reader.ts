/**
 * Reading a received zip (spec section 4a) without ever extracting it to disk: the
 * central directory is read with yauzl, every entry's name is checked here (never
 * trusted), and each entry is inflated as a stream with its limits counted on the
 * bytes that actually come out, never on sizes from headers. A first pass inflates and
 * discards (size, CRC and sha256 only), so a zip bomb costs time bounded by the limits
 * and no memory; only an entry that passed is inflated again into memory, one at a time.
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import yauzl from 'yauzl';
import { escapeControls } from '../escape.ts';
import { coerceError } from '../errors.ts';
import { collectNow } from '../heap-nudge.ts';

/** A zip local-file header: what makes a file a container, whatever its name. */
export const isZip = (bytes: Buffer | undefined): boolean =>
  bytes !== undefined && bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;

/** True when a zip has no end-of-central-directory record yet (a writer may still be at it). */
export function zipLooksUnfinished(bytes: Buffer): boolean {
  // The record is 22 bytes plus a comment of at most 65,535.
  const tail = bytes.subarray(Math.max(0, bytes.length - 22 - 0xffff));
  return tail.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06])) < 0;
}

/** Inflated bytes discarded between two garbage collections in the first pass (16 MiB). */
const DISCARDED_BEFORE_COLLECTING = 16 * 1024 * 1024;

/** More entries than this -> E_ZIP_LIMIT. */
const MAX_ZIP_ENTRIES = 1000;
/** An entry that expands to more than this many times its compressed size is refused. */
const MAX_ZIP_RATIO = 200;

interface ZipLimits {
  /** Largest inflated entry, and largest total of all inflated entries (bytes: --max-file-mb). */
  maxBytes: number;
}

/** One entry as the central directory lists it, with what the checks found. */
export interface ScannedEntry {
  /** The entry's name, control characters escaped: safe to show and to write in XML. */
  name: string;
  /** Why the entry is refused (the E_ZIP_ENTRY message), when it is. */
  problem?: string;
  size?: number;
  sha256?: string;
  /** yauzl's entry, to inflate again (only for entries without a problem). */
  entry?: yauzl.Entry;
}

type ContainerScan =
  | { ok: false; code: 'E_ZIP_CORRUPT' | 'E_ZIP_EMPTY' | 'E_ZIP_LIMIT'; message: string }
  | { ok: true; entries: ScannedEntry[]; zip: yauzl.ZipFile };

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

/** An entry-level refusal found while inflating (E_ZIP_ENTRY), or a container limit (E_ZIP_LIMIT). */
class Refusal extends Error {
  constructor(
    message: string,
    readonly container = false,
  ) {
    super(message);
  }
}

/** yauzl's own decoding (CP437 or UTF-8, Info-ZIP Unicode path fields), without its checks: ours follow. */
const decodeName = (yauzl as unknown as { getFileNameLowLevel(flags: number, raw: Buffer, extra: unknown, strict: boolean): string })
  .getFileNameLowLevel;

const isControl = (cp: number) => cp < 0x20 || (cp >= 0x7f && cp < 0xa0);

/** The rules for an entry's name (spec section 4a); `seen` holds the names so far, lower case. */
function nameProblem(name: string, raw: Buffer, seen: Set<string>): string | undefined {
  if (name.length === 0) return 'the entry has no name';
  if ([...name].some((ch) => isControl(ch.codePointAt(0)!)) || raw.includes(0)) return 'the name holds control characters';
  if (/^[A-Za-z]:/.test(name)) return 'the name starts with a drive letter';
  if (name.includes('/') || name.includes('\\')) return 'the name holds a path; put the file at the top of the zip';
  if (name.includes('..')) return 'the name holds ".."';
  if (seen.has(name.toLowerCase())) return 'the name repeats an earlier entry';
  if (/\.zip$/i.test(name)) return 'the entry is a nested zip; put its files in the outer zip';
  if (!/\.xml$/i.test(name)) return 'the entry is not an .xml file';
  return undefined;
}

/** Refusals that the central directory alone shows (before any byte is inflated). */
function headerProblem(entry: yauzl.Entry, limits: ZipLimits): string | undefined {
  if ((entry.generalPurposeBitFlag & 0x1) !== 0) return 'the entry is encrypted; send it unencrypted';
  const made = entry.versionMadeBy >> 8;
  const mode = (entry.externalFileAttributes >>> 16) & 0o170000;
  if ((made === 3 || made === 19) && mode === 0o120000) return 'the entry is a link';
  if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8)
    return `the entry is compressed with method ${entry.compressionMethod}; only stored and deflate are accepted`;
  // A header may not be trusted for what it allows, but what it claims is enough to refuse.
  if (entry.uncompressedSize > limits.maxBytes)
    return `the entry expands to ${mb(entry.uncompressedSize)}; the limit is ${mb(limits.maxBytes)}`;
  if (entry.uncompressedSize > MAX_ZIP_RATIO * Math.max(entry.compressedSize, 1))
    return `the entry expands to more than ${MAX_ZIP_RATIO} times its compressed size`;
  return undefined;
}

function openZip(bytes: Buffer): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(bytes, { lazyEntries: true, decodeStrings: false, validateEntrySizes: true, strictFileNames: true }, (err, zip) =>
      err || !zip ? reject(err ?? new Error('no zip')) : resolve(zip),
    );
  });
}

/** The next entry, or undefined at the end; rejects when the central directory is corrupt. */
function nextEntry(zip: yauzl.ZipFile): Promise<yauzl.Entry | undefined> {
  return new Promise((resolve, reject) => {
    const done = () => {
      zip.off('entry', onEntry);
      zip.off('end', onEnd);
      zip.off('error', onError);
    };
    const onEntry = (e: yauzl.Entry) => (done(), resolve(e));
    const onEnd = () => (done(), resolve(undefined));
    const onError = (err: Error) => (done(), reject(err));
    zip.on('entry', onEntry);
    zip.on('end', onEnd);
    zip.on('error', onError);
    zip.readEntry();
  });
}

/**
 * Inflates one entry, counting and checking as the bytes come; `keep` collects them.
 * `spent`: the bytes inflated so far from all entries, refused ones too, so that the
 * whole zip costs at most the limit in inflating, however many entries fail late.
 */
async function inflate(
  zip: yauzl.ZipFile,
  entry: yauzl.Entry,
  limits: ZipLimits,
  spent: { bytes: number; sinceCollected?: number },
  keep: boolean,
): Promise<{ size: number; sha256: string; bytes: Buffer | undefined }> {
  const stream = await new Promise<NodeJS.ReadableStream & { destroy(): void }>((resolve, reject) =>
    zip.openReadStream(entry, (err, s) =>
      err || !s ? reject(new Refusal(`the entry cannot be read: ${err?.message ?? 'no data'}`)) : resolve(s),
    ),
  );
  const ratioLimit = MAX_ZIP_RATIO * Math.max(entry.compressedSize, 1);
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  let size = 0;
  let crc = 0;
  let head = Buffer.alloc(0);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      spent.bytes += chunk.length;
      // Discarded chunks are memory outside the heap, which V8 lets pile up (tens of MB)
      // before it collects: a bomb inflated to its limit would cost that much.
      spent.sinceCollected = (spent.sinceCollected ?? 0) + chunk.length;
      if (!keep && spent.sinceCollected > DISCARDED_BEFORE_COLLECTING) {
        spent.sinceCollected = 0;
        collectNow();
      }
      if (size > limits.maxBytes) throw new Refusal(`the entry expands beyond ${mb(limits.maxBytes)}, the limit`);
      if (size > ratioLimit) throw new Refusal(`the entry expands to more than ${MAX_ZIP_RATIO} times its compressed size`);
      if (spent.bytes > limits.maxBytes) throw new Refusal(`the zip expands beyond ${mb(limits.maxBytes)} in total, the limit`, true);
      if (head.length < 4) head = Buffer.concat([head, chunk.subarray(0, 4)]).subarray(0, 4);
      crc = crc32(chunk, crc);
      hash.update(chunk);
      if (keep) chunks.push(chunk);
    }
  } catch (err) {
    stream.destroy();
    if (err instanceof Refusal) throw err;
    // yauzl's size check (a header that under- or over-states the size) or zlib's verdict.
    const message = coerceError(err).message;
    throw new Refusal(
      /too many bytes|too few bytes|expected \d+|size/i.test(message)
        ? 'the entry inflates to another size than its headers state'
        : `the entry's data is corrupt (${message.slice(0, 120)})`,
    );
  }
  if (size !== entry.uncompressedSize) throw new Refusal('the entry inflates to another size than its headers state');
  if (crc >>> 0 !== entry.crc32 >>> 0) throw new Refusal('the entry inflates to another CRC than its headers state');
  if (isZip(head)) throw new Refusal('the entry is a nested zip; put its files in the outer zip');
  return { size, sha256: hash.digest('hex'), bytes: keep ? Buffer.concat(chunks, size) : undefined };
}

/** Reads the central directory and checks every entry (first pass: nothing is kept). */
export async function scanContainer(bytes: Buffer, limits: ZipLimits): Promise<ContainerScan> {
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(bytes);
  } catch (err) {
    return { ok: false, code: 'E_ZIP_CORRUPT', message: `the file is not a readable zip: ${coerceError(err).message.slice(0, 200)}` };
  }
  if (zip.entryCount > MAX_ZIP_ENTRIES)
    return { ok: false, code: 'E_ZIP_LIMIT', message: `the zip holds ${zip.entryCount} entries; the limit is ${MAX_ZIP_ENTRIES}` };
  const entries: ScannedEntry[] = [];
  const seen = new Set<string>();
  const spent = { bytes: 0 };
  let anyXml = false;
  try {
    for (let entry = await nextEntry(zip); entry; entry = await nextEntry(zip)) {
      const raw = entry.fileName as unknown as Buffer;
      const decoded = decodeName(entry.generalPurposeBitFlag, raw, entry.extraFields, true);
      const name = escapeControls(decoded);
      if (/\.xml$/i.test(decoded)) anyXml = true;
      const problem = nameProblem(decoded, raw, seen) ?? headerProblem(entry, limits);
      seen.add(decoded.toLowerCase());
      if (problem) {
        entries.push({ name, problem });
        continue;
      }
      try {
        const got = await inflate(zip, entry, limits, spent, false);
        entries.push({ name, size: got.size, sha256: got.sha256, entry });
      } catch (err) {
        if (!(err instanceof Refusal)) throw err;
        if (err.container) return { ok: false, code: 'E_ZIP_LIMIT', message: err.message };
        entries.push({ name, problem: err.message });
      }
    }
  } catch (err) {
    zip.close();
    return { ok: false, code: 'E_ZIP_CORRUPT', message: `the zip is corrupt: ${coerceError(err).message.slice(0, 200)}` };
  }
  if (!anyXml) {
    zip.close();
    return { ok: false, code: 'E_ZIP_EMPTY', message: 'the zip holds no .xml file' };
  }
  return { ok: true, entries, zip };
}

/**
 * Second pass: one checked entry's bytes, inflated again with the same checks. The
 * zip is read from memory, so they are the bytes the first pass saw; proven by sha256.
 */
export async function readEntry(zip: yauzl.ZipFile, scanned: ScannedEntry, limits: ZipLimits): Promise<Buffer> {
  if (!scanned.entry) throw new Error(`entry ${scanned.name} was refused`);
  const got = await inflate(zip, scanned.entry, limits, { bytes: 0 }, true);
  if (got.sha256 !== scanned.sha256) throw new Error(`entry ${scanned.name} changed between two reads`);
  return got.bytes!;
}
