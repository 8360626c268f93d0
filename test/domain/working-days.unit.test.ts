/**
 * Due dates of student activity reports: trigger + 10 working days, skipping weekends and
 * the configured nation's bank holidays (from the holiday library), around the August bank
 * holidays (first Monday in Scotland, last Monday in England and Wales), Christmas and
 * New Year (2 January only in Scotland), and St Patrick's Day in Northern Ireland.
 */
import { describe, expect, it } from 'vitest';
import { addWorkingDays, bankHolidays, dueDate, isWorkingDay, NATIONS } from '../../src/domain/working-days.ts';

describe('bank holidays from the library', () => {
  it("knows each nation's August bank holiday and Christmas, Boxing Day's substitute included", () => {
    const eng = bankHolidays('england-and-wales', 2026);
    const sct = bankHolidays('scotland', 2026);
    expect(eng.has('2026-08-31')).toBe(true);
    expect(eng.has('2026-08-03')).toBe(false);
    expect(sct.has('2026-08-03')).toBe(true);
    expect(sct.has('2026-08-31')).toBe(false);
    for (const n of NATIONS) for (const d of ['2026-12-25', '2026-12-28']) expect(bankHolidays(n, 2026).has(d)).toBe(true);
    expect(bankHolidays('scotland', 2027).has('2027-01-04')).toBe(true); // 2 January's substitute
    expect(bankHolidays('england-and-wales', 2027).has('2027-01-04')).toBe(false);
    expect(bankHolidays('northern-ireland', 2026).has('2026-03-17')).toBe(true);
    expect(eng.has('2026-03-17')).toBe(false);
  });

  it('counts weekends and bank holidays as non-working days', () => {
    expect(isWorkingDay('2026-08-28', 'england-and-wales')).toBe(true); // Friday
    expect(isWorkingDay('2026-08-29', 'england-and-wales')).toBe(false); // Saturday
    expect(isWorkingDay('2026-08-31', 'england-and-wales')).toBe(false);
    expect(isWorkingDay('2026-08-31', 'scotland')).toBe(true);
    expect(() => isWorkingDay('2026-02-30', 'scotland')).toThrow(RangeError);
  });
});

describe('due date: trigger + 10 working days', () => {
  it('is two weeks later when no bank holiday is in between', () => {
    expect(dueDate('2026-06-01', 'england-and-wales')).toBe('2026-06-15'); // Monday -> Monday
    expect(dueDate('2026-06-06', 'england-and-wales')).toBe('2026-06-19'); // a Saturday trigger: the next Monday is day 1
    expect(addWorkingDays('2026-06-05', 0, 'england-and-wales')).toBe('2026-06-05');
  });

  it("skips England's late-August bank holiday, not Scotland's early one", () => {
    // Mon 24 Aug 2026: the 10th working day is Tue 8 Sep in England (31 Aug skipped), Mon 7 Sep in Scotland.
    expect(dueDate('2026-08-24', 'england-and-wales')).toBe('2026-09-08');
    expect(dueDate('2026-08-24', 'scotland')).toBe('2026-09-07');
  });

  it("skips Scotland's early-August bank holiday, not England's", () => {
    // Mon 27 Jul 2026 -> England Mon 10 Aug; Scotland skips Mon 3 Aug -> Tue 11 Aug.
    expect(dueDate('2026-07-27', 'england-and-wales')).toBe('2026-08-10');
    expect(dueDate('2026-07-27', 'scotland')).toBe('2026-08-11');
  });

  it('skips Christmas, Boxing Day (substitute) and New Year, and 2 January in Scotland', () => {
    // Fri 18 Dec 2026: working days 21,22,23,24 Dec, 29,30,31 Dec, (1 Jan holiday) 4,5,6 Jan -> 6 Jan 2027.
    expect(dueDate('2026-12-18', 'england-and-wales')).toBe('2027-01-06');
    expect(dueDate('2026-12-18', 'northern-ireland')).toBe('2027-01-06');
    // Scotland: 2 Jan 2027 is a Saturday, so its substitute (Mon 4 Jan) is skipped too -> 7 Jan.
    expect(dueDate('2026-12-18', 'scotland')).toBe('2027-01-07');
    // Christmas 2025 (Thu) and Boxing Day (Fri), from Fri 19 Dec: 22,23,24, 29,30,31 Dec, 2,5,6,7 Jan; Scotland also skips 2 Jan.
    expect(dueDate('2025-12-19', 'england-and-wales')).toBe('2026-01-07');
    expect(dueDate('2025-12-19', 'scotland')).toBe('2026-01-08');
  });
});
