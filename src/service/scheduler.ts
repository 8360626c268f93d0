/**
 * Which inbox file runs next. Files are offered by the watcher and the listings; each is
 * settled (size and mtime unchanged for `settleMs`, counted on the service's own
 * monotonic clock from when it last saw the file change), then run on a p-queue with
 * `concurrency` workers. Sponsors take turns (round-robin between sponsors with ready
 * files, oldest first by mtime within a sponsor), so a sponsor that drops or backdates
 * thousands of files cannot starve the others. Only `concurrency` files are handed to the
 * queue at a time, so a backlog costs one small entry per file. A path is never queued
 * twice. A failed attempt is classified (faults.ts): the environment's fault backs off
 * that file only; the file's fault, or an unknown fault for the third time in a row, sets
 * the file aside (run once more with `setAside`, which rejects it).
 */
import { performance } from 'node:perf_hooks';
import PQueue from 'p-queue';
import type { FileSummary } from '../domain/result.ts';
import { isCandidateName, sameIdentity, type FileIdentity } from '../inbox/settle.ts';
import { UNKNOWN_STRIKES, type Fault } from './faults.ts';
import { MinHeap } from './heap.ts';
import type { InboxFile } from './inbox-file.ts';
import { SponsorTurns } from './turns.ts';

export interface Candidate {
  file: InboxFile;
  licence: string;
  /** The identity that was stable for the settle time. */
  identity: FileIdentity;
  /** When (scheduler clock, ms) the service last saw the file change or first saw it. */
  changedAt: number;
  /** Set when the file is to be set aside (REJECTED) because of this fault. */
  setAside?: { err: unknown; fault: Fault; strikes: number } | undefined;
}

export type RunResult =
  /**
   * Processed; the input was moved (or had gone). `summary` is what its submission
   * records; `statementsOwed` is false when its transaction is known to have owed no CAS
   * statement to the outbox.
   */
  | { kind: 'finished'; summary?: FileSummary; statementsOwed?: boolean }
  /** Gone, or no longer a regular file. */
  | { kind: 'vanished' }
  /** Still being written: settle it again. */
  | { kind: 'changed' }
  /** Not well-formed and recently changed: look again until `until` (scheduler clock, ms). */
  | { kind: 'deferred'; until: number }
  /** Another instance (or this one's restart recovery) holds it: look again soon. */
  | { kind: 'busy' };

/** What became of one file of a group: a result, or a fault to classify. */
export type GroupOutcome = { result: RunResult } | { error: unknown };

/** Group commit: several ready files of one sponsor taken at once (see handle-group.ts). */
export interface GroupOptions {
  /** Most files in a group. */
  maxFiles: number;
  /** Most bytes in a group, and the largest file that joins one. */
  maxBytes: number;
  maxFileBytes: number;
  /** Runs the files of a group; one outcome per file, in their order. */
  run(cs: Candidate[]): Promise<GroupOutcome[]>;
}

export interface SchedulerOptions {
  settleMs: number;
  concurrency: number;
  /** How soon to look again at a file held elsewhere. */
  busyRecheckMs: number;
  /** Back-off of one file after a fault: first delay and ceiling. */
  backoffMs: { initial: number; max: number };
  /** Monotonic milliseconds (default performance.now). */
  now?: () => number;
  /** lstat of a path (undefined: gone or not a regular file). */
  identify(path: string | Buffer): Promise<FileIdentity | undefined>;
  classify(err: unknown): Fault;
  run(c: Candidate): Promise<RunResult>;
  /**
   * When a sponsor has several small files ready, they go as one group. A file ready
   * alone goes at once: a group is never waited for.
   */
  group?: GroupOptions | undefined;
  /** An attempt threw; `retryInMs` is 0 when the file is set aside next. */
  onFault(c: Candidate, err: unknown, fault: Fault, info: { retryInMs: number; failures: number; strikes: number }): void;
}

type Phase = 'settling' | 'ready' | 'running' | 'waiting';

