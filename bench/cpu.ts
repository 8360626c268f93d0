/**
 * CPU time of processes, from /proc (Linux): where a drain's time goes, the service's
 * own process tree on one side and PostgreSQL's processes (its backends and writers) on
 * the other. Ticks of 10 ms: meaningful over hundreds of files, not one.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim() || 100);

/** CPU ms of the service's process tree (or a peer's process) and of PostgreSQL's processes. */
export interface CpuTimes {
  serviceMs: number;
  postgresMs: number;
}

interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  /** user + system CPU, in ms */
  cpuMs: number;
}

function statOf(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The name is in parentheses and may hold spaces: the fields after it are split.
  const close = text.lastIndexOf(')');
  const fields = text.slice(close + 2).split(' ');
  return {
    pid,
    comm: text.slice(text.indexOf('(') + 1, close),
    ppid: Number(fields[1]),
    // Its own time and its waited-for children's: a PostgreSQL backend that has exited is in the postmaster's.
    cpuMs: (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) * TICK_MS,
  };
}

function all(): ProcStat[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .flatMap((d) => statOf(Number(d)) ?? []);
}

/** CPU ms used so far by `root` and its descendants, and by every process called postgres. */
export function cpuSnapshot(root: number | undefined): CpuTimes {
  const procs = all();
  const tree = new Set(root === undefined ? [] : [root]);
  // Children are listed after their parents in most cases; a few passes settle the rest.
  for (let changed = true; changed;) {
    changed = false;
    for (const p of procs)
      if (tree.has(p.ppid) && !tree.has(p.pid)) {
        tree.add(p.pid);
        changed = true;
      }
  }
  let serviceMs = 0;
  let postgresMs = 0;
  for (const p of procs) {
    if (tree.has(p.pid)) serviceMs += p.cpuMs;
    else if (p.comm === 'postgres') postgresMs += p.cpuMs;
  }
  return { serviceMs, postgresMs };
}

/** CPU ms used by the service's tree and by PostgreSQL since `before` was taken. */
export function cpuSince(before: CpuTimes, root: number | undefined): CpuTimes {
  const now = cpuSnapshot(root);
  return { serviceMs: now.serviceMs - before.serviceMs, postgresMs: now.postgresMs - before.postgresMs };
}

/**
 * "service 4.1 + PostgreSQL 1.9 ms of CPU per file" from the CPU used over `files`; with
 * `embedded`, the store runs in the service's process and PostgreSQL is left out.
 */
export function cpuPerFile(used: CpuTimes, files: number, opts: { service?: string; embedded?: boolean } = {}): string {
  const per = (ms: number) => (ms / files).toFixed(1);
  const service = `${opts.service ?? 'service'} ${per(used.serviceMs)}`;
  if (opts.embedded) return `${service} ms of CPU per file (the embedded store's included)`;
  return `${service} + PostgreSQL ${per(used.postgresMs)} ms of CPU per file`;
}
