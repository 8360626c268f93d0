/** Writes a file under a temporary name, flushes it and links it into place, never overwriting. */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';

/** Flushes a directory entry change (a rename or link) to disk. */
export async function fsyncDir(dir: string): Promise<void> {
  const h = await open(dir, constants.O_RDONLY).catch(() => undefined);
  if (!h) return;
  try {
    await h.sync();
  } catch {
    // Some file systems refuse fsync on directories; the rename is still atomic.
  } finally {
    await h.close();
  }
}

async function sameContent(file: string, content: Buffer): Promise<boolean> {
  const existing = await readFile(file).catch(() => undefined);
  return existing !== undefined && existing.equals(content);
}

/**
 * Writes `content` to `dir/<first free name>`; `names` are tried in order. Returns the
 * path written. Existing files are never replaced: link(2) fails when the name is taken.
 * A candidate that already holds exactly this content is adopted instead of written
 * again (a write that completed before a crash is not repeated).
 */
export async function writeNewFile(dir: string, names: string[], text: string | Buffer): Promise<string> {
  const content = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  await mkdir(dir, { recursive: true });
  for (const name of names) {
    const target = path.join(dir, name);
    if (await sameContent(target, content)) return target;
  }
  const tmp = path.join(dir, `.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const h = await open(tmp, 'wx');
  try {
    await h.writeFile(content);
    await h.sync();
  } finally {
    await h.close();
  }
  try {
    for (const name of names) {
      const target = path.join(dir, name);
      try {
        await link(tmp, target);
        await fsyncDir(dir);
        return target;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    throw new Error(`every candidate name is taken in ${dir}: ${names.join(', ')}`);
  } finally {
    await unlink(tmp).catch(() => {});
  }
}
