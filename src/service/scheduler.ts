/**
 * Which inbox file runs next. Files are offered by the watcher and the listings; each is
 * settled (size and mtime unchanged for `settleMs`), then run oldest first (by mtime) on
 * a p-queue with `concurrency` workers. Only `concurrency` files are handed to the queue
 * at a time, so a backlog costs one small entry per file and a late-settling older file
 * still goes first. A path is never queued twice. Infrastructure faults back off per file
 * and pause the whole pump (a database that is down fails every file alike).
 */
import PQueue from 'p-queue';
import { isCandidateName, sameIdentity, type FileIdentity } from '../inbox/settle.ts';
import { MinHeap } from './heap.ts';

export interface Candidate {
  path: string;
  licence: string;
  name: string;
  /** The identity that was stable for the settle time. */
  identity: FileIdentity;
}

export type RunResult =
  /** Processed; the input was moved (or had gone). */
  | { kind: 'finished' }
  /** Gone, or no longer a regular file. */
  | { kind: 'vanished' }
  /** Still being written: settle it again. */
  | { kind: 'changed' }
  /** Not well-formed and recently modified: look again until `until` (ms since epoch). */
  | { kind: 'deferred'; until: number }
  /** Another instance (or this one's restart recovery) holds it: look again soon. */
  | { kind: 'busy' };

export interface SchedulerOptions {
  settleMs: number;
  concurrency: number;
  /** How soon to look again at a file held elsewhere. */
  busyRecheckMs: number;
  /** Back-off after an infrastructure fault: first delay and ceiling. */
  backoffMs: { initial: number; max: number };
  now?: () => number;
  /** lstat of a path (undefined: gone or not a regular file). */
  identify(path: string): Promise<FileIdentity | undefined>;
  run(c: Candidate): Promise<RunResult>;
  /** An attempt threw: the file stays and is retried in `retryInMs`. `firstOfStep` is false while the pump is already paused by an earlier fault. */
  onFault(c: Candidate, err: unknown, retryInMs: number, firstOfStep: boolean): void;
}

type Phase = 'settling' | 'ready' | 'running' | 'waiting';

interface Entry {
  path: string;
  licence: string;
  name: string;
  identity: FileIdentity | undefined;
  stableSince: number;
  phase: Phase;
  waitKind?: 'deferred' | 'busy' | 'fault';
  deferredUntil?: number;
  failures: number;
  /** Bumped at every transition; heap items of an older generation are stale. */
  gen: number;
}

interface Due {
  at: number;
  path: string;
  gen: number;
}

interface Ready {
  mtimeMs: number;
  path: string;
  gen: number;
}

const CHECK_BATCH = 64;

export class Scheduler {
  private readonly entries = new Map<string, Entry>();
  private readonly due = new MinHeap<Due>((a, b) => a.at < b.at);
  private readonly ready = new MinHeap<Ready>((a, b) => a.mtimeMs < b.mtimeMs || (a.mtimeMs === b.mtimeMs && a.path < b.path));
  private readonly queue: PQueue;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private ticking = false;
  private stopped = false;
  private pausedUntil = 0;
  private consecutiveFaults = 0;
  private running = 0;
  private held = false;

  constructor(private readonly opts: SchedulerOptions) {
    this.queue = new PQueue({ concurrency: opts.concurrency });
    this.now = opts.now ?? Date.now;
  }

  /** A file was seen (event or listing). Unknown paths start settling; known ones are re-checked when due. */
  offer(path: string, licence: string, name: string): void {
    if (this.stopped || !isCandidateName(name) || this.entries.has(path)) return;
    const e: Entry = { path, licence, name, identity: undefined, stableSince: this.now(), phase: 'settling', failures: 0, gen: 0 };
    this.entries.set(path, e);
    this.schedule(e, this.now());
  }

  /** A file disappeared (event): forget it unless a worker has it. */
  gone(path: string): void {
    const e = this.entries.get(path);
    if (e && e.phase !== 'running') this.entries.delete(path);
  }

  stats(): { known: number; running: number; ready: number; waiting: number } {
    let ready = 0;
    let waiting = 0;
    for (const e of this.entries.values()) {
      if (e.phase === 'ready') ready++;
      else if (e.phase === 'waiting' || e.phase === 'settling') waiting++;
    }
    return { known: this.entries.size, running: this.running, ready, waiting };
  }

  /**
   * Takes no file until `release`: at start-up the whole backlog is listed and settled
   * first, so that the oldest file goes first rather than the first one listed.
   */
  hold(): void {
    this.held = true;
  }

  release(): void {
    this.held = false;
    this.pump();
    this.arm();
  }