interface Entry {
  file: InboxFile;
  licence: string;
  identity: FileIdentity | undefined;
  stableSince: number;
  phase: Phase;
  waitKind?: 'deferred' | 'busy' | 'fault';
  deferredUntil?: number;
  failures: number;
  strikes: number;
  setAside?: Candidate['setAside'];
  /** Bumped at every transition; heap items of an older generation are stale. */
  gen: number;
}

interface Due {
  at: number;
  key: string;
  gen: number;
}

const CHECK_BATCH = 64;

export class Scheduler {
  private readonly entries = new Map<string, Entry>();
  private readonly due = new MinHeap<Due>((a, b) => a.at < b.at);
  private readonly ready = new SponsorTurns();
  private readonly queue: PQueue;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private ticking = false;
  private stopped = false;
  private running = 0;
  private held = false;
  private paused = false;

  constructor(private readonly opts: SchedulerOptions) {
    this.queue = new PQueue({ concurrency: opts.concurrency });
    this.now = opts.now ?? (() => performance.now());
  }

  /** The clock the scheduler counts with (monotonic). */
  clock(): number {
    return this.now();
  }

  /** A file was seen (event or listing). Unknown paths start settling; known ones are re-checked when due. */
  offer(file: InboxFile, licence: string): void {
    if (this.stopped || !isCandidateName(file.name) || this.entries.has(file.key)) return;
    const e: Entry = { file, licence, identity: undefined, stableSince: this.now(), phase: 'settling', failures: 0, strikes: 0, gen: 0 };
    this.entries.set(file.key, e);
    this.schedule(e, this.now());
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

  /** How long (ms, scheduler clock) the longest-waiting file not yet running has been unchanged; 0 when none waits. */
  oldestWaitingMs(): number {
    let oldest = Infinity;
    for (const e of this.entries.values()) if (e.phase !== 'running' && e.stableSince < oldest) oldest = e.stableSince;
    return oldest === Infinity ? 0 : Math.max(0, this.now() - oldest);
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

  /** Takes no new file until `resume` (the disk is short of space); files in progress go on. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
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

  private schedule(e: Entry, at: number): void {
    e.gen++;
    this.due.push({ at, key: e.file.key, gen: e.gen });
    this.arm();
  }

  private makeReady(e: Entry): void {
    e.phase = 'ready';
    e.gen++;
    this.ready.push(e.licence, { mtimeMs: e.identity?.mtimeMs ?? 0, key: e.file.key, gen: e.gen });
  }

  /** The next ready file, the sponsors taking turns; one whose identity is unknown (not looked at since it changed) is not ready. */
  private nextReady(): (Entry & { identity: FileIdentity }) | undefined {
    const identified = (e: Entry): e is Entry & { identity: FileIdentity } => e.identity !== undefined;
    const live = (key: string, gen: number) => {
      const e = this.entries.get(key);
      return e && e.gen === gen && e.phase === 'ready' && identified(e) ? e : undefined;
    };
    const top = this.ready.next((t) => live(t.key, t.gen) !== undefined);
    return top && live(top.key, top.gen);
  }

  private arm(): void {
    if (this.stopped || this.ticking) return;
    const next = this.due.peek()?.at ?? Infinity;
    if (next === Infinity) return;
    if (this.timer && next >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = next;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Infinity;
        void this.tick();
      },
      Math.max(0, Math.ceil(next - this.now())),
    );
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.ticking) return;
    this.ticking = true;
    try {
      const batch: Entry[] = [];
      const now = this.now();
      for (let top = this.due.peek(); top && top.at <= now; top = this.due.peek()) {
        this.due.pop();
        const e = this.entries.get(top.key);
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
      id = await this.opts.identify(e.file.fsPath);
    } catch (err) {
      // The folder itself failed (EIO, EACCES): treat like any fault, try again later.
      this.fault(e, err);
      return;
    }
    if (this.stopped || this.entries.get(e.file.key) !== e) return;
    if (!id) {
      this.entries.delete(e.file.key);
      return;
    }
    const now = this.now();
    if (!e.identity || !sameIdentity(id, e.identity)) {
      // New content: whatever went wrong with the old one says nothing about this one.
      e.identity = id;
      e.stableSince = now;
      e.phase = 'settling';
      e.strikes = 0;
      delete e.setAside;
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
    if (this.stopped || this.held || this.paused) return;
    while (this.queue.pending + this.queue.size < this.opts.concurrency) {
      const e = this.nextReady();
      if (!e) break;
      const group = this.opts.group && this.groupable(e, this.opts.group) ? [e, ...this.moreReady(e, this.opts.group)] : [e];
      const candidates = group.map((x) => this.start(x));
      if (group.length === 1) void this.queue.add(() => this.execute(e, candidates[0]!));
      else void this.queue.add(() => this.executeGroup(group, candidates));
    }
  }

  /** The file is taken: running from now on. */
  private start(e: Entry & { identity: FileIdentity }): Candidate {
    e.phase = 'running';
    e.gen++;
    this.running++;
    return { file: e.file, licence: e.licence, identity: e.identity, changedAt: e.stableSince, setAside: e.setAside };
  }

  /** May join a group: small, and neither refused for its name nor set aside. */
  private groupable(e: Entry & { identity: FileIdentity }, g: GroupOptions): boolean {
    return !e.setAside && !e.file.nameProblem && e.identity.size <= g.maxFileBytes;
  }

  /** The sponsor's next ready files that may join `first`'s group, oldest first, within the bounds. */
  private moreReady(first: Entry & { identity: FileIdentity }, g: GroupOptions): (Entry & { identity: FileIdentity })[] {
    let bytes = first.identity.size;
    const taken: (Entry & { identity: FileIdentity })[] = [];
    this.ready.more(
      first.licence,
      (t) => {
        const e = this.entries.get(t.key);
        if (!e || e.gen !== t.gen || e.phase !== 'ready' || !e.identity) return 'drop';
        const x = e as Entry & { identity: FileIdentity };
        if (!this.groupable(x, g) || bytes + x.identity.size > g.maxBytes) return 'stop';
        bytes += x.identity.size;
        taken.push(x);
        return 'take';
      },
      g.maxFiles - 1,
    );
    return taken;
  }

  private async execute(e: Entry, c: Candidate): Promise<void> {
    try {
      const r = await this.opts.run(c);
      this.apply(e, r);
    } catch (err) {
      this.fault(e, err);
    } finally {
      this.running--;
      this.pump();
      this.arm();
    }
  }

  private async executeGroup(es: Entry[], cs: Candidate[]): Promise<void> {
    let outcomes: GroupOutcome[] | undefined;
    let failure: unknown;
    try {
      outcomes = await this.opts.group!.run(cs);
    } catch (err) {
      failure = err;
    }
    try {
      for (const [k, e] of es.entries()) {
        const o = outcomes?.[k];
        if (!o) this.fault(e, failure ?? new Error('the group gave no outcome for this file'));
        else if ('error' in o) this.fault(e, o.error);
        else this.apply(e, o.result);
      }
    } finally {
      this.running -= es.length;
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
        this.entries.delete(e.file.key);
        // Something may already be there again under the same name (a new drop).
        this.offer(e.file, e.licence);
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

  /** Back-off for this file alone: other files and sponsors go on. */
  private fault(e: Entry, err: unknown): void {
    const now = this.now();
    const { initial, max } = this.opts.backoffMs;
    const fault = this.opts.classify(err);
    e.failures++;
    if (fault.kind === 'unknown') e.strikes++;
    let retryInMs = Math.min(max, initial * 2 ** (e.failures - 1));
    if (fault.kind === 'file' || (fault.kind === 'unknown' && e.strikes >= UNKNOWN_STRIKES)) {
      // A set-aside that fails again is retried with back-off like any attempt.
      if (!e.setAside) retryInMs = 0;
      e.setAside = { err, fault, strikes: e.strikes };
    }
    e.phase = 'waiting';
    e.waitKind = 'fault';
    if (this.entries.get(e.file.key) !== e) this.entries.set(e.file.key, e);
    this.schedule(e, now + retryInMs);
    const c: Candidate = { file: e.file, licence: e.licence, identity: e.identity!, changedAt: e.stableSince };
    this.opts.onFault(c, err, fault, { retryInMs, failures: e.failures, strikes: e.strikes });
  }
}
