/** The rules of assigning CAS (domain/assignment.ts): the payment's amount and the expiry date; no I/O. */
import { describe, expect, it } from 'vitest';
import { assignmentFee, casExpiry } from '../../src/domain/assignment.ts';

describe('assignmentFee', () => {
  it('is the fee of one CAS times the count', () => {
    expect(assignmentFee(2500, 1)).toBe(2500);
    expect(assignmentFee(2500, 40)).toBe(100_000);
    expect(assignmentFee(1999, 3)).toBe(5997);
  });

  it('is nothing for no CAS, or a free fee', () => {
    expect(assignmentFee(2500, 0)).toBe(0);
    expect(assignmentFee(0, 12)).toBe(0);
  });

  it('refuses a fee or count that is not a whole non-negative number', () => {
    expect(() => assignmentFee(25.5, 2)).toThrow(/whole pence/);
    expect(() => assignmentFee(-1, 2)).toThrow(/whole pence/);
    expect(() => assignmentFee(2500, 1.5)).toThrow(/whole number/);
    expect(() => assignmentFee(2500, -1)).toThrow(/whole number/);
  });
});

describe('casExpiry', () => {
  it('is the validity in calendar months after the day of assignment', () => {
    expect(casExpiry(new Date('2026-03-15T10:00:00Z'), 6)).toBe('2026-09-15');
    expect(casExpiry(new Date('2026-03-15T10:00:00Z'), 12)).toBe('2027-03-15');
  });

  it('takes the day in UTC, not local time', () => {
    expect(casExpiry(new Date('2026-03-15T23:59:59.999Z'), 1)).toBe('2026-04-15');
    expect(casExpiry(new Date('2026-03-16T00:00:00Z'), 1)).toBe('2026-04-16');
  });

  it('clamps a day the target month does not have to its last day', () => {
    expect(casExpiry(new Date('2027-08-31T12:00:00Z'), 6)).toBe('2028-02-29');
    expect(casExpiry(new Date('2026-08-31T12:00:00Z'), 6)).toBe('2027-02-28');
  });
});
