/** Where the embedded store keeps its files, its socket and the migrations; whether a service answers on the socket. */
import { existsSync } from 'node:fs';
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
export function socketPathFits(file: string): boolean {
  return Buffer.byteLength(file) <= 107;
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
  const p = socketPath(dataDir);
  if (!existsSync(p)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const s = net.connect(p);
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}
