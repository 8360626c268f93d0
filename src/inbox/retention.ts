/**
 * `--retain-days`: the hourly sweep removes what has been in archive/, rejected/ and
 * outbox/ longer than that. Only regular files directly in the folder, never through a
 * link: an entry that is a link, a folder or anything else stays, and with `realDir`
 * (where the folder must really be) a file is removed only once the system places it
 * there, so a folder swapped for a link meanwhile is not swept. The age counts from the
 * inode's change time, which the move or the write set: an input's own modification time
 * is the sponsor's (it may be years old) and says nothing of when it was archived.
 */
import { lstat, opendir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { entryAt } from './fd-path.ts';
import { TEMPORARY_NAME } from './temporaries.ts';

/** Removes the regular files in `dir` placed there more than `olderThanMs` ago; returns how many. */
export async function sweepRetained(dir: string, opts: { olderThanMs: number; nowMs?: number; realDir?: string }): Promise<number> {
  const now = opts.nowMs ?? Date.now();
  let removed = 0;
  for await (const d of await opendir(dir, { bufferSize: 256 })) {
    // A temporary belongs to a writer still at work, or to the temporaries' own sweep.
    if (!d.isFile() || TEMPORARY_NAME.test(d.name)) continue;
    const file = path.join(dir, d.name);
    const st = await lstat(file).catch(() => undefined);
    if (!st?.isFile() || now - Math.max(st.ctimeMs, st.mtimeMs) < opts.olderThanMs) continue;
    if (opts.realDir !== undefined && !(await entryAt(file, path.join(opts.realDir, d.name)))) continue;
    await unlink(file).then(
      () => removed++,
      (err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      },
    );
  }
  return removed;
}
