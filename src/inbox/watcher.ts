/**
 * Watches the folder tree with chokidar: the root (a new sponsor's folder appearing) and
 * every inbox (files appearing or changing). Events are hints only: they are lost on
 * network and SFTP mounts, so the service also lists every inbox periodically, and it
 * re-checks everything an event points at. Links are never followed.
 */
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';

export interface TreeWatcherOptions {
  root: string;
  /** Poll instead of using file system events (`--poll`). */
  poll: boolean;
  /** Polling period (only with `poll`). */
  pollIntervalMs: number;
  /** A file was added or changed directly inside `inbox` (a directory being watched). */
  onFile(inbox: string, file: string): void;
  /** A file disappeared from an inbox. */
  onGone(inbox: string, file: string): void;
  /** A directory appeared directly under the root (perhaps a new sponsor). */
  onSponsorDir(dir: string): void;
  onError(err: unknown): void;
}

export interface TreeWatcher {
  addInbox(inbox: string): void;
  close(): Promise<void>;
}

export function watchTree(opts: TreeWatcherOptions): TreeWatcher {
  const root = path.resolve(opts.root);
  const inboxes = new Set<string>();
  const w: FSWatcher = watch(root, {
    depth: 0,
    followSymlinks: false,
    ignoreInitial: true,
    usePolling: opts.poll,
    interval: opts.pollIntervalMs,
    binaryInterval: opts.pollIntervalMs,
    // The service settles files itself; chokidar's atomic-write merging would hide events.
    atomic: false,
    persistent: true,
  });
  const fileEvent = (handler: (inbox: string, file: string) => void) => (p: string | Error) => {
    if (typeof p !== 'string') return;
    const dir = path.dirname(p);
    if (inboxes.has(dir)) handler(dir, p);
  };
  w.on('add', fileEvent(opts.onFile));
  w.on('change', fileEvent(opts.onFile));
  w.on('unlink', fileEvent(opts.onGone));
  w.on('addDir', (p: string | Error) => {
    if (typeof p === 'string' && path.dirname(p) === root) opts.onSponsorDir(p);
  });
  w.on('error', (err: unknown) => opts.onError(err));
  return {
    addInbox(inbox: string) {
      const dir = path.resolve(inbox);
      if (inboxes.has(dir)) return;
      inboxes.add(dir);
      w.add(dir);
    },
    close: () => w.close(),
  };
}
