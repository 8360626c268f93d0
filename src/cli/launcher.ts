/**
 * `npx cas-bdt watch` is three processes: npm, the shell npm starts, and node. A SIGTERM
 * to npm is passed on to the shell, which dies without telling node: the service would go
 * on holding the store, and the next start would be refused. So when cas-bdt was started
 * by npm, the service watches its launcher: once the shell or npm is gone, it stops as on
 * SIGTERM. Started any other way (a shell, nohup, systemd) it outlives its parent, as a
 * service should; a closed terminal stays a SIGHUP, which never stops it.
 */
import { readFileSync } from 'node:fs';

/** The parent PID of `pid` from /proc (Linux), or undefined when it cannot be read. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) ? ppid : undefined;
  } catch {
    return undefined;
  }
}

/** True when npm (npx, npm exec, npm run) started this process: npm sets these in its children's environment. */
function startedByNpm(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.npm_execpath || env.npm_command || env.npm_lifecycle_event);
}

/**
 * Calls `onGone` once when the process that started this one (and, when that is npm's
 * shell, npm itself) is gone. Returns a function that stops watching. Does nothing unless
 * started by npm.
 */
export function watchLauncher(env: NodeJS.ProcessEnv, onGone: () => void, intervalMs = 500): () => void {
  if (!startedByNpm(env)) return () => {};
  const parent = process.ppid;
  // Between npm and node sits the shell that runs the bin: its own parent is npm.
  const grandparent = parentOf(parent);
  const timer = setInterval(() => {
    const parentGone = process.ppid !== parent;
    const npmGone = grandparent !== undefined && grandparent > 1 && parentOf(parent) !== grandparent;
    if (parentGone || npmGone) {
      clearInterval(timer);
      onGone();
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
