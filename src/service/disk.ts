/**
 * The free-space floor (`--min-free-mb`): below it, on the file system of the sponsor
 * tree or of the embedded store, the service takes no new file (the ones in progress
 * finish), `/healthz` says why, and a line is logged once; when space is back, work goes
 * on by itself and that is logged once too. A full disk would otherwise fail every file
 * of every sponsor in turn, each result and move retried until space is freed.
 */
import { statfs } from 'node:fs/promises';
import type { Logger } from '../log.ts';

interface DiskGuardOptions {
  /** The folders whose file systems must keep `minFreeBytes` free. */
  paths: string[];
  minFreeBytes: number;
  log: Logger;
  /** Told when the service stops taking files, and when it may take them again. */
  onChange: (paused: boolean) => void;
}

const mib = (bytes: number) => Math.floor(bytes / (1024 * 1024));

export class DiskGuard {
  private low: string | undefined;
  private checking: Promise<boolean> | undefined;

  constructor(private readonly opts: DiskGuardOptions) {}

  /** Why no file is taken now (for `/healthz`), or undefined. */
  reason(): string | undefined {
    return this.low;
  }

  /** Looks at the free space now; true while it is below the floor. Concurrent calls share one look. */
  check(): Promise<boolean> {
    this.checking ??= this.look().finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async look(): Promise<boolean> {
    const { paths, minFreeBytes, log, onChange } = this.opts;
    if (minFreeBytes <= 0) return false;
    let low: { path: string; free: number } | undefined;
    for (const p of paths) {
      // A folder that cannot be looked at is not a full disk: the folder checks report it.
      const st = await statfs(p).catch(() => undefined);
      if (!st) continue;
      // What an unprivileged writer may still use (root's reserve is not the service's).
      const free = st.bavail * st.bsize;
      if (free < minFreeBytes) {
        low = { path: p, free };
        break;
      }
    }
    if (low) {
      const reason = `disk: ${low.path} has ${mib(low.free)} MB free, below --min-free-mb ${mib(minFreeBytes)}; no new file is taken`;
      if (this.low === undefined) {
        this.low = reason;
        log.warn(
          { path: low.path, freeMb: mib(low.free), minFreeMb: mib(minFreeBytes) },
          'disk space low: taking no new file until space is freed',
        );
        onChange(true);
      } else this.low = reason;
      return true;
    }
    if (this.low !== undefined) {
      this.low = undefined;
      log.info({ minFreeMb: mib(minFreeBytes) }, 'disk space freed: taking files again');
      onChange(false);
    }
    return false;
  }
}
