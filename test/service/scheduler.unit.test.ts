/**
 * The Scheduler on its injected clock (and vitest's fake timers for its wake-ups): a file
 * is taken only once it has been unchanged for the settle time, a sponsor's oldest file
 * goes first, a failing file backs off alone, a file gone while it ran is forgotten, and a
 * sponsor's ready small files go in bounded groups.
 * No file system and no real waiting.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FileIdentity } from '../../src/inbox/settle.ts';
import type { Fault } from '../../src/service/faults.ts';
import type { InboxFile } from '../../src/service/inbox-file.ts';
import { Scheduler, type Candidate, type RunResult, type SchedulerOptions } from '../../src/service/scheduler.ts';

const file = (licence: string, name: string): InboxFile => ({ key: `${licence}/inbox/${name}`, fsPath: `/${licence}/inbox/${name}`, name });

/** A fake inbox: what `identify` sees for each path, changed by the test. */
class World {
  now = 0;
  readonly files = new Map<string, FileIdentity>();
  readonly runs: string[] = [];
  readonly faults: { name: string; retryInMs: number; failures: number }[] = [];

  put(f: InboxFile, mtimeMs: number, size = 10): void {
    this.files.set(String(f.fsPath), { dev: 1, ino: this.files.size + 1, size, mtimeMs });
  }

  scheduler(over: Partial<SchedulerOptions> & { run?: (c: Candidate) => Promise<RunResult> } = {}): Scheduler {
    return new Scheduler({
      settleMs: 1000,
      concurrency: 1,
      busyRecheckMs: 1000,
      backoffMs: { initial: 1000, max: 8000 },
      now: () => this.now,
      identify: async (p) => this.files.get(String(p)),
      classify: (): Fault => ({ kind: 'environment', code: 'ECONNREFUSED' }),
      onFault: (c, _err, _fault, info) => this.faults.push({ name: c.file.name, retryInMs: info.retryInMs, failures: info.failures }),
      run: this.running(() => ({ kind: 'finished' })),
      ...over,
    });
  }

  /** A run that records the file, takes it out of the inbox and answers `result` (which may throw instead). */
  running(result: (c: Candidate) => RunResult): (c: Candidate) => Promise<RunResult> {
    return async (c) => {
      this.runs.push(c.file.name);
      const r = result(c);
      this.files.delete(String(c.file.fsPath));
      return r;
    };
  }

  /** Moves the injected clock and fires the timers that fall due, letting their promises settle. */
  async advance(ms: number): Promise<void> {
    for (let step = 0; step < ms; step += 50) {
      this.now += Math.min(50, ms - step);
      await vi.advanceTimersByTimeAsync(Math.min(50, ms - step));
    }
  }
}

