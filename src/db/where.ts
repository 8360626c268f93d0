/** Where a store is, said without loading a driver (for `--help`): the embedded cluster's folder, a URL without its password. */
import path from 'node:path';

/** Where PGlite keeps the cluster inside the data directory (absent until the store is created). */
export function pgliteDir(dataDir: string): string {
  return path.join(dataDir, 'pgdata');
}

/** A PostgreSQL URL without its password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres (unparsable URL)';
  }
}
