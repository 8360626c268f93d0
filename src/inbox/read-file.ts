/**
 * Reading a received file: its bytes (unless over the size limit, when only its sha256
 * is computed, streamed) and its fingerprint. One reader for `process` and the service.
 *
 * A large file (over LARGE_FILE_BYTES) is read and scanned once, then its bytes are let
 * go and the pipeline reads the slices it needs from the same open handle: the reader
 * leaves that handle open in `open`, and the caller closes it with `release` once the
 * file is done with. Read twice, the file must be proven unchanged before anything made
 * of it is committed (`verifyUnchanged`).
 */
import { createHash } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { allocOwned } from './file-bytes.ts';
import { timed } from '../timings.ts';

export interface ReceivedFile {
  /** The licence of the inbox the file came from, or `process --sponsor`. */
  sponsorLicenceNumber: string;
  /** How the sponsor was named: the file came from its inbox (the default), or a command's `--sponsor`. */
  via?: 'inbox' | 'sponsor-flag' | undefined;
  /** The original file name, as received. */
  fileName: string;
  /** The bytes; undefined when the file was too large to read (see `size`). processFile lets them go once they are decoded. */
  bytes: Buffer | undefined;
  size: number;
  sha256: string;
  receivedAt: Date;
  /** A large file's handle, left open for the pipeline to read from (see `release`). */
  open?: OpenFile;
}

export interface OpenFile {
  handle: FileHandle;
  /** The stat taken before the bytes were read. */
  stat: Stats;
}

/**
 * Files larger than this (32 MiB) are read from their open handle after the safety pass
 * instead of being held in memory: above it, the memory saved is worth a second read and
 * the proof that the file did not change; below it, a file is held as before (many small
 * files go fastest that way).
 */
export const LARGE_FILE_BYTES = 32 * 1024 * 1024;

export interface ReadOptions {
  /** Files over this many bytes keep their handle open (default LARGE_FILE_BYTES; tests lower it). */
  keepOpenAbove?: number;
}

/** Closes a large file's handle, if it was left open; idempotent. */
export async function release(file: ReceivedFile): Promise<void> {
  const open = file.open;
  if (!open) return;
  delete file.open;
  await open.handle.close();
}

/**
 * Throws (an environment fault, code ESTALE) unless the open file is still what was read:
 * same size, times and inode, and the same sha256 when read again. A file rewritten while
 * it was processed is retried later, never stored as a result made of two versions.
 */
export async function verifyUnchanged(file: ReceivedFile): Promise<void> {
  const open = file.open;
  if (!open) return;
  const now = await open.handle.stat();
  const was = open.stat;
  const same =
    now.size === was.size && now.mtimeMs === was.mtimeMs && now.ctimeMs === was.ctimeMs && now.ino === was.ino && now.dev === was.dev;
  if (!same || (await timed('sha256 again', () => sha256OfFile(open.handle, file.size))) !== file.sha256) {
    throw Object.assign(new Error('the file changed while it was being processed; it will be read again'), { code: 'ESTALE' });
  }
}

export const sha256Of = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/**
 * sha256 of an open file's content, read in pieces into one buffer (a large file is never
 * held whole, and no garbage is made); with `size`, of its first `size` bytes only (what
 * was there when it was looked at).
 */
export async function sha256OfFile(h: FileHandle, size = Infinity): Promise<string> {
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafeSlow(Math.max(1, Math.min(size, 1 << 20)));
  for (let at = 0; at < size;) {
    const { bytesRead } = await h.read(buf, 0, Math.min(buf.length, size - at), at);
    if (bytesRead === 0) break;
    hash.update(buf.subarray(0, bytesRead));
    at += bytesRead;
  }
  return hash.digest('hex');
}

/** Reads an open regular file; `st` is its stat, taken by the caller from the same handle. */
export async function readFromHandle(
  h: FileHandle,
  st: Stats,
  received: { fileName: string; sponsorLicenceNumber: string; receivedAt: Date },
  maxFileBytes: number,
  opts: ReadOptions = {},
): Promise<ReceivedFile> {
  if (st.size > maxFileBytes) {
    // Too large to hold: only the fingerprint, for the E_FILE_TOO_LARGE result.
    return { ...received, bytes: undefined, size: st.size, sha256: await sha256OfFile(h, st.size) };
  }
  const bytes = await timed('read', () => readExactly(h, st.size));
  const file: ReceivedFile = { ...received, bytes, size: bytes.length, sha256: timed('sha256', () => sha256Of(bytes)) };
  // A file that shrank while it was read is not read again: it is held as read.
  if (bytes.length > (opts.keepOpenAbove ?? LARGE_FILE_BYTES) && bytes.length === st.size) file.open = { handle: h, stat: st };
  return file;
}

/**
 * The first `size` bytes and never more: a file that grows after its stat (a writer
 * still at it, or one racing the limit) is not read past the size that was checked.
 * A file that shrank gives what is there.
 */
async function readExactly(h: FileHandle, size: number): Promise<Buffer> {
  const buf = allocOwned(size);
  let off = 0;
  while (off < size) {
    const { bytesRead } = await h.read(buf, off, size - off, off);
    if (bytesRead === 0) break;
    off += bytesRead;
  }
  return off === size ? buf : buf.subarray(0, off);
}

/**
 * For `cas-bdt process`: a file the operator named (a link to a file is followed). A large
 * file comes back with its handle open: `release` it once processed.
 */
export async function readReceivedFile(
  file: string,
  sponsorLicenceNumber: string,
  maxFileBytes: number,
  receivedAt = new Date(),
  opts: ReadOptions = {},
): Promise<ReceivedFile> {
  // Non-blocking, so a FIFO given by mistake is refused below instead of hanging the open.
  const h = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  let read: ReceivedFile | undefined;
  try {
    const st = await h.stat();
    if (!st.isFile()) throw new Error(`${file} is not a regular file`);
    read = await readFromHandle(h, st, { fileName: path.basename(file), sponsorLicenceNumber, receivedAt }, maxFileBytes, opts);
    return { ...read, via: 'sponsor-flag' };
  } finally {
    if (!read?.open) await h.close();
  }
}