describe('Scheduler', () => {
  let w: World;
  let s: Scheduler | undefined;
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    w = new World();
  });
  afterEach(async () => {
    await s?.stop();
    vi.useRealTimers();
  });

  it('takes a file only after it has been unchanged for the settle time, counted again from each change', async () => {
    s = w.scheduler();
    const a = file('S1', 'a.xml');
    w.put(a, 5);
    s.offer(a, 'S1');
    await w.advance(900);
    expect(w.runs).toEqual([]);
    // Still being written: its size changes, and the settle time starts again.
    w.files.set(String(a.fsPath), { ...w.files.get(String(a.fsPath))!, size: 20 });
    // Seen changed at the check at 1000 ms: taken 1000 ms after that, not after the first sighting.
    await w.advance(1000);
    expect(w.runs).toEqual([]);
    await w.advance(200);
    expect(w.runs).toEqual(['a.xml']);
  });

  it("runs a sponsor's oldest file first, whatever the order it was seen in", async () => {
    s = w.scheduler();
    s.hold();
    const names = ['c.xml', 'a.xml', 'b.xml'];
    const mtimes: Record<string, number> = { 'a.xml': 100, 'b.xml': 200, 'c.xml': 300 };
    for (const n of names) {
      const f = file('S1', n);
      w.put(f, mtimes[n]!);
      s.offer(f, 'S1');
    }
    await w.advance(2500);
    expect(w.runs).toEqual([]);
    s.release();
    await w.advance(500);
    expect(w.runs).toEqual(['a.xml', 'b.xml', 'c.xml']);
  });

  it('backs off a failing file alone, doubling, while the other files go on', async () => {
    let failing = true;
    s = w.scheduler({
      concurrency: 2,
      run: w.running((c) => {
        if (c.file.name === 'bad.xml' && failing) throw new Error('database down');
        return { kind: 'finished' };
      }),
    });
    const bad = file('S1', 'bad.xml');
    w.put(bad, 1);
    s.offer(bad, 'S1');
    await w.advance(1100);
    expect(w.faults.map((f) => f.retryInMs)).toEqual([1000]);
    const good = file('S2', 'good.xml');
    w.put(good, 2);
    s.offer(good, 'S2');
    await w.advance(1100);
    expect(w.runs).toContain('good.xml');
    expect(w.faults.map((f) => f.retryInMs)).toEqual([1000, 2000]);
    await w.advance(2000);
    expect(w.faults.map((f) => f.retryInMs)).toEqual([1000, 2000, 4000]);
    failing = false;
    await w.advance(4000);
    expect(w.runs.filter((n) => n === 'bad.xml')).toHaveLength(4);
    expect(w.faults).toHaveLength(3);
    expect(s.stats().known).toBe(0);
  });

  it('forgets a file that was gone while it ran, and does not run it again', async () => {
    s = w.scheduler({ run: w.running(() => ({ kind: 'vanished' })) });
    const f = file('S1', 'gone.xml');
    w.put(f, 1);
    s.offer(f, 'S1');
    await w.advance(1100);
    expect(w.runs).toEqual(['gone.xml']);
    await w.advance(3000);
    expect(w.runs).toEqual(['gone.xml']);
    expect(s.stats()).toMatchObject({ known: 0, running: 0 });
  });

  it("hands a sponsor's ready small files over as groups, oldest first, within the bounds, and a file ready alone at once", async () => {
    const groups: string[][] = [];
    s = w.scheduler({
      group: {
        maxFiles: 3,
        maxBytes: 100,
        maxFileBytes: 48,
        run: async (cs) => {
          groups.push(cs.map((c) => c.file.name));
          for (const c of cs) w.files.delete(String(c.file.fsPath));
          return cs.map(() => ({ result: { kind: 'finished' } }));
        },
      },
    });
    // Sponsor A: seven files, one of them too large to join a group (it goes alone, in its turn).
    const sizes = [10, 10, 10, 10, 50, 10, 10];
    sizes.forEach((size, i) => {
      const f = file('A', `a${i}.xml`);
      w.put(f, 100 + i, size);
      s!.offer(f, 'A');
    });
    // Sponsor B: two files of 45 bytes and one of 20; at most 100 bytes go together.
    [45, 45, 20].forEach((size, i) => {
      const f = file('B', `b${i}.xml`);
      w.put(f, 100 + i, size);
      s!.offer(f, 'B');
    });
    await w.advance(3000);
    // Sponsors take turns a group at a time. A's group stops at three files; B's at 100
    // bytes (45 + 45; b2 would make 110). A's next group stops at the large file, so a3
    // goes alone; b2 is B's last; the large file goes alone; then A's last two.
    expect(groups).toEqual([
      ['a0.xml', 'a1.xml', 'a2.xml'],
      ['b0.xml', 'b1.xml'],
      ['a5.xml', 'a6.xml'],
    ]);
    expect(w.runs).toEqual(['a3.xml', 'b2.xml', 'a4.xml']);
    expect(s.stats()).toMatchObject({ known: 0, running: 0 });
  });
});
