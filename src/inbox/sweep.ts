/**
 * The loop of the folder sweeps (retention, left-over temporaries): regular files directly
 * in a folder, never through a link, removed when chosen; one already gone is not an error.
 */
import type { Stats } from 'node:fs';
import { lstat, opendir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { entryAt } from './fd-path.ts';

interface SweepChoice {
  /** Whether a name is one to look at (its file is not even looked up otherwise). */
  named: (name: string) => boolean;
  /** Whether a regular file of such a name goes, from its lstat. */
  expired: (name: string, st: Stats) => boolean;
  /** Where the folder must really be: a file is removed only once the system places it there (a folder swapped for a link is not swept). */
  realDir?: string | undefined;
}

/** Removes the regular files in `dir` that `choice` picks; returns how many. */
export async function sweepFolder(dir: string, choice: SweepChoice): Promise<number> {
  let removed = 0;
  for await (const d of await opendir(dir, { bufferSize: 256 })) {
    if (!d.isFile() || !choice.named(d.name)) continue;
    const file = path.join(dir, d.name);
    const st = await lstat(file).catch(() => undefined);
    if (!st?.isFile() || !choice.expired(d.name, st)) continue;
    if (choice.realDir !== undefined && !(await entryAt(file, path.join(choice.realDir, d.name)))) continue;
    await unlink(file).then(
      () => removed++,
      (err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      },
    );
  }
  return removed;
}
