/**
 * A small pool of XSD engine threads. Each thread compiles the project's schemas once and
 * then validates one document at a time; jobs wait in one FIFO queue, so the chunks of
 * several files take turns. A job that overruns its time budget has its thread
 * terminated (WebAssembly cannot be interrupted any other way), and a thread that dies
 * (out of memory, a crash) is replaced; both come back as an 'engine-limit' CasBdtError, which the
 * pipeline turns into `E_LIMIT` for that file alone.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import PQueue from 'p-queue';
import { CasBdtError } from '../errors.ts';
import { workerSource } from '../worker-source.ts';
import type { EngineInit, EngineJob, EngineReply } from './xsd-protocol.ts';

/** The engine gave up on a document: its time budget ran out or its thread died. */
type Settled = Exclude<EngineReply, { kind: 'ready' }>;

// Run from the TypeScript sources, the thread registers tsx's loader before loading its module.
const WORKER = workerSource(import.meta.url, 'xsd-worker');

class EngineThread {
  readonly worker: Worker;
  readonly ready: Promise<void>;
  dead = false;
  /** Set while the thread waits idle in a pool that retires idle threads. */
  idleTimer: NodeJS.Timeout | undefined;
  private nextId = 1;
  private pending: { id: number; resolve: (r: Settled) => void; reject: (e: Error) => void } | undefined;

  constructor(init: EngineInit, heapMb: number) {
    this.worker = new Worker(WORKER.source, {
      eval: WORKER.eval,
      workerData: init,
      resourceLimits: { maxOldGenerationSizeMb: heapMb },
      stdout: true,
      stderr: true,
    });
    this.worker.unref();
    this.ready = new Promise((resolve, reject) => {
      const onStartFailure = (err: unknown) => reject(new Error('the XSD engine could not start', { cause: err }));
      this.worker.once('error', onStartFailure);
      this.worker.once('exit', onStartFailure);
      this.worker.once('message', (m: EngineReply) => {
        this.worker.off('error', onStartFailure).off('exit', onStartFailure);
        if (m.kind === 'ready') resolve();
        else reject(new Error(`the XSD engine started with an unexpected message: ${m.kind}`));
      });
    });
    this.ready.catch(() => (this.dead = true));
  }

  get working(): boolean {
    return this.pending !== undefined;
  }

  async run(job: Omit<EngineJob, 'id'>, budgetMs: number): Promise<Settled> {
    await this.ready;
    const id = this.nextId++;
    this.worker.ref();
    try {
      return await new Promise<Settled>((resolve, reject) => {
        this.pending = { id, resolve, reject };
        const timer = setTimeout(() => this.kill(new CasBdtError('engine-limit', 'timeout')), Math.max(1, budgetMs));
        const onMessage = (m: EngineReply) => {
          if (m.id !== id || m.kind === 'ready') return;
          clearTimeout(timer);
          this.worker.off('message', onMessage);
          this.pending = undefined;
          if (m.kind === 'crashed') this.kill(new CasBdtError('engine-limit', `the XSD engine failed: ${m.message}`));
          else resolve(m);
        };
        this.worker.on('message', onMessage);
        this.worker.once('error', (err) => {
          clearTimeout(timer);
          this.kill(new CasBdtError('engine-limit', `the XSD engine stopped: ${err.message}`));
        });
        this.worker.once('exit', () => {
          clearTimeout(timer);
          this.kill(new CasBdtError('engine-limit', 'the XSD engine stopped'));
        });
        const moved =
          typeof job.text !== 'string' && job.text.byteLength === job.text.buffer.byteLength ? [job.text.buffer as ArrayBuffer] : [];
        this.worker.postMessage({ ...job, id } satisfies EngineJob, moved);
      });
    } finally {
      if (!this.dead) {
        this.worker.removeAllListeners('error').removeAllListeners('exit');
        this.worker.unref();
      }
    }
  }

  /** Ends the thread and fails the job in progress (a crashed engine's memory is not trusted again). */
  private kill(err: Error): void {
    this.dead = true;
    const p = this.pending;
    this.pending = undefined;
    void this.worker.terminate();
    p?.reject(err);
  }

  terminate(): Promise<number> {
    this.dead = true;
    clearTimeout(this.idleTimer);
    return this.worker.terminate();
  }
}

