/**
 * Which inbox entries are candidates, and when a candidate has settled: its size and
 * modification time unchanged for the settle time (spec section 3).
 */
import type { Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';

/** Upload clients write under these names and rename at the end. */
const TEMPORARY_SUFFIXES = ['.part', '.filepart', '.partial', '.tmp', '~'];

export function isCandidateName(name: string): boolean {
  if (name === '' || name.startsWith('.')) return false;
  const lower = name.toLowerCase();
  return !TEMPORARY_SUFFIXES.some((s) => lower.endsWith(s));
}

/** What tells one version of a file from another without reading it. */
export interface FileIdentity {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
}

export function identityOf(s: Stats): FileIdentity {
  return { dev: s.dev, ino: s.ino, size: s.size, mtimeMs: s.mtimeMs };
}

export function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

/**
 * The identity of a regular file at `file` (never following a link); undefined when it
 * is gone or is not a regular file (directory, symbolic link, device, socket, FIFO).
 */
export async function regularFileIdentity(file: string | Buffer): Promise<FileIdentity | undefined> {
  try {
    const s = await lstat(file);
    return s.isFile() ? identityOf(s) : undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}
