/**
 * Reads a settled inbox file for the pipeline without following a symbolic link and
 * without blocking on a FIFO, and returns the identity of exactly what was read.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import type { ReceivedFile } from '../pipeline/process-file.ts';
import { readFromHandle } from '../pipeline/read-file.ts';
import { identityOf, type FileIdentity } from './settle.ts';

export interface ReadCandidate {
  file: ReceivedFile;
  identity: FileIdentity;
}

/** undefined when the path is gone or is not a regular file. */
export async function readCandidate(file: string | Buffer, fileName: string, licence: string, maxFileBytes: number, receivedAt: Date): Promise<ReadCandidate | undefined> {
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
    return { file: await readFromHandle(h, st, { fileName, sponsorLicenceNumber: licence, receivedAt }, maxFileBytes), identity: identityOf(st) };
  } finally {
    await h.close();
  }
}
