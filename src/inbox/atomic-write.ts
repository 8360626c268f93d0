/**
 * Writes a new file (a result, an export) without ever replacing one: under a temporary
 * name, flushed, then linked into place (link(2) fails when the name is taken). On a file
 * system without hard links (some SMB and FUSE mounts) an exclusive create is used
 * instead. Nothing existing is followed, and no existing file is read to decide whether
 * a name is free.
 */
import { constants } from 'node:fs';
import { link, lstat, mkdir, open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { entryAt } from './fd-path.ts';
import { FILE_MODE, FOLDER_MODE } from './layout.ts';
import { temporaryName } from './temporaries.ts';
import { SharedRuns } from '../shared-runs.ts';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_DIRECTORY } = constants;
/** A new file, never through a link (O_EXCL refuses any existing name, links included). */
export const CREATE_NEW = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;

const codeOf = (err: unknown) => (err as NodeJS.ErrnoException).code;

/** Characters of a string encoded at a time: a large result is written in pieces, never copied whole. */
const PIECE_CHARS = 1 << 20;

/** What is written: its length in bytes and its bytes in pieces, encoded as they are needed. */
interface Content {
  length: number;
  pieces(): Generator<Buffer>;
}

function contentOf(data: string | Buffer): Content {
  if (typeof data !== 'string') {
    return {
      length: data.length,
      *pieces() {
        yield data;
      },
    };
  }
  return {
    length: Buffer.byteLength(data, 'utf8'),
    *pieces() {
      for (let at = 0; at < data.length;) {
        let end = Math.min(data.length, at + PIECE_CHARS);
        // A surrogate pair is never split: each half alone would be encoded as U+FFFD.
        const last = data.charCodeAt(end - 1);
        if (end < data.length && last >= 0xd800 && last <= 0xdbff) end++;
        yield Buffer.from(data.slice(at, end), 'utf8');
        at = end;
      }
    },
  };
}

/**
 * The directory flushes by path, shared: a call made while one runs joins the next, which
 * starts once that one has ended (see SharedRuns). A group's files, linked and moved side
 * by side, share a flush of each folder instead of paying one each.
 */
const flushes = new SharedRuns(syncDir);

/** Flushes a directory entry change (a rename or link) to disk: once this settles, every change made before the call is durable. */
export function fsyncDir(dir: string): Promise<void> {
  return flushes.get(dir);
}

async function syncDir(dir: string): Promise<void> {
  const h = await open(dir, O_RDONLY | O_DIRECTORY).catch(() => undefined);
  if (!h) return;
  try {
    await h.sync();
  } catch {
    // Some file systems refuse fsync on directories; the link or rename is still atomic.
  } finally {
    await h.close();
  }
}

/** link(2) failures that mean "this file system has no hard links", not "name taken". */
export function linksUnsupported(err: unknown): boolean {
  const code = codeOf(err);
  return code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'EXDEV' || code === 'ENOSYS';
}

/**
 * Did a write that completed before a crash leave exactly `content` at `file`? Only a
 * regular file (lstat, never a link, FIFO or device) of exactly the content's length is
 * compared, so at most that many bytes are read and nothing can block.
 */
async function holdsExactly(file: string, content: Content): Promise<boolean> {
  const st = await lstat(file).catch(() => undefined);
  if (!st?.isFile() || st.size !== content.length) return false;
  const h = await open(file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK).catch(() => undefined);
  if (!h) return false;
  try {
    const now = await h.stat();
    if (!now.isFile() || now.ino !== st.ino || now.dev !== st.dev || now.size !== content.length) return false;
    let at = 0;
    for (const piece of content.pieces()) {
      const buf = Buffer.alloc(piece.length);
      let off = 0;
      while (off < buf.length) {
        const { bytesRead } = await h.read(buf, off, buf.length - off, at + off);
        if (bytesRead === 0) return false;
        off += bytesRead;
      }
      if (!buf.equals(piece)) return false;
      at += piece.length;
    }
    return true;
  } finally {
    await h.close();
  }
}

/** Creates `file` (it must not exist), writes and flushes `content`; on failure nothing is left. */
async function createDurably(file: string, content: Content): Promise<void> {
  const h = await open(file, CREATE_NEW, FILE_MODE);
  try {
    for (const piece of content.pieces()) await h.writeFile(piece);
    await h.sync();
    await h.close();
  } catch (err) {
    await h.close().catch(() => {});
    await unlink(file).catch(() => {});
    throw err;
  }
}

