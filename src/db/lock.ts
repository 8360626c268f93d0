/**
 * An exclusive lock on the embedded data directory. Node has no flock/fcntl without native
 * code, and a PID says nothing across PID namespaces (two containers sharing the data
 * volume each see the other's PID as dead), so the lock is a directory made with mkdir(2),
 * which is atomic, holding `owner.json`: a random token, the PID and its start time, and
 * where that PID means something (host name, kernel boot id, PID namespace).
 *
 * Liveness:
 * - Same host, boot and PID namespace: the PID decides (with its start time, so a reused
 *   PID is not mistaken for the owner). A busy owner whose timers are held up never loses
 *   the lock; one killed with -9 is taken over at once.
 * - Anywhere else (another container, another machine, or a lock file without those
 *   fields' match): the owner touches `owner.json` every `heartbeatMs`; the lock is taken
 *   over only when that heartbeat is older than `staleMs`. `staleMs` is several heartbeats
 *   and much more than clock skew between hosts sharing a volume.
 * The owner checks its token at every heartbeat; if another process took the lock (the
 * owner was frozen for longer than `staleMs`), `onLost` is called so it stops writing.
 * Only another owner's file, read whole, proves that: a read that fails (out of
 * descriptors, EIO) is a fault of the moment, logged and tried again at the next beat,
 * and a lock that stays gone (removed by hand) is made again.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';

/** The embedded store is open in another live process. */
export interface Lock {
  release(): Promise<void>;
}

interface LockOptions {
  /** How long to wait for another holder (ms). */
  waitMs: number;
  /** Period of the owner's heartbeat (default 2000 ms). */
  heartbeatMs?: number;
  /** A heartbeat older than this frees the lock of an owner elsewhere (default 30000 ms). */
  staleMs?: number;
  /** Called once if the owner finds its lock taken by another process. */
  onLost?: () => void;
  /** Told of a heartbeat that could not read or touch the lock (default: one line on stderr per run of faults). */
  onFault?: (message: string) => void;
}

const RETRY_MS = 100;
/** A lock directory without an owner file this old was left by a process that died in between. */
const ORPHAN_MS = 10_000;

interface Owner {
  token?: string;
  pid: number;
  start: string;
  host?: string;
  boot?: string;
  pidns?: string;
}

const readOr = (read: () => string, fallback = ''): string => {
  try {
    return read().trim();
  } catch {
    return fallback;
  }
};

/** Where a PID is meaningful: this host, this boot of its kernel, this PID namespace. */
function here(): Required<Pick<Owner, 'host' | 'boot' | 'pidns'>> {
  return {
    host: os.hostname(),
    boot: readOr(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8')),
    pidns: readOr(() => readlinkSync('/proc/self/ns/pid')),
  };
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

function pidAlive(owner: Owner): boolean {
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

function mtimeOf(file: string): number | undefined {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

function alive(owner: Owner, ownerFile: string, staleMs: number): boolean {
  const h = here();
  // A lock written before these fields existed was always written on this machine.
  const local = owner.host === undefined || (owner.host === h.host && owner.boot === h.boot && owner.pidns === h.pidns);
  if (local) return pidAlive(owner);
  const beat = mtimeOf(ownerFile);
  return beat !== undefined && Date.now() - beat < staleMs;
}

function readOwner(dir: string): string | undefined {
  const r = readOwnerFile(dir);
  return 'text' in r ? r.text : undefined;
}

/** The owner file's text, or why it could not be read: gone (ENOENT), or a fault (anything else). */
function readOwnerFile(dir: string): { text: string } | { gone: true } | { fault: string } {
  try {
    return { text: readFileSync(`${dir}/owner.json`, 'utf8') };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? { gone: true } : { fault: code ?? String(err) };
  }
}

function tryAcquire(dir: string, me: string, staleMs: number): boolean {
  try {
    mkdirSync(dir, { mode: 0o700 });
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
    if (owner ? alive(owner, `${dir}/owner.json`, staleMs) : Date.now() - (mtimeOf(dir) ?? Date.now()) < ORPHAN_MS) return false;
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
        // The directory was recreated meanwhile; the moved lock's owner finds out at its
        // next heartbeat, and it releases only its own path.
      }
      return false;
    }
    rmSync(aside, { recursive: true, force: true });
    return tryAcquire(dir, me, staleMs);
  }
  writeFileSync(`${dir}/owner.json`, me, { mode: 0o600 });
  return true;
}

/** Takes the lock `${file}.d`, waiting up to `waitMs`; undefined when another live process holds it. */
export async function acquireLock(file: string, options: number | LockOptions): Promise<Lock | undefined> {
  const opts: LockOptions = typeof options === 'number' ? { waitMs: options } : options;
  const staleMs = opts.staleMs ?? 30_000;
  const heartbeatMs = opts.heartbeatMs ?? 2000;
  const dir = `${file}.d`;
  const ownerFile = `${dir}/owner.json`;
  const me = JSON.stringify({
    token: randomBytes(16).toString('hex'),
    pid: process.pid,
    start: startTimeOf(process.pid) ?? '',
    ...here(),
  } satisfies Owner);
  const deadline = Date.now() + opts.waitMs;
  while (!tryAcquire(dir, me, staleMs)) {
    if (Date.now() >= deadline) return undefined;
    await new Promise((r) => setTimeout(r, RETRY_MS));
  }
  let released = false;
  let gone = 0;
  let faulty = false;
  const fault =
    opts.onFault ?? ((message: string) => void process.stderr.write(`cas-bdt: the embedded store's lock: ${message}; carrying on\n`));
  const beat = setInterval(() => {
    const r = readOwnerFile(dir);
    if ('fault' in r) {
      // Out of descriptors, an I/O error: says nothing about who owns the lock.
      if (!faulty) fault(`its heartbeat cannot read ${ownerFile} (${r.fault}); trying again every ${heartbeatMs} ms`);
      faulty = true;
      return;
    }
    if (faulty) fault('its heartbeat reads the lock again');
    faulty = false;
    if ('text' in r) {
      gone = 0;
      if (r.text !== me) {
        // Another process's owner file, read whole: it took the lock.
        clearInterval(beat);
        if (!released) opts.onLost?.();
        return;
      }
      const now = new Date();
      try {
        utimesSync(ownerFile, now, now);
      } catch {
        // Checked again at the next beat.
      }
      return;
    }
    // Gone for a moment while a waiter moves a lock aside to look at it and puts it back;
    // gone for several beats: removed, and nobody holds it. Made again (if another process
    // made it meanwhile, the next beat reads its file).
    if (++gone < 3) return;
    try {
      mkdirSync(dir, { mode: 0o700 });
      writeFileSync(ownerFile, me, { mode: 0o600 });
      fault(`${dir} had been removed; made again`);
      gone = 0;
    } catch {
      // EEXIST (someone else's, read at the next beat) or a fault: tried again.
    }
  }, heartbeatMs);
  // The lock never keeps a process alive on its own.
  beat.unref();
  return {
    release: async () => {
      if (released) return;
      released = true;
      clearInterval(beat);
      if (readOwner(dir) === me) rmSync(dir, { recursive: true, force: true });
    },
  };
}