  /** Files still waiting for their first settle decision. */
  settling(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.phase === 'settling') n++;
    return n;
  }

  /** Stops taking files; resolves when the files in progress are finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.clear();
    await this.queue.onIdle();
  }

  /** Resolves when nothing is running and nothing is ready (for tests and shutdown). */
  async idle(): Promise<void> {
    await this.queue.onIdle();
  }

  private schedule(e: Entry, at: number): void {
    e.gen++;
    this.due.push({ at, path: e.path, gen: e.gen });
    this.arm();
  }

  private makeReady(e: Entry): void {
    e.phase = 'ready';
    e.gen++;
    this.ready.push({ mtimeMs: e.identity?.mtimeMs ?? 0, path: e.path, gen: e.gen });
  }

  private arm(): void {
    if (this.stopped || this.ticking) return;
    let next = this.due.peek()?.at ?? Infinity;
    if (this.ready.size > 0 && this.pausedUntil > this.now()) next = Math.min(next, this.pausedUntil);
    if (next === Infinity) return;
    if (this.timer && next >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = next;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      void this.tick();
    }, Math.max(0, next - this.now()));
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.ticking) return;
    this.ticking = true;
    try {
      const batch: Entry[] = [];
      const now = this.now();
      for (let top = this.due.peek(); top && top.at <= now; top = this.due.peek()) {
        this.due.pop();
        const e = this.entries.get(top.path);
        if (!e || e.gen !== top.gen || (e.phase !== 'settling' && e.phase !== 'waiting')) continue;
        batch.push(e);
        if (batch.length >= CHECK_BATCH) {
          await Promise.all(batch.splice(0).map((x) => this.check(x)));
        }
      }
      await Promise.all(batch.map((x) => this.check(x)));
    } finally {
      this.ticking = false;
    }
    this.pump();
    this.arm();
  }

  /** A due settle or wait check. */
  private async check(e: Entry): Promise<void> {
    let id: FileIdentity | undefined;
    try {
      id = await this.opts.identify(e.path);
    } catch (err) {
      // The folder itself failed (EIO, EACCES): treat like any fault, try again later.
      this.fault(e, err);
      return;
    }
    if (this.stopped || this.entries.get(e.path) !== e) return;
    if (!id) {
      this.entries.delete(e.path);
      return;
    }
    const now = this.now();
    if (!e.identity || !sameIdentity(id, e.identity)) {
      e.identity = id;
      e.stableSince = now;
      e.phase = 'settling';
      this.schedule(e, now + this.opts.settleMs);
      return;
    }
    if (e.phase === 'settling') {
      if (now - e.stableSince >= this.opts.settleMs) this.makeReady(e);
      else this.schedule(e, e.stableSince + this.opts.settleMs);
      return;
    }
    // waiting, unchanged
    if (e.waitKind === 'deferred' && now < (e.deferredUntil ?? 0)) {
      this.schedule(e, Math.min(now + Math.max(this.opts.settleMs, 50), e.deferredUntil ?? now));
      return;
    }
    this.makeReady(e);
  }

  private pump(): void {
    if (this.stopped || this.held) return;
    if (this.pausedUntil > this.now()) {
      this.arm();
      return;
    }
    while (this.queue.pending + this.queue.size < this.opts.concurrency) {
      const top = this.ready.pop();
      if (!top) break;
      const e = this.entries.get(top.path);
      if (!e || e.gen !== top.gen || e.phase !== 'ready' || !e.identity) continue;
      e.phase = 'running';
      e.gen++;
      this.running++;
      const candidate: Candidate = { path: e.path, licence: e.licence, name: e.name, identity: e.identity };
      void this.queue.add(() => this.execute(e, candidate));
    }
  }

  private async execute(e: Entry, c: Candidate): Promise<void> {
    try {
      const r = await this.opts.run(c);
      this.consecutiveFaults = 0;
      this.apply(e, r);
    } catch (err) {
      this.fault(e, err);
    } finally {
      this.running--;
      this.pump();
      this.arm();
    }
  }

  private apply(e: Entry, r: RunResult): void {
    const now = this.now();
    e.failures = 0;
    switch (r.kind) {
      case 'finished':
      case 'vanished':
        this.entries.delete(e.path);
        // Something may already be there again under the same name (a new drop).
        this.offer(e.path, e.licence, e.name);
        return;
      case 'changed':
        e.phase = 'settling';
        e.identity = undefined;
        this.schedule(e, now);
        return;
      case 'deferred':
        e.phase = 'waiting';
        e.waitKind = 'deferred';
        e.deferredUntil = r.until;
        this.schedule(e, Math.min(now + Math.max(this.opts.settleMs, 50), r.until));
        return;
      case 'busy':
        e.phase = 'waiting';
        e.waitKind = 'busy';
        this.schedule(e, now + this.opts.busyRecheckMs);
        return;
    }
  }

  private fault(e: Entry, err: unknown): void {
    const now = this.now();
    const { initial, max } = this.opts.backoffMs;
    e.failures++;
    const retryInMs = Math.min(max, initial * 2 ** (e.failures - 1));
    const firstOfStep = this.pausedUntil <= now;
    if (firstOfStep) {
      this.consecutiveFaults++;
      this.pausedUntil = now + Math.min(max, initial * 2 ** (this.consecutiveFaults - 1));
    }
    e.phase = 'waiting';
    e.waitKind = 'fault';
    if (this.entries.get(e.path) !== e) this.entries.set(e.path, e);
    this.schedule(e, now + retryInMs);
    this.opts.onFault({ path: e.path, licence: e.licence, name: e.name, identity: e.identity! }, err, retryInMs, firstOfStep);
  }
}
