/** Judging the compliance rates: the thresholds of the date, the at-risk band, too few, the window and the overdue cutoff. */
import { describe, expect, it } from 'vitest';
import { judge, overdueStartCutoff, thresholdsOn, windowOf } from '../../src/domain/compliance.ts';
import { dueDate } from '../../src/domain/working-days.ts';

describe('compliance rules', () => {
  it('takes the thresholds of the date judged, tighter from 2026-06-01', () => {
    expect(thresholdsOn('2026-05-31')).toMatchObject({ refusalBelow: 10, enrolmentAtLeast: 90, completionAtLeast: 85 });
    expect(thresholdsOn('2026-06-01')).toMatchObject({ refusalBelow: 5, enrolmentAtLeast: 95, completionAtLeast: 85 });
  });

  it('judges a refusal rate: pass below threshold - 2 points, at risk up to the threshold, fail at it', () => {
    expect(judge(2, 100, 5, true).state).toBe('pass');
    expect(judge(3, 100, 5, true).state).toBe('at risk');
    expect(judge(4, 100, 5, true).state).toBe('at risk');
    expect(judge(5, 100, 5, true).state).toBe('fail');
  });

  it('judges an at-least rate: fail below, at risk within 2 points above, pass beyond', () => {
    expect(judge(94, 100, 95, false).state).toBe('fail');
    expect(judge(95, 100, 95, false).state).toBe('at risk');
    expect(judge(96, 100, 95, false).state).toBe('at risk');
    expect(judge(97, 100, 95, false).state).toBe('pass');
  });

  it('calls fewer than 50 cases too few, whatever the rate', () => {
    expect(judge(49, 49, 90, false)).toMatchObject({ state: 'too few', rate: 1 });
    expect(judge(0, 0, 90, false)).toMatchObject({ state: 'too few', rate: null });
    expect(judge(50, 50, 90, false).state).toBe('pass');
  });

  it('has a 12-month window ending on the date, and the latest overdue course start', () => {
    expect(windowOf('2026-06-01')).toEqual({ from: '2025-06-02', to: '2026-06-01' });
    const cutoff = overdueStartCutoff('2026-09-15', 'england-and-wales');
    expect(dueDate(cutoff, 'england-and-wales') < '2026-09-15').toBe(true);
    expect(dueDate('2026-09-01', 'england-and-wales')).toBe('2026-09-15');
    expect(cutoff).toBe('2026-08-31');
  });
});
