/**
 * Reading a received file: its bytes (unless over the size limit, when only its sha256
 * is computed, streamed) and its fingerprint. One reader for `process` and the service.
 */
import { createHash } from 'node:crypto';
import { constants, createReadStream, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { sha256Of, type ReceivedFile } from './process-file.ts';

/** sha256 of a file's content, streamed so a large file is never held whole. */
export async function sha256OfFile(file: string | FileHandle): Promise<string> {
  const hash = createHash('sha256');
  const stream = typeof file === 'string' ? createReadStream(file) : file.createReadStream({ start: 0, autoClose: false });
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
    return { ...received, bytes: undefined, size: st.size, sha256: await sha256OfFile(h) };
  }
  const bytes = await h.readFile();
  return { ...received, bytes, size: bytes.length, sha256: sha256Of(bytes) };
}

/** For `cas-bdt process`: a file the operator named (a link to a file is followed). */
export async function readReceivedFile(file: string, sponsorLicenceNumber: string, maxFileBytes: number, receivedAt = new Date()): Promise<ReceivedFile> {
  // Non-blocking, so a FIFO given by mistake is refused below instead of hanging the open.
  const h = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = await h.stat();
    if (!st.isFile()) throw new Error(`${file} is not a regular file`);
    return await readFromHandle(h, st, { fileName: path.basename(file), sponsorLicenceNumber, receivedAt }, maxFileBytes);
  } finally {
    await h.close();
  }
}
