/** The service's periodic jobs: the run just after each midnight UTC. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { afterEachMidnight } from '../../src/service/every.ts';

describe('afterEachMidnight', () => {
  afterEach(() => vi.useRealTimers());

  it('runs the job one second after each midnight UTC, not before, until stopped', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    vi.setSystemTime(new Date('2026-12-06T23:59:58.000Z'));
    const runs: string[] = [];
    const m = afterEachMidnight(() => runs.push(new Date().toISOString()));
    vi.advanceTimersByTime(2_500);
    expect(runs).toEqual([]);
    vi.advanceTimersByTime(500);
    expect(runs).toEqual(['2026-12-07T00:00:01.000Z']);
    vi.advanceTimersByTime(24 * 3_600_000);
    expect(runs).toEqual(['2026-12-07T00:00:01.000Z', '2026-12-08T00:00:01.000Z']);
    m.stop();
    vi.advanceTimersByTime(2 * 24 * 3_600_000);
    expect(runs).toHaveLength(2);
  });
});
