/**
 * SharedRuns: every answer comes from a run that began after the call; callers that ask
 * while a run is in progress share the next one; a failed run neither wedges a key nor
 * answers a later caller; an idle key holds nothing.
 */
import { describe, expect, it } from 'vitest';
import { SharedRuns } from '../src/shared-runs.ts';

/** Shared runs that end when the test says, each answering with its own number (from 1). */
function pacedRuns() {
  const started: { key: string; n: number; end: (ok: boolean) => void }[] = [];
  const run = (key: string) =>
    new Promise<string>((resolve, reject) => {
      const n = started.length + 1;
      started.push({ key, n, end: (ok) => (ok ? resolve(`${key}#${n}`) : reject(new Error(`run ${n} failed`))) });
    });
  return { started, runs: new SharedRuns(run) };
}

/** Lets every settled promise's callbacks run. */
const settle = () => new Promise((r) => setImmediate(r));

describe('SharedRuns', () => {
  it('answers a burst of calls with at most two runs, each from a run begun after the call', async () => {
    const { started, runs } = pacedRuns();
    const first = runs.get('d');
    // Asked while run 1 is in progress: answered by run 2, which starts only when run 1 ends.
    const later = Array.from({ length: 50 }, () => runs.get('d'));
    await settle();
    expect(started.map((s) => s.n)).toEqual([1]);
    started[0]!.end(true);
    expect(await first).toBe('d#1');
    await settle();
    expect(started.map((s) => s.n)).toEqual([1, 2]);
    // Asked while run 2 is in progress: not answered by it.
    const last = runs.get('d');
    started[1]!.end(true);
    expect(new Set(await Promise.all(later))).toEqual(new Set(['d#2']));
    await settle();
    expect(started.map((s) => s.n)).toEqual([1, 2, 3]);
    started[2]!.end(true);
    expect(await last).toBe('d#3');
    await settle();
    expect(runs.size).toBe(0);
  });

  it('keeps keys apart', async () => {
    const { started, runs } = pacedRuns();
    const a = runs.get('a');
    const b = runs.get('b');
    await settle();
    expect(started.map((s) => s.key)).toEqual(['a', 'b']);
    started[1]!.end(true);
    started[0]!.end(true);
    expect([await a, await b]).toEqual(['a#1', 'b#2']);
  });

  it('starts the next run after a failed one, and gives the failure only to those it answered', async () => {
    const { started, runs } = pacedRuns();
    const first = runs.get('d');
    const second = runs.get('d');
    await settle();
    started[0]!.end(false);
    await expect(first).rejects.toThrow('run 1 failed');
    await settle();
    expect(started).toHaveLength(2);
    started[1]!.end(true);
    expect(await second).toBe('d#2');
    // Idle again, then a new call starts a run of its own at once.
    await settle();
    expect(runs.size).toBe(0);
    const third = runs.get('d');
    expect(started).toHaveLength(3);
    started[2]!.end(true);
    expect(await third).toBe('d#3');
  });
});