interface PoolOptions {
  /** Threads (default: the number of cores). */
  size?: number;
  /** JavaScript heap of one thread (MB, default 256); libxml2's own memory is separate. */
  heapMb?: number;
}

export class EnginePool {
  private readonly idle: EngineThread[] = [];
  private readonly all = new Set<EngineThread>();
  private readonly queue: PQueue;
  private readonly heapMb: number;
  /** Idle threads are ended after this long (ms); undefined: kept (a service's files do not wait for a start). */
  private idleMs: number | undefined;

  constructor(
    private readonly init: EngineInit,
    opts: PoolOptions = {},
  ) {
    this.queue = new PQueue({ concurrency: Math.max(1, opts.size ?? availableParallelism()) });
    this.heapMb = opts.heapMb ?? 256;
  }

  /** Threads started and not ended. */
  get threads(): number {
    return this.all.size;
  }

  /** Jobs running on a thread now. */
  get busy(): number {
    return [...this.all].filter((t) => t.working).length;
  }

  /** Runs one job on a free thread; rejects with 'engine-limit' when it overruns `budgetMs` or its thread dies. */
  run(job: Omit<EngineJob, 'id'>, budgetMs: number): Promise<Settled> {
    return this.queue.add(
      async () => {
        const thread = this.idle.pop() ?? this.spawn();
        clearTimeout(thread.idleTimer);
        try {
          return await thread.run(job, budgetMs);
        } finally {
          if (thread.dead) this.all.delete(thread);
          else this.rest(thread);
        }
      },
      { throwOnTimeout: true },
    );
  }

  /** Starts `threads` threads (default: all) now, so that the first files do not wait for the schemas to compile. */
  async warm(threads = this.queue.concurrency): Promise<void> {
    while (this.all.size < Math.min(threads, this.queue.concurrency)) this.rest(this.spawn());
    const started = await Promise.allSettled([...this.all].map((t) => t.ready));
    for (const t of [...this.all].filter((x) => x.dead)) {
      this.all.delete(t);
      // A thread that died at a job is not idle: its job's end forgets it.
      const at = this.idle.indexOf(t);
      if (at !== -1) this.idle.splice(at, 1);
    }
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /**
   * From now on a thread left idle for `ms` is ended, with its heap and libxml2's memory, and
   * a later job starts a new one (about 150 ms). For a command whose validation ends long
   * before its work does: `process` storing the last records of a large file.
   */
  retireIdle(ms: number): void {
    this.idleMs = ms;
    for (const t of this.idle) this.armRetirement(t);
  }

  private rest(thread: EngineThread): void {
    this.idle.push(thread);
    this.armRetirement(thread);
  }

  /** An idle thread's clock starts once it is ready: one still compiling the schemas is not idle. */
  private armRetirement(thread: EngineThread): void {
    const ms = this.idleMs;
    if (ms === undefined) return;
    thread.ready.then(
      () => {
        if (!this.idle.includes(thread)) return;
        clearTimeout(thread.idleTimer);
        thread.idleTimer = setTimeout(() => {
          const at = this.idle.indexOf(thread);
          if (at === -1) return;
          this.idle.splice(at, 1);
          this.all.delete(thread);
          void thread.terminate();
        }, ms).unref();
      },
      () => {},
    );
  }

  private spawn(): EngineThread {
    const t = new EngineThread(this.init, this.heapMb);
    this.all.add(t);
    return t;
  }

  /** Ends every thread; a job in progress fails with 'engine-limit', later jobs start new threads. */
  async close(): Promise<void> {
    await Promise.all([...this.all].map((t) => t.terminate()));
    this.all.clear();
    this.idle.length = 0;
  }
}

/** Every .xsd file of a folder, read once, and the named entry points among them. */
export function loadSchemas(dir: string, entries: Record<string, string>): EngineInit {
  const files: Record<string, Uint8Array> = {};
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.xsd'))) {
    files[path.join(dir, name)] = new Uint8Array(readFileSync(path.join(dir, name)));
  }
  const resolved: Record<string, string> = {};
  for (const [name, file] of Object.entries(entries)) resolved[name] = path.join(dir, file);
  return { files, entries: resolved };
}
