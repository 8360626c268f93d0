/** Fee amounts, the fee update record rules and sponsor notes (domain/fees.ts): no I/O. */
import { describe, expect, it } from 'vitest';
import {
  applyFees,
  currentFees,
  describeFeeChange,
  feesFromJson,
  inPounds,
  judgeFeeUpdate,
  MAX_NOTE_CHARS,
  noteProblem,
  parsePounds,
  type Fees,
} from '../../src/domain/fees.ts';

const fees = (over: Partial<Fees> = {}): Fees => ({
  course: 2450000,
  coursePaid: null,
  accommodationPaid: null,
  boardingPaid: null,
  ...over,
});
const CAS = 'E4G7QK3M58T2B4';

describe('parsePounds', () => {
  it.each([
    ['0', 0],
    ['0.00', 0],
    ['-0.00', 0],
    ['+12.5', 1250],
    ['.50', 50],
    ['5.', 500],
    [' 24500.00 ', 2450000],
    ['0001.10', 110],
    ['1.500', 150],
    ['999999999.99', 99999999999],
  ])('%j is %d pence', (text, pence) => expect(parsePounds(text)).toBe(pence));

  it.each(['', '.', '-1', '-0.01', '1.005', '1E3', '1,000', '£1', '1000000000', '1000000000.00', 'NaN'])('%j is not an amount', (text) => {
    expect(parsePounds(text)).toBeUndefined();
  });
});

describe('current fees', () => {
  it('are the updated ones when there are, else those of the upload', () => {
    const uploaded = {
      FinancialAndAccommodationDetails: {
        CourseFeesForFirstYearOnly: '24500.00',
        CourseFeesPaidToDate: '5000',
        BoardingFeesForFirstYearOnly: '0',
      },
    };
    expect(currentFees(null, uploaded)).toEqual(fees({ coursePaid: 500000 }));
    expect(currentFees(fees({ coursePaid: 1 }), uploaded)).toEqual(fees({ coursePaid: 1 }));
    expect(currentFees(null, {})).toEqual({ course: null, coursePaid: null, accommodationPaid: null, boardingPaid: null });
  });

  it('refuse stored JSON that is not fees', () => {
    expect(feesFromJson({ course: -1 })).toBeUndefined();
    expect(feesFromJson({ course: 1.5 })).toBeUndefined();
    expect(feesFromJson([1])).toBeUndefined();
    expect(feesFromJson({ course: 1 })).toEqual({ course: 1, coursePaid: null, accommodationPaid: null, boardingPaid: null });
  });
});

describe('judgeFeeUpdate', () => {
  it('accepts a paid amount on an ASSIGNED or USED CAS and leaves out what the record does not give', () => {
    for (const status of ['ASSIGNED', 'USED'] as const) {
      const j = judgeFeeUpdate(CAS, { course: 2450000, accommodationPaid: 10000 }, { status, fees: fees({ coursePaid: 500000 }) });
      expect(j).toEqual({ issues: [], fees: fees({ coursePaid: 500000, accommodationPaid: 10000 }) });
    }
  });

  it('reports every error of the record: no paid amount and an unknown CAS', () => {
    const j = judgeFeeUpdate(CAS, { course: 100 }, undefined);
    expect(j.issues.map((i) => [i.code, i.severity, i.field])).toEqual([
      ['E_FEES_PAID_MISSING', 'ERROR', undefined],
      ['E_CAS_NOT_FOUND', 'ERROR', 'CASNumber'],
    ]);
    expect(j.fees).toBeUndefined();
  });

  it.each(['WORK_IN_PROGRESS', 'READY_TO_GO', 'WITHDRAWN', 'OBSOLETE', 'EXPIRED', 'CANCELLED'] as const)('refuses a %s CAS', (status) => {
    const j = judgeFeeUpdate(CAS, { course: 2450000, coursePaid: 1 }, { status, fees: fees() });
    expect(j.issues.map((i) => i.code)).toEqual(['E_CAS_STATUS']);
    expect(j.issues[0]!.message).toBe(`CAS ${CAS} has status ${status}; fees can be updated only on an ASSIGNED or USED CAS`);
  });

  it('warns W_NO_CHANGE, changing nothing, when the result equals the current fees', () => {
    const j = judgeFeeUpdate(
      CAS,
      { course: 2450000, coursePaid: 500000 },
      { status: 'ASSIGNED', fees: fees({ coursePaid: 500000, boardingPaid: 0 }) },
    );
    expect(j.issues.map((i) => [i.code, i.severity])).toEqual([['W_NO_CHANGE', 'WARNING']]);
    expect(j.fees).toBeUndefined();
  });

  it('counts a new course fee as a change', () => {
    expect(
      judgeFeeUpdate(CAS, { course: 2500000, coursePaid: 500000 }, { status: 'USED', fees: fees({ coursePaid: 500000 }) }).fees,
    ).toEqual(fees({ course: 2500000, coursePaid: 500000 }));
  });
});

describe('describing fees', () => {
  it('names only the amounts that changed, in pounds', () => {
    const before = fees({ coursePaid: 432109 });
    const after = applyFees(before, { coursePaid: 500000, boardingPaid: 0 });
    expect(describeFeeChange(inPounds(before), inPounds(after))).toBe(
      'course fees paid 4321.09 -> 5000.00; boarding fees paid (none) -> 0.00',
    );
    expect(describeFeeChange(inPounds(before), inPounds(before))).toBe('no change');
  });
});

describe('noteProblem', () => {
  it('accepts printable Latin-1 and line breaks up to the limit', () => {
    expect(noteProblem('Paid in full by the Müller Trust.\r\n\tSecond line.')).toBeUndefined();
    expect(noteProblem('x'.repeat(MAX_NOTE_CHARS))).toBeUndefined();
  });

  it.each([
    ['', 'the note is empty'],
    [' \n ', 'the note is empty'],
    ['x'.repeat(MAX_NOTE_CHARS + 1), 'the note has 2001 characters; at most 2000 are kept'],
    ['Łukasz', "U+0141 'Ł'"],
    ['a\u0000b', 'U+0000,'],
    ['a\u0085b', 'U+0085,'],
    ['emoji \u{1F600}', 'U+1F600'],
  ])('refuses %j', (text, message) => {
    expect(noteProblem(text)).toContain(message);
  });
});
