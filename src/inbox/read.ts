/**
 * Reads a settled inbox file for the pipeline without following a symbolic link and
 * without blocking on a FIFO, and returns the identity of exactly what was read.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { sha256Of, type ReceivedFile } from '../pipeline/process-file.ts';
import { identityOf, type FileIdentity } from './settle.ts';

const CHUNK = 1024 * 1024;

export interface ReadCandidate {
  file: ReceivedFile;
  identity: FileIdentity;
}

/** undefined when the path is gone or is not a regular file. */
export async function readCandidate(file: string, fileName: string, licence: string, maxFileBytes: number, receivedAt: Date): Promise<ReadCandidate | undefined> {
  let h;
  try {
    h = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // ELOOP: the name is a symbolic link (O_NOFOLLOW); links are never followed.
    if (code === 'ENOENT' || code === 'ELOOP' || code === 'ENOTDIR' || code === 'ENXIO') return undefined;
    throw err;
  }
  try {
    const st = await h.stat();
    if (!st.isFile()) return undefined;
    const identity = identityOf(st);
    if (st.size > maxFileBytes) {
      // Too large to hold: only the fingerprint, for the E_FILE_TOO_LARGE result.
      const hash = createHash('sha256');
      const buf = Buffer.allocUnsafe(CHUNK);
      let size = 0;
      for (;;) {
        const { bytesRead } = await h.read(buf, 0, CHUNK, size);
        if (bytesRead === 0) break;
        hash.update(buf.subarray(0, bytesRead));
        size += bytesRead;
      }
      return { file: { sponsorLicenceNumber: licence, fileName, bytes: undefined, size, sha256: hash.digest('hex'), receivedAt }, identity };
    }
    const bytes = await h.readFile();
    return { file: { sponsorLicenceNumber: licence, fileName, bytes, size: bytes.length, sha256: sha256Of(bytes), receivedAt }, identity };
  } finally {
    await h.close();
  }
}
