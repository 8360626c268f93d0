/**
 * Moves a processed input to archive/ or rejected/ as `<UTC yyyymmddThhmmssZ>_<NAME>`,
 * never replacing anything there: the input is hard-linked to its new name (link(2)
 * fails when the name is taken), checked to be the very file that was processed
 * (dev/ino), and only then is its inbox name removed. Inputs are never deleted. On a
 * file system without hard links, or where the link is refused for this file or cannot
 * be checked (sshfs), the input is copied to an exclusively created name.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { link, lstat, mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { CREATE_NEW, fsyncDir, linksUnsupported } from './atomic-write.ts';
import { entryAt } from './fd-path.ts';
import { sha256OfFile } from './read-file.ts';
import { FILE_MODE, FOLDER_MODE, utcStamp } from './layout.ts';

/**
 * Which file was processed: a move of any other file is refused, and of the same file
 * rewritten in place since (a new upload under the same name: its size or modification
 * time differs, where they were given).
 */
interface Inode {
  dev: number;
  ino: number;
  size?: number;
  mtimeMs?: number;
}

/** `moved`, or `changed`: the file now at the inbox name is not the one processed; it is left there. */
type MoveOutcome = 'moved' | 'changed';

const codeOf = (err: unknown) => (err as NodeJS.ErrnoException).code;
/**
 * link(2) refused for this file, not for the folder: besides a file system without hard
 * links, the kernel's protected_hardlinks refuses to link a file the service may only
 * read (the sponsor's upload, EPERM), and an SFTP server doing the same answers EACCES
 * through sshfs. The copy that follows fails in its turn if the folder is the problem.
 */
const cannotLink = (err: unknown) => linksUnsupported(err) || codeOf(err) === 'EACCES';
const sameInode = (a: Inode, b: Inode) => a.dev === b.dev && a.ino === b.ino;
/** The file `expected` describes, unwritten since: the same inode, and its size and modification time when given. */
const sameFile = (st: Inode, expected: Inode) =>
  sameInode(st, expected) &&
  (expected.size === undefined || st.size === expected.size) &&
  (expected.mtimeMs === undefined || st.mtimeMs === expected.mtimeMs);

async function taken(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch (err) {
    if (codeOf(err) === 'ENOENT') return false;
    throw err;
  }
}

/** The first free destination name for `name` in `dir`. */
export async function freeDestination(dir: string, name: string, now: Date): Promise<string> {
  await mkdir(dir, { recursive: true, mode: FOLDER_MODE });
  const stamp = utcStamp(now);
  for (let n = 1; n < 10_000; n++) {
    const candidate = path.join(dir, n === 1 ? `${stamp}_${name}` : `${stamp}.${n}_${name}`);
    if (!(await taken(candidate))) return candidate;
  }
  throw new Error(`no free name for ${name} in ${dir}`);
}

/**
 * The hidden name in the inbox under which the input bound for `to` is taken aside: one
 * per destination, so that a restart after a crash finds it from the recorded move.
 */
export const asideName = (from: string, to: string) =>
  path.join(path.dirname(from), `.cas-bdt.${createHash('sha256').update(to).digest('hex').slice(0, 20)}.moving`);

/**
 * Removes the inbox name `from` of the file `moved` (bound for `to`), and nothing else:
 * the name is first renamed aside (atomic, so exactly one file is taken), and what was
 * taken is compared; a file swapped in meanwhile is put back under its name, never deleted.
 * False when what was taken is the moved file rewritten in place since `moved` was seen
 * (a new upload under the same name): it is put back too, and the move did not happen.
 */
async function removeInboxName(from: string, moved: Inode, to: string): Promise<boolean> {
  const aside = asideName(from, to);
  try {
    await rename(from, aside);
  } catch (err) {
    // Already gone from the inbox (taken by the sponsor): the input is where it belongs.
    if (codeOf(err) === 'ENOENT') return true;
    throw err;
  }
  const st = await lstat(aside);
  if (sameFile(st, moved)) {
    await unlink(aside);
    return true;
  }
  await putBack(aside, from);
  return !sameInode(st, moved);
}

/**
 * `to` made for a file rewritten in place while it was moved: removed, since it no longer
 * holds the bytes processed (a hard link shows the new ones; a copy may hold part of them).
 */
async function undoRewritten(to: string): Promise<MoveOutcome> {
  await unlink(to);
  await fsyncDir(path.dirname(to));
  return 'changed';
}

/** Puts a file taken aside by mistake back under its inbox name, never replacing one there. */
async function putBack(aside: string, from: string): Promise<void> {
  try {
    await link(aside, from);
    await unlink(aside);
  } catch (err) {
    if (cannotLink(err) && !(await taken(from))) return rename(aside, from);
    throw new Error(`${path.basename(from)} changed while it was moved; it is kept as ${path.basename(aside)}`, { cause: err });
  }
}

/** Archived files are not world-readable (spec section 7); the sponsor's own mode may be wider. */
export async function restrictMode(file: string): Promise<void> {
  const h = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => undefined);
  if (!h) return;
  try {
    if (((await h.stat()).mode & 0o7777) !== FILE_MODE) await h.chmod(FILE_MODE);
  } catch {
    // Not the owner (the sponsor's upload user): the 0750 folder still keeps others out.
  } finally {
    await h.close();
  }
}

