/**
 * Reading a received file: its bytes (unless over the size limit, when only its sha256
 * is computed, streamed) and its fingerprint. One reader for `process` and the service.
 */
import { createHash } from 'node:crypto';
import { constants, createReadStream, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { allocOwned } from './file-bytes.ts';
import { timed } from '../timings.ts';

export interface ReceivedFile {
  /** The licence of the inbox the file came from, or `process --sponsor`. */
  sponsorLicenceNumber: string;
  /** How the sponsor was named: the file came from its inbox (the default), or a command's `--sponsor`. */
  via?: 'inbox' | 'sponsor-flag';
  /** The original file name, as received. */
  fileName: string;
  /** The bytes; undefined when the file was too large to read (see `size`). processFile lets them go once they are decoded. */
  bytes: Buffer | undefined;
  size: number;
  sha256: string;
  receivedAt: Date;
}

export const sha256Of = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/**
 * sha256 of a file's content, streamed so a large file is never held whole; with `size`,
 * of its first `size` bytes only (what was there when it was looked at).
 */
export async function sha256OfFile(file: string | FileHandle, size?: number): Promise<string> {
  const hash = createHash('sha256');
  if (size === 0) return hash.digest('hex');
  const range = size === undefined ? {} : { end: size - 1 };
  const stream =
    typeof file === 'string' ? createReadStream(file, { ...range }) : file.createReadStream({ start: 0, ...range, autoClose: false });
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Reads an open regular file; `st` is its stat, taken by the caller from the same handle. */
export async function readFromHandle(
  h: FileHandle,
  st: Stats,
  received: { fileName: string; sponsorLicenceNumber: string; receivedAt: Date },
  maxFileBytes: number,
): Promise<ReceivedFile> {
  if (st.size > maxFileBytes) {
    // Too large to hold: only the fingerprint, for the E_FILE_TOO_LARGE result.
    return { ...received, bytes: undefined, size: st.size, sha256: await sha256OfFile(h, st.size) };
  }
  const bytes = await timed('read', () => readExactly(h, st.size));
  return { ...received, bytes, size: bytes.length, sha256: timed('sha256', () => sha256Of(bytes)) };
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

/** For `cas-bdt process`: a file the operator named (a link to a file is followed). */
export async function readReceivedFile(
  file: string,
  sponsorLicenceNumber: string,
  maxFileBytes: number,
  receivedAt = new Date(),
): Promise<ReceivedFile> {
  // Non-blocking, so a FIFO given by mistake is refused below instead of hanging the open.
  const h = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = await h.stat();
    if (!st.isFile()) throw new Error(`${file} is not a regular file`);
    return {
      ...(await readFromHandle(h, st, { fileName: path.basename(file), sponsorLicenceNumber, receivedAt }, maxFileBytes)),
      via: 'sponsor-flag',
    };
  } finally {
    await h.close();
  }
}
