import { describe, expect, it } from 'vitest';
import {
  addDays,
  addMonths,
  ageAt,
  compareDates,
  isAfter,
  isBefore,
  isIsoDate,
  isoDateUtc,
  parseIsoDate,
  partialDateEarliest,
  partialDateLatest,
  rangesOverlap,
} from '../../src/domain/dates.ts';

describe('parseIsoDate / isIsoDate', () => {
  it('parses real dates only', () => {
    expect(parseIsoDate('2013-12-26')).toEqual({ year: 2013, month: 12, day: 26 });
    expect(isIsoDate('2024-02-29')).toBe(true);
    expect(isIsoDate('2023-02-29')).toBe(false);
    expect(isIsoDate('1900-02-29')).toBe(false);
    expect(isIsoDate('2000-02-29')).toBe(true);
    expect(isIsoDate('2013-04-31')).toBe(false);
    expect(isIsoDate('2013-13-01')).toBe(false);
    expect(isIsoDate('2013-00-10')).toBe(false);
    expect(isIsoDate('2013-1-01')).toBe(false);
    expect(isIsoDate('2013-12-26Z')).toBe(false);
  });
});

describe('compareDates', () => {
  it('orders by calendar day', () => {
    expect(compareDates('2013-12-26', '2013-12-27')).toBe(-1);
    expect(compareDates('2013-12-26', '2013-12-26')).toBe(0);
    expect(compareDates('2014-01-01', '2013-12-31')).toBe(1);
    expect(isBefore('2013-12-25', '2013-12-26')).toBe(true);
    expect(isBefore('2013-12-26', '2013-12-26')).toBe(false);
    expect(isAfter('2013-12-27', '2013-12-26')).toBe(true);
    expect(isAfter('2013-12-26', '2013-12-26')).toBe(false);
  });

  it('handles five-digit years numerically, not lexically', () => {
    expect(compareDates('10000-01-01', '9999-12-31')).toBe(1);
  });

  it('throws on a non-date (a bug upstream)', () => {
    expect(() => compareDates('2013-02-30', '2013-03-01')).toThrow(/Not a YYYY-MM-DD date/);
  });
});

describe('addMonths', () => {
  it('clamps to the end of a shorter month', () => {
    expect(addMonths('2027-08-31', 6)).toBe('2028-02-29');
    expect(addMonths('2026-08-31', 6)).toBe('2027-02-28');
    expect(addMonths('2027-01-31', 1)).toBe('2027-02-28');
    expect(addMonths('2027-03-31', 1)).toBe('2027-04-30');
  });

  it('keeps the day when it exists and crosses years', () => {
    expect(addMonths('2027-08-15', 6)).toBe('2028-02-15');
    expect(addMonths('2027-12-01', 1)).toBe('2028-01-01');
    expect(addMonths('2027-01-15', 24)).toBe('2029-01-15');
    expect(addMonths('2027-01-15', 0)).toBe('2027-01-15');
  });

  it('subtracts with negative months', () => {
    expect(addMonths('2028-03-31', -1)).toBe('2028-02-29');
    expect(addMonths('2028-01-15', -2)).toBe('2027-11-15');
  });
});

describe('addDays', () => {
  it('crosses months, years and leap days', () => {
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(addDays('2027-02-28', 1)).toBe('2027-03-01');
    expect(addDays('2027-12-31', 1)).toBe('2028-01-01');
    expect(addDays('2028-01-01', -1)).toBe('2027-12-31');
    expect(addDays('0050-01-01', 1)).toBe('0050-01-02');
  });
});

describe('ageAt', () => {
  it('counts whole years, the birthday itself included', () => {
    expect(ageAt('2000-06-15', '2018-06-14')).toBe(17);
    expect(ageAt('2000-06-15', '2018-06-15')).toBe(18);
    expect(ageAt('2000-06-15', '2004-06-15')).toBe(4);
    expect(ageAt('2000-06-15', '2004-06-14')).toBe(3);
    expect(ageAt('2000-06-15', '2000-06-15')).toBe(0);
  });

  it('has someone born on 29 February reach their birthday on 1 March', () => {
    expect(ageAt('2008-02-29', '2026-02-28')).toBe(17);
    expect(ageAt('2008-02-29', '2026-03-01')).toBe(18);
    expect(ageAt('2008-02-29', '2028-02-29')).toBe(20);
  });

  it('is negative when born after the date', () => {
    expect(ageAt('2014-06-01', '2013-06-01')).toBe(-1);
  });
});

describe('partial dates', () => {
  it('gives the earliest possible day', () => {
    expect(partialDateEarliest({ kind: 'full', value: '1980-05-17' })).toBe('1980-05-17');
    expect(partialDateEarliest({ kind: 'yearMonth', value: '1980-05' })).toBe('1980-05-01');
    expect(partialDateEarliest({ kind: 'year', value: '1980' })).toBe('1980-01-01');
  });

  it('gives the latest possible day', () => {
    expect(partialDateLatest({ kind: 'full', value: '1980-05-17' })).toBe('1980-05-17');
    expect(partialDateLatest({ kind: 'yearMonth', value: '1980-02' })).toBe('1980-02-29');
    expect(partialDateLatest({ kind: 'yearMonth', value: '1981-02' })).toBe('1981-02-28');
    expect(partialDateLatest({ kind: 'yearMonth', value: '1981-04' })).toBe('1981-04-30');
    expect(partialDateLatest({ kind: 'year', value: '1980' })).toBe('1980-12-31');
  });

  it('throws on an impossible partial date', () => {
    expect(() => partialDateEarliest({ kind: 'yearMonth', value: '1980-13' })).toThrow();
  });
});

describe('rangesOverlap (strict: startA < endB && startB < endA)', () => {
  const a = { start: '2025-09-01', end: '2026-06-30' };

  it('overlaps when the periods share more than a boundary day', () => {
    expect(rangesOverlap(a, { start: '2026-06-29', end: '2027-06-30' })).toBe(true);
    expect(rangesOverlap(a, { start: '2025-01-01', end: '2025-09-02' })).toBe(true);
    expect(rangesOverlap(a, { start: '2025-10-01', end: '2025-11-01' })).toBe(true); // inside
    expect(rangesOverlap(a, a)).toBe(true);
  });

  it('treats consecutive courses as not overlapping, also when one ends the day the other starts', () => {
    expect(rangesOverlap(a, { start: '2026-07-01', end: '2027-06-30' })).toBe(false);
    expect(rangesOverlap(a, { start: '2026-06-30', end: '2027-06-30' })).toBe(false);
    expect(rangesOverlap({ start: '2024-09-01', end: '2025-09-01' }, a)).toBe(false);
    expect(rangesOverlap(a, { start: '2027-01-01', end: '2028-01-01' })).toBe(false);
  });
});

describe('isoDateUtc', () => {
  it('takes the UTC calendar day of an instant', () => {
    expect(isoDateUtc(new Date('2027-08-31T23:30:00Z'))).toBe('2027-08-31');
    expect(isoDateUtc(new Date('2027-08-31T23:30:00-02:00'))).toBe('2027-09-01');
  });
});
