/**
 * An exclusive lock on the embedded data directory for the processes of this machine
 * (an embedded store is never shared across machines). The lock is a directory made with
 * mkdir(2), which is atomic, holding the owner's pid and process start time. It is stale
 * only when that process no longer exists, so a busy owner (a long synchronous stretch
 * blocks any timer) never loses it, and one killed with -9 is taken over at once.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';

export interface Lock {
  release(): Promise<void>;
}

const RETRY_MS = 100;
const ORPHAN_MS = 10_000;

function mtimeOf(dir: string): number {
  try {
    return statSync(dir).mtimeMs;
  } catch {
    return Date.now();
  }
}

interface Owner {
  pid: number;
  start: string;
}

/** The process's start time in clock ticks since boot (Linux), to tell a reused pid apart. */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function alive(owner: Owner): boolean {
  const start = startTimeOf(owner.pid);
  if (start !== undefined) return start === owner.start;
  // No /proc (not Linux): fall back to signalling the pid.
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(dir: string): string | undefined {
  try {
    return readFileSync(`${dir}/owner.json`, 'utf8');
  } catch {
    return undefined;
  }
}

function tryAcquire(dir: string, me: string): boolean {
  try {
    mkdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const text = readOwner(dir);
    let owner: Owner | undefined;
    try {
      owner = text ? (JSON.parse(text) as Owner) : undefined;
    } catch {
      owner = undefined;
    }
    // Without an owner file the holder may be between mkdir and writing it: wait, unless
    // it has been so for long (it died right there).
    if (owner ? alive(owner) : Date.now() - mtimeOf(dir) < ORPHAN_MS) return false;
    // Stale. Move it aside, then make sure what we moved is the stale lock we judged
    // (another process may have replaced it meanwhile); if not, put it back.
    const aside = `${dir}.stale-${randomBytes(4).toString('hex')}`;
    try {
      renameSync(dir, aside);
    } catch {
      return false;
    }
    if (readOwner(aside) !== text) {
      try {
        renameSync(aside, dir);
      } catch {
        // The directory was recreated meanwhile; the moved lock's owner will notice nothing
        // until it releases, and it releases only its own path.
      }
      return false;
    }
    rmSync(aside, { recursive: true, force: true });
    return tryAcquire(dir, me);
  }
  writeFileSync(`${dir}/owner.json`, me);
  return true;
}

/** Takes the lock `${file}.d`, waiting up to `waitMs`; undefined when another live process holds it. */
export async function acquireLock(file: string, waitMs: number): Promise<Lock | undefined> {
  const dir = `${file}.d`;
  const me = JSON.stringify({ pid: process.pid, start: startTimeOf(process.pid) ?? '' } satisfies Owner);
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (tryAcquire(dir, me)) {
      let released = false;
      return {
        release: async () => {
          if (released) return;
          released = true;
          if (readOwner(dir) === me) rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    if (Date.now() >= deadline) return undefined;
    await new Promise((r) => setTimeout(r, RETRY_MS));
  }
}
