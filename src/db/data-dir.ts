/**
 * The embedded store's files are the whole database, passport numbers included: the data
 * directory is 0700 and everything in it 0600 (files) or 0700 (folders). The directory's
 * mode is the control (nobody else can even look inside); the files are tightened too
 * because PGlite's file system layer creates the cluster's files 0666 whatever the umask.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { CasBdtError } from '../errors.ts';

/** Creates the data directory 0700, or makes an existing one of ours 0700. */
export function prepareDataDir(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dataDir);
  if (!st.isDirectory()) throw new CasBdtError('data-dir', `the data directory ${dataDir} is not a directory`);
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
    throw new CasBdtError(
      'data-dir',
      `the data directory ${dataDir} belongs to another user; cas-bdt keeps its store only in a directory of its own user`,
    );
  }
  if ((st.mode & 0o777) !== 0o700) chmodSync(dataDir, 0o700);
}

/** Sets every file under `dir` to 0600 and every folder to 0700 (links are left alone, never followed). */
export function tightenTree(dir: string): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    try {
      if (e.isDirectory()) {
        if ((lstatSync(p).mode & 0o777) !== 0o700) chmodSync(p, 0o700);
        tightenTree(p);
      } else if (e.isFile() && (lstatSync(p).mode & 0o777) !== 0o600) {
        chmodSync(p, 0o600);
      }
    } catch {
      // Removed meanwhile (a WAL segment recycled): nothing to tighten.
    }
  }
}