/** Without hard links: copies the open input to `to`, created exclusively; on failure nothing is left at `to`. */
async function copyNew(src: FileHandle, to: string): Promise<void> {
  const dst = await open(to, CREATE_NEW, FILE_MODE);
  try {
    const buf = Buffer.alloc(1 << 20);
    for (let pos = 0; ;) {
      const { bytesRead } = await src.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      // A short write (the disk filling up) is continued, so that it fails loudly.
      for (let off = 0; off < bytesRead;) off += (await dst.write(buf, off, bytesRead - off, pos + off)).bytesWritten;
      pos += bytesRead;
    }
    await dst.sync();
    await dst.close();
  } catch (err) {
    await dst.close().catch(() => {});
    await unlink(to).catch(() => {});
    throw err;
  }
}

/** A destination reached through a folder swapped for a link is undone at once. */
async function undoIfElsewhere(to: string, realTo: string | undefined): Promise<void> {
  if (realTo === undefined || (await entryAt(to, realTo))) return;
  await unlink(to);
  throw Object.assign(new Error(`${path.basename(to)} would have landed outside its folder (a folder was replaced by a link)`), {
    code: 'E_SPONSOR_FOLDERS',
  });
}

/** The move on a file system without hard links (exported for its tests). */
export async function moveByCopy(from: string, to: string, expected: Inode | undefined, realTo: string | undefined): Promise<MoveOutcome> {
  let src: FileHandle;
  try {
    src = await open(from, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    if (codeOf(err) === 'ELOOP' || codeOf(err) === 'ENXIO') return 'changed';
    throw err;
  }
  let st;
  try {
    st = await src.stat();
    if (!st.isFile() || (expected && !sameFile(st, expected))) return 'changed';
    await copyNew(src, to);
  } finally {
    await src.close();
  }
  await undoIfElsewhere(to, realTo);
  await fsyncDir(path.dirname(to));
  if (!(await removeInboxName(from, st, to))) return undoRewritten(to);
  return 'moved';
}

/**
 * Moves `from` to `to` without ever replacing `to` (EEXIST when it is taken), if `from`
 * is still the regular file `expected` (when given); otherwise leaves it and returns
 * `changed`. With `realTo` (where `to` must really be), a destination reached through a
 * folder swapped for a link is undone and the move fails. Durable once it returns.
 */
export async function moveNoClobber(from: string, to: string, expected?: Inode, realTo?: string): Promise<MoveOutcome> {
  try {
    await link(from, to);
  } catch (err) {
    if (cannotLink(err)) return moveByCopy(from, to, expected, realTo);
    throw err;
  }
  // link(2) does not follow a link at `from`: `to` is exactly what was there. A link that
  // is not the file is removed before anything opens it: on a FUSE mount (sshfs) a name
  // unlinked just after a close can stay behind as a .fuse_hidden file.
  const st = await lstat(to);
  if (!st.isFile() || (expected && !sameFile(st, expected))) {
    await unlink(to);
    // FUSE file systems (sshfs) number each name on its own, a new hard link included:
    // when `from` is still the file, its link cannot show it, so it is copied instead.
    const now = st.isFile() && expected ? await lstat(from).catch(() => undefined) : undefined;
    if (now?.isFile() && expected && sameFile(now, expected)) return moveByCopy(from, to, expected, realTo);
    return 'changed';
  }
  await undoIfElsewhere(to, realTo);
  await restrictMode(to);
  await fsyncDir(path.dirname(to));
  if (!(await removeInboxName(from, st, to))) return undoRewritten(to);
  await fsyncDir(path.dirname(from));
  return 'moved';
}

/** Do two regular files hold the same bytes? (After a move by copy, the two are different inodes.) */
async function sameContent(a: string, b: string): Promise<boolean> {
  const open1 = (f: string) => open(f, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => undefined);
  const [ha, hb] = await Promise.all([open1(a), open1(b)]);
  try {
    if (!ha || !hb) return false;
    const [sa, sb] = await Promise.all([ha.stat(), hb.stat()]);
    if (!sa.isFile() || !sb.isFile() || sa.size !== sb.size) return false;
    return (await sha256OfFile(ha, sa.size)) === (await sha256OfFile(hb, sb.size));
  } finally {
    await Promise.all([ha?.close(), hb?.close()]);
  }
}

/**
 * After a crash during the removal of the inbox name, the input may still have that name
 * or the hidden one it was taken aside under: removes it if it is the file at `movedTo`
 * (the same inode, or the same bytes after a move by copy). A file taken aside that is
 * not the moved one goes back to its inbox name; anything else there is a new drop and stays.
 */
export async function completeMove(from: string, movedTo: string): Promise<void> {
  const b = await lstat(movedTo).catch(() => undefined);
  if (!b) return;
  const aside = asideName(from, movedTo);
  const c = await lstat(aside).catch(() => undefined);
  if (c?.isFile()) {
    if (sameInode(c, b) || (await sameContent(aside, movedTo))) await unlink(aside);
    else await putBack(aside, from);
  }
  const a = await lstat(from).catch(() => undefined);
  if (a && a.isFile() && sameInode(a, b)) await removeInboxName(from, b, movedTo);
}

export async function exists(file: string): Promise<boolean> {
  return taken(file);
}
