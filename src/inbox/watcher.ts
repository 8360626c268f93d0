/**
 * Watches the folder tree: the root with chokidar (a new sponsor's folder appearing) and
 * each inbox directory itself, never the files in it: an inbox of 100,000 files costs one
 * watch, not 100,000 (chokidar watches, or with polling stats, every file it sees).
 * With events, fs.watch on the directory names each entry that changed; with `poll`, the
 * directory's own stat is polled and any change asks for a listing. Events are hints
 * only: they are lost on network and SFTP mounts, so the service also lists every inbox
 * periodically, and it re-checks everything an event points at. Links are never followed.
 */
import { lstatSync, watch as watchDir, watchFile, unwatchFile, type FSWatcher as DirWatcher, type Stats } from 'node:fs';
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';

interface TreeWatcherOptions {
  root: string;
  /** Poll instead of using file system events (`--poll`). */
  poll: boolean;
  /** Polling period (only with `poll`). */
  pollIntervalMs: number;
  /** An entry directly inside `inbox` changed (added, written, renamed or removed); `name` as raw bytes. */
  onEntry(inbox: string, name: Buffer): void;
  /** The inbox changed in a way only a listing can tell (polling, or an event without a name). */
  onInboxChanged(inbox: string): void;
  /** A directory appeared directly under the root (perhaps a new sponsor). */
  onSponsorDir(dir: string): void;
  onError(err: unknown): void;
}

export interface TreeWatcher {
  /** Watches an inbox; again after it was replaced (a watch follows the old directory). */
  addInbox(inbox: string): void;
  close(): Promise<void>;
}

export function watchTree(opts: TreeWatcherOptions): TreeWatcher {
  const root = path.resolve(opts.root);
  /** Watched inboxes by path, with the identity of the directory watched (inode numbers are reused at once). */
  const watched = new Map<string, { id: string; close: () => void }>();
  const w: FSWatcher = watch(root, {
    depth: 0,
    followSymlinks: false,
    ignoreInitial: true,
    usePolling: opts.poll,
    interval: opts.pollIntervalMs,
    binaryInterval: opts.pollIntervalMs,
    // Only the sponsor folders matter here; files under the root are never looked at.
    ignored: (_p: string, stats?: Stats) => stats !== undefined && !stats.isDirectory(),
    atomic: false,
    persistent: true,
  });
  w.on('addDir', (p: string | Error) => {
    if (typeof p === 'string' && path.dirname(p) === root) opts.onSponsorDir(p);
  });
  w.on('error', (err: unknown) => opts.onError(err));

  const watchInbox = (dir: string): (() => void) => {
    if (opts.poll) {
      const listener = (cur: Stats, prev: Stats) => {
        if (cur.mtimeMs !== prev.mtimeMs || cur.ino !== prev.ino) opts.onInboxChanged(dir);
      };
      watchFile(dir, { interval: opts.pollIntervalMs, persistent: true }, listener);
      return () => unwatchFile(dir, listener);
    }
    let dw: DirWatcher;
    try {
      dw = watchDir(dir, { encoding: 'buffer', persistent: true }, (_event, name) => {
        if (name) opts.onEntry(dir, name);
        else opts.onInboxChanged(dir);
      });
    } catch (err) {
      // A missing or unreadable inbox: the periodic listing reports and covers it.
      opts.onError(err);
      return () => {};
    }
    dw.on('error', (err) => {
      opts.onError(err);
      dw.close();
      watched.delete(dir);
    });
    return () => dw.close();
  };

  return {
    addInbox(inbox: string) {
      const dir = path.resolve(inbox);
      let id: string;
      try {
        const st = lstatSync(dir);
        id = `${st.dev}:${st.ino}:${st.birthtimeMs}`;
      } catch {
        return; // missing: the listing reports it, and the next call watches it
      }
      const cur = watched.get(dir);
      if (cur && cur.id === id) return;
      cur?.close();
      watched.set(dir, { id, close: watchInbox(dir) });
    },
    close: async () => {
      for (const w of watched.values()) w.close();
      watched.clear();
      await w.close();
    },
  };
}
