/**
 * `--retain-days`: the hourly sweep removes what has been in archive/, rejected/ and
 * outbox/ longer than that. Only regular files directly in the folder, never through a
 * link: an entry that is a link, a folder or anything else stays, and with `realDir`
 * (where the folder must really be) a file is removed only once the system places it
 * there, so a folder swapped for a link meanwhile is not swept. The age counts from the
 * inode's change time, which the move or the write set: an input's own modification time
 * is the sponsor's (it may be years old) and says nothing of when it was archived.
 */
import { sweepFolder } from './sweep.ts';
import { TEMPORARY_NAME } from './temporaries.ts';

/** Removes the regular files in `dir` placed there more than `olderThanMs` ago; returns how many. */
export function sweepRetained(dir: string, opts: { olderThanMs: number; nowMs?: number; realDir?: string }): Promise<number> {
  const now = opts.nowMs ?? Date.now();
  return sweepFolder(dir, {
    // A temporary belongs to a writer still at work, or to the temporaries' own sweep.
    named: (name) => !TEMPORARY_NAME.test(name),
    expired: (_name, st) => now - Math.max(st.ctimeMs, st.mtimeMs) >= opts.olderThanMs,
    realDir: opts.realDir,
  });
}
