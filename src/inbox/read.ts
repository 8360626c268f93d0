/**
 * Reads a settled inbox file for the pipeline without following a symbolic link and
 * without blocking on a FIFO, and returns the identity of exactly what was read. A large
 * file comes back with its handle open (`file.open`): the caller releases it.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import type { ReadOptions, ReceivedFile } from './read-file.ts';
import { readFromHandle } from './read-file.ts';
import { openedAt } from './fd-path.ts';
import { identityOf, type FileIdentity } from './settle.ts';

export interface ReadCandidate {
  file: ReceivedFile;
  identity: FileIdentity;
}

/** Where `file` would be inside `folder` (as bytes when its name is not UTF-8). */
function inFolder(folder: string, file: string | Buffer): string | Buffer {
  if (typeof file === 'string') return path.join(folder, path.basename(file));
  return Buffer.concat([Buffer.from(`${folder}/`), file.subarray(file.lastIndexOf(0x2f) + 1)]);
}

/**
 * undefined when the path is gone, is not a regular file, or (with `realInbox`, the
 * inbox's expected real path) was reached through a folder swapped for a link.
 */
export async function readCandidate(
  file: string | Buffer,
  fileName: string,
  licence: string,
  maxFileBytes: number,
  receivedAt: Date,
  realInbox?: string,
  opts: ReadOptions = {},
): Promise<ReadCandidate | undefined> {
  let h;
  try {
    h = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // ELOOP: the name is a symbolic link (O_NOFOLLOW); links are never followed.
    if (code === 'ENOENT' || code === 'ELOOP' || code === 'ENOTDIR' || code === 'ENXIO') return undefined;
    throw err;
  }
  let read: ReceivedFile | undefined;
  try {
    const st = await h.stat();
    if (!st.isFile()) return undefined;
    if (realInbox !== undefined && !(await openedAt(h, inFolder(realInbox, file)))) return undefined;
    read = await readFromHandle(h, st, { fileName, sponsorLicenceNumber: licence, receivedAt }, maxFileBytes, opts);
    return { file: read, identity: identityOf(st) };
  } finally {
    // A large file's handle stays open for the pipeline (the caller releases it).
    if (!read?.open) await h.close();
  }
}
