/** Where the embedded store keeps its files, its socket and the migrations; whether a service answers on the socket. */
import { closeSync, constants, existsSync, openSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const MIGRATIONS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../drizzle');
/** Any constant: all cas-bdt processes take this advisory lock around migrations. */
export const MIGRATION_LOCK_KEY = 7_271_020_260;

/** The socket `watch` serves the store on, to every command. */
export const SOCKET_PORT = 5432;
/** The socket a command that runs the store in a thread of its own reaches it on (pglite-store.ts); no other process looks for it. */
export const COMMAND_SOCKET_PORT = 5433;
export function socketPath(dataDir: string, port = SOCKET_PORT): string {
  return path.join(dataDir, `.s.PGSQL.${port}`);
}
/** A Unix socket's path holds at most 107 bytes on Linux. */
function socketPathFits(file: string): boolean {
  return Buffer.byteLength(file) <= 107;
}

/** The directory a socket of the data directory is bound or reached in, and its release. */
interface SocketReach {
  /** The data directory's path, or one short enough for a socket that names the same directory. */
  dir: string;
  file: string;
  close(): void;
}

/**
 * How to bind or reach the data directory's socket for `port`. A directory deeper than a
 * socket's path allows is reached through /proc/self/fd/N, a descriptor of it held open
 * until `close` (Linux resolves that path as the directory itself, for every thread of
 * this process): a service on a deep data directory serves, and is reached, as any other.
 */
export function socketReach(dataDir: string, port = SOCKET_PORT): SocketReach {
  const file = socketPath(dataDir, port);
  if (socketPathFits(file)) return { dir: dataDir, file, close: () => {} };
  const fd = openSync(dataDir, constants.O_RDONLY | constants.O_DIRECTORY);
  const dir = `/proc/self/fd/${fd}`;
  let open = true;
  return {
    dir,
    file: socketPath(dir, port),
    close: () => {
      if (open) closeSync(fd);
      open = false;
    },
  };
}
/**
 * PGlite's buffer cache lives in its WebAssembly memory, which never shrinks: PostgreSQL's
 * default (128 MB) adds that much to the process once a large file has been stored. 16 MB
 * keeps the embedded store small, and measured no slower (the pages are in the file
 * system's cache anyway).
 */
export const PGLITE_SHARED_BUFFERS = '16MB';

export function pgliteDir(dataDir: string): string {
  return path.join(dataDir, 'pgdata');
}
export function lockPath(dataDir: string): string {
  return path.join(dataDir, 'cas-bdt.lock');
}

/** A PostgreSQL URL without its password (for start-up lines and `--help`). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres (unparsable URL)';
  }
}

/** True when something answers on the data directory's socket (a running `watch`). */
export function socketAnswers(dataDir: string, timeoutMs = 1000): Promise<boolean> {
  if (!existsSync(socketPath(dataDir))) return Promise.resolve(false);
  let reach: SocketReach;
  try {
    reach = socketReach(dataDir);
  } catch {
    return Promise.resolve(false);
  }
  return new Promise((resolve) => {
    const s = net.connect(reach.file);
    const done = (ok: boolean) => {
      s.destroy();
      reach.close();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}
