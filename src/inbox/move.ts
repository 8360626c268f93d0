/**
 * Moves a processed input to archive/ or rejected/ as `<UTC yyyymmddThhmmssZ>_<NAME>`,
 * never overwriting: a taken name gets a counter (`<stamp>.2_<NAME>`). Inputs are never
 * deleted. rename(2) is atomic, so after a crash the input is in exactly one place.
 */
import { chmod, lstat, mkdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { fsyncDir } from './atomic-write.ts';
import { utcStamp } from './layout.ts';

async function taken(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** The first free destination name for `name` in `dir`. */
export async function freeDestination(dir: string, name: string, now: Date): Promise<string> {
  await mkdir(dir, { recursive: true });
  const stamp = utcStamp(now);
  for (let n = 1; n < 10_000; n++) {
    const candidate = path.join(dir, n === 1 ? `${stamp}_${name}` : `${stamp}.${n}_${name}`);
    if (!(await taken(candidate))) return candidate;
  }
  throw new Error(`no free name for ${name} in ${dir}`);
}

/** Renames `from` to `to`, refusing to replace an existing `to`, and makes it durable. */
export async function moveNoClobber(from: string, to: string): Promise<void> {
  if (await taken(to)) throw Object.assign(new Error(`${to} already exists`), { code: 'EEXIST' });
  await rename(from, to);
  await restrictArchived(to);
  await fsyncDir(path.dirname(to));
  if (path.dirname(from) !== path.dirname(to)) await fsyncDir(path.dirname(from));
}

/**
 * An archived input is kept by cas-bdt (it holds personal data): like everything cas-bdt
 * creates, no access for other users and no writing for the group, whatever the sponsor's
 * upload client gave it. A narrower mode is kept.
 */
async function restrictArchived(file: string): Promise<void> {
  const st = await lstat(file);
  if (st.isFile() && (st.mode & 0o137) !== 0) await chmod(file, st.mode & 0o640);
}

export async function exists(file: string): Promise<boolean> {
  return taken(file);
}
