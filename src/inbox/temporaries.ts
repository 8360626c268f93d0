/**
 * Temporary files of atomic writes (results, exports): their names, and the sweep that
 * removes those a killed writer left behind. A name carries its writer's PID and a tag
 * of where that PID means something (host, kernel boot, PID namespace): a temporary of a
 * writer that is gone on this host is removed at once; one from elsewhere (a shared
 * folder tree) only once it is older than anything still writing could be.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import os from 'node:os';
import { sweepFolder } from './sweep.ts';

const readOr = (f: () => string) => {
  try {
    return f().trim();
  } catch {
    return '';
  }
};

/** Where this process's PID is meaningful, as 8 hex digits. */
const HERE = createHash('sha256')
  .update(
    `${os.hostname()}\n${readOr(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8'))}\n${readOr(() => readlinkSync('/proc/self/ns/pid'))}`,
  )
  .digest('hex')
  .slice(0, 8);

/** `.<pid>.<where>.<random>.tmp` (the writer's PID, this process's by default): hidden, and an upload-in-progress name to every reader. */
export function temporaryName(pid = process.pid): string {
  return `.${pid}.${HERE}.${randomBytes(6).toString('hex')}.tmp`;
}

/** Ours, and those of earlier versions (`.<pid>.<random>.tmp`, judged by age alone). */
export const TEMPORARY_NAME = /^\.(\d+)\.(?:([0-9a-f]{8})\.)?[0-9a-f]{12}\.tmp$/;

function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Default age after which a temporary file from another host is left over (ms). */
const STALE_TEMPORARY_MS = 3_600_000;

/**
 * Removes the temporary files in `dir` whose writer is gone (on this host) or that are
 * older than `staleMs`; returns how many. Only regular files with a temporary's name.
 * With `realDir` (where `dir` must really be), a file is removed only once the system
 * places it there: a folder swapped for a link meanwhile is not swept.
 */
export function sweepTemporaries(dir: string, opts: { staleMs?: number; nowMs?: number; realDir?: string } = {}): Promise<number> {
  const staleMs = opts.staleMs ?? STALE_TEMPORARY_MS;
  const now = opts.nowMs ?? Date.now();
  return sweepFolder(dir, {
    named: (name) => TEMPORARY_NAME.test(name),
    expired: (name, st) => {
      const m = TEMPORARY_NAME.exec(name)!;
      const writerGone = m[2] === HERE && Number(m[1]) !== process.pid && gone(Number(m[1]));
      return writerGone || now - st.mtimeMs >= staleMs;
    },
    realDir: opts.realDir,
  });
}
