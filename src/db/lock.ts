/**
 * An exclusive lock on the embedded data directory, shared by all cas-bdt processes on
 * the machine. proper-lockfile refreshes the lock's mtime while held, so a lock left by a
 * killed process goes stale after `staleMs` and is taken over.
 */
import { writeFileSync } from 'node:fs';
import lockfile from 'proper-lockfile';

export interface Lock {
  release(): Promise<void>;
}

const STALE_MS = 5_000;
const RETRY_MS = 200;

export async function acquireLock(file: string, waitMs: number): Promise<Lock | undefined> {
  // proper-lockfile locks a path that must exist; the lock itself is `${file}.lock`.
  writeFileSync(file, `${process.pid}\n`, { flag: 'a' });
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const release = await lockfile.lock(file, {
        stale: STALE_MS,
        update: 1_000,
        realpath: false,
        onCompromised: () => {
          // Someone removed our lock (clock jump or a forced takeover): keep running; the
          // store itself stays consistent, and the next start will take the lock again.
        },
      });
      return { release: () => release().catch(() => {}) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
      if (Date.now() >= deadline) return undefined;
      await new Promise((r) => setTimeout(r, RETRY_MS));
    }
  }
}
