/**
 * The embedded store's file system: PGlite's NodeFS with fsync made real, so that a
 * commit survives a power cut and not only a killed process. PGlite starts PostgreSQL
 * with fsync off (`-F`), and its Emscripten NODEFS has no fsync operation (fsync(2)
 * inside the engine does nothing); fdatasync(2) is a no-op in the Emscripten runtime.
 * With this file system and `DURABLE_START_PARAMS` (fsync on, the WAL flushed with
 * fsync), PostgreSQL's own flushes reach the disk in PostgreSQL's own order: the WAL up to
 * the commit record before a commit returns, data files before pg_control at a
 * checkpoint, directories after a file is created or renamed.
 */
import { fsyncSync } from 'node:fs';
import type { PGlite } from '@electric-sql/pglite';
import { NodeFS } from '@electric-sql/pglite/nodefs';

type Init = Awaited<ReturnType<NodeFS['init']>>;
type Mod = Init['emscriptenOpts'];
interface EmscriptenNodeFs {
  stream_ops: { fsync?: (stream: { nfd?: number }) => number };
  tryFSOperation<T>(f: () => T): T;
}

/** PostgreSQL's options for a durable embedded store: PGlite's defaults, fsync on. */
export function durableStartParams(defaults: readonly string[]): string[] {
  return [...defaults.filter((p) => p !== '-F'), '-c', 'fsync=on', '-c', 'wal_sync_method=fsync', '-c', 'synchronous_commit=on'];
}

export class DurableNodeFS extends NodeFS {
  override async init(pg: PGlite, opts: Partial<Mod>): Promise<Init> {
    const r = await super.init(pg, opts);
    const preRun = r.emscriptenOpts.preRun ?? [];
    r.emscriptenOpts.preRun = [
      ...(Array.isArray(preRun) ? preRun : [preRun]),
      (mod: { FS: { filesystems: { NODEFS: EmscriptenNodeFs } } }) => {
        const nodefs = mod.FS.filesystems.NODEFS;
        // A failing flush reaches PostgreSQL as its errno (it then stops rather than trust the WAL).
        nodefs.stream_ops.fsync = (stream) => {
          if (stream.nfd !== undefined) nodefs.tryFSOperation(() => fsyncSync(stream.nfd!));
          return 0;
        };
      },
    ] as typeof preRun;
    return r;
  }
}
