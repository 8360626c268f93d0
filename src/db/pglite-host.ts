/**
 * The embedded store in a thread of its own, served on a Unix socket that this process
 * (and, for `watch`, the other commands) reach with the PostgreSQL driver. PGlite runs
 * PostgreSQL in WebAssembly on the thread that calls it: in the main thread, every
 * statement would stop the reading, judging and writing of files while it runs, and
 * theirs would wait on it; in its own thread, the two go on side by side (two cores).
 * The caller holds the data directory's lock for as long as the thread runs.
 */
import { Worker } from 'node:worker_threads';
import { tightenTree } from './data-dir.ts';
import { sampleMemoryOf, timingsOn } from '../timings.ts';
import { workerSource } from '../worker-source.ts';

export interface HostInit {
  dataDir: string;
  socketFile: string;
  migrate: boolean;
  /** Report the thread's memory as it changes (for `process --timings`); nothing else reads it. */
  reportMemory: boolean;
}

export type HostRequest = { kind: 'close' };

export type HostReply =
  | { kind: 'ready'; created: boolean }
  | { kind: 'failed'; message: string }
  | { kind: 'memory'; wasm: number; heap: number; buffers: number }
  | { kind: 'closed' };

interface HostedPglite {
  /** True when the data directory held no store before. */
  created: boolean;
  /** Stops serving, closes the store and ends the thread. */
  close(): Promise<void>;
}

const WORKER = workerSource(import.meta.url, 'pglite-host-worker');

/**
 * Opens (and migrates) the store in its thread and serves it on `socketFile`. Once it
 * serves, the thread's end other than by `close` is the end of the store: `onLost` is
 * called (the callers stop the process, as when the lock is lost).
 */
export function hostPglite(opts: Omit<HostInit, 'reportMemory'>, onLost: (why: string) => void): Promise<HostedPglite> {
  const init: HostInit = { ...opts, reportMemory: timingsOn() };
  const worker = new Worker(WORKER.source, { eval: WORKER.eval, workerData: init });
  let memory: Extract<HostReply, { kind: 'memory' }> | undefined;
  /** Both set once `close` is asked for. */
  let closed: (() => void) | undefined;
  let failed: ((why: string) => void) | undefined;
  return new Promise((resolve, reject) => {
    let serving = false;
    const lost = (why: string) => {
      if (failed) failed(why);
      else if (serving) onLost(why);
      else reject(new Error(`the embedded store could not be opened: ${why}`));
    };
    worker.on('message', (m: HostReply) => {
      switch (m.kind) {
        case 'memory':
          memory = m;
          break;
        case 'ready':
          serving = true;
          // `process --timings` reports their peaks: the WebAssembly memory never shrinks.
          sampleMemoryOf('embeddedStoreHeap', () => memory?.wasm);
          sampleMemoryOf('storeThreadHeap', () => memory?.heap);
          sampleMemoryOf('storeThreadBuffers', () => memory?.buffers);
          resolve({
            created: m.created,
            close: () =>
              new Promise<void>((done, fail) => {
                closed = done;
                failed = (why) => fail(new Error(`the embedded store did not close cleanly: ${why}`));
                worker.postMessage({ kind: 'close' } satisfies HostRequest);
              }).finally(() => tightenTree(init.dataDir)),
          });
          break;
        case 'closed':
          closed?.();
          break;
        case 'failed':
          lost(m.message);
          break;
      }
    });
    worker.on('error', (err) => lost(err.message));
    worker.on('exit', (code) => lost(`its thread ended (${code})`));
  });
}