/**
 * Without hard links: the first free name in `names` is created exclusively and written.
 * A write that fails (disk full) removes the partial file. Returns the path written.
 */
export async function writeExclusive(dir: string, names: string[], data: string | Buffer): Promise<string> {
  const content = contentOf(data);
  for (const name of names) {
    const target = path.join(dir, name);
    try {
      await createDurably(target, content);
    } catch (err) {
      if (codeOf(err) !== 'EEXIST') throw err;
      if (await holdsExactly(target, content)) return target;
      continue;
    }
    await fsyncDir(dir);
    return target;
  }
  throw new Error(`every candidate name is taken in ${dir}: ${names.join(', ')}`);
}

/**
 * Writes `content` to `dir/<first free name>`; `names` are tried in order. Returns the
 * path written. A candidate that already holds exactly this content is adopted instead
 * of written again (a write that completed before a crash is not repeated), unless
 * `opts.adopt` is false: content that was never written before (a result just stored)
 * needs no look at every candidate. With `realDir` (where `dir` must really be), a file
 * that landed elsewhere because the folder was swapped for a link is removed at once
 * and the write fails.
 */
export async function writeNewFile(
  dir: string,
  names: string[],
  text: string | Buffer,
  realDir?: string,
  opts: { adopt?: boolean } = {},
): Promise<string> {
  return (await writeOrAdopt(dir, names, text, realDir, opts)).file;
}

/** `writeNewFile`, saying whether the file was written now or found already there with this content. */
export async function writeOrAdopt(
  dir: string,
  names: string[],
  text: string | Buffer,
  realDir?: string,
  opts: { adopt?: boolean } = {},
): Promise<{ file: string; adopted: boolean }> {
  const content = contentOf(text);
  await mkdir(dir, { recursive: true, mode: FOLDER_MODE });
  const found = (opts.adopt ?? true) ? await heldAlready(dir, names, content) : undefined;
  const written = found ?? (await writeFirstFree(dir, names, text, content));
  if (realDir !== undefined && !(await entryAt(written, path.join(realDir, path.basename(written))))) {
    await unlink(written);
    throw Object.assign(new Error(`${path.basename(written)} would have landed outside its folder (a folder was replaced by a link)`), {
      code: 'E_SPONSOR_FOLDERS',
    });
  }
  return { file: written, adopted: found !== undefined };
}

/** The first candidate that already holds exactly `content`, if any. */
async function heldAlready(dir: string, names: string[], content: Content): Promise<string | undefined> {
  // Every candidate is looked at (a hole before the one written may have opened since), at once.
  const held = await Promise.all(names.map((name) => holdsExactly(path.join(dir, name), content)));
  const at = held.indexOf(true);
  return at >= 0 ? path.join(dir, names[at]!) : undefined;
}

async function writeFirstFree(dir: string, names: string[], text: string | Buffer, content: Content): Promise<string> {
  const tmp = path.join(dir, temporaryName());
  try {
    await createDurably(tmp, content);
    for (const [i, name] of names.entries()) {
      const target = path.join(dir, name);
      try {
        await link(tmp, target);
        await fsyncDir(dir);
        return target;
      } catch (err) {
        if (linksUnsupported(err)) return await writeExclusive(dir, names.slice(i), text);
        if (codeOf(err) !== 'EEXIST') throw err;
        // Taken meanwhile by the same content (another finisher of the same submission): that one is ours.
        if (await holdsExactly(target, content)) return target;
      }
    }
    throw new Error(`every candidate name is taken in ${dir}: ${names.join(', ')}`);
  } finally {
    // Whatever happened (disk full, EIO, all names taken), no temporary file is left.
    await unlink(tmp).catch(() => {});
  }
}

/**
 * Writes `file` whole or not at all, replacing what is there (an operator's `--out`):
 * under a temporary name beside it, flushed, then renamed over it. Created FILE_MODE.
 * `syncDir: false` leaves flushing the folder to the caller (once after many files).
 */
export async function replaceFile(file: string, data: string | Buffer, opts: { syncDir?: boolean } = {}): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, temporaryName());
  try {
    await createDurably(tmp, contentOf(data));
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
  if (opts.syncDir ?? true) await fsyncDir(dir);
}
