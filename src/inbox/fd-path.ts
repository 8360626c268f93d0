/**
 * Where an open file really is. Node has no openat(2), so a path is resolved again at
 * every call and a folder swapped for a link between a check and the call is followed;
 * on Linux the kernel says where an open file actually lives (/proc/self/fd), which
 * closes that gap for reads and verifies links and creates after the fact.
 */
import { constants } from 'node:fs';
import { open, readlink, realpath, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

/** The real path of an open file, or undefined where the system does not say. */
async function pathOfOpen(h: FileHandle): Promise<string | undefined> {
  try {
    return await readlink(`/proc/self/fd/${h.fd}`);
  } catch {
    return undefined;
  }
}

/** False only when the open file is known to live somewhere other than `expected` (bytes, for a name that is not UTF-8). */
export async function openedAt(h: FileHandle, expected: string | Buffer): Promise<boolean> {
  if (typeof expected === 'string') {
    const actual = await pathOfOpen(h);
    return actual === undefined || actual === expected;
  }
  const actual = await readlink(`/proc/self/fd/${h.fd}`, { encoding: 'buffer' }).catch(() => undefined);
  return actual === undefined || actual.equals(expected);
}

/** False when the entry just made at `file` (never following a link) is known to live elsewhere than `expected`. */
export async function entryAt(file: string, expected: string): Promise<boolean> {
  const h = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => undefined);
  if (!h) return false;
  try {
    return await openedAt(h, expected);
  } finally {
    await h.close();
  }
}

/** `<real root>/<LICENCE>/<folder>`: where a sponsor's folder must really be. */
export async function realSponsorDir(root: string, licence: string, folder: string): Promise<string> {
  return path.join(await realpath(root), licence, folder);
}
