/**
 * Student activity reports in the store, on both stores, as the report file kind's store
 * step will record them: each kind's status rule (E_CAS_STATUS, suspension state),
 * another sponsor's CAS (E_CAS_NOT_FOUND, same words), dates (E_REPORT_DATE), the same CAS
 * and kind twice (E_DUPLICATE_IN_FILE), an identical report (W_ALREADY_REPORTED, nothing
 * changes), a late one (W_LATE_REPORT naming the due date), due dates per nation, the
 * history entry (notes kept, status unchanged) and `cas list --reported`.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { countCas, listCas } from '../../src/db/cas-query.ts';
import type { ReportInput } from '../../src/domain/reports.ts';
import { reportLines } from '../../src/cli/commands/cas-show.ts';
import { recordReports } from '../../src/ops/reports.ts';
import { useCas } from '../../src/ops/use.ts';
import { licenceFor, Scenario } from '../helpers/lifecycle.ts';
import { suiteStore } from '../helpers/fixture.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

describe.each(STORE_KINDS)('student activity reports on %s', (kind) => {
  const t = suiteStore(kind);
  let s: Scenario;
  const L = licenceFor('REPT');
  const OTHER = licenceFor('REPO');
  const numbers: Record<string, string> = {};
  const received = new Date('2026-09-10T10:00:00Z');
  const opts = { receivedAt: received, nation: 'england-and-wales' as const, reason: 'test reports' };

  beforeAll(async () => {
    s = new Scenario(t.store);
    await s.sponsor(L);
    await s.sponsor(OTHER);
    await s.upload(
      L,
      'REPT-UP',
      ['U1', 'U2', 'U3', 'A1'].map((a, i) => ({
        applicantId: a,
        passport: `RP00000${i}`,
        courseStart: '2026-09-14',
        courseEnd: '2027-06-30',
      })),
    );
    await s.upload(OTHER, 'REPO-UP', [{ applicantId: 'O1', passport: 'RO000001', courseStart: '2026-09-14', courseEnd: '2027-06-30' }]);
    for (const a of ['U1', 'U2', 'U3', 'A1']) numbers[a] = (await s.cas(L, a)).casNumber!;
    numbers.O1 = (await s.cas(OTHER, 'O1')).casNumber!;
    for (const a of ['U1', 'U2', 'U3'])
      expect((await useCas(s.db, { casNumber: numbers[a]! }, '2026-08-01', new Date())).kind).toBe('done');
  });

  const r = (a: string, k: ReportInput['kind'], fields: Record<string, string>, notes?: string): ReportInput => ({
    casNumber: numbers[a]!,
    kind: k,
    fields,
    ...(notes !== undefined ? { notes } : {}),
  });

  it('judges each record, stores the accepted ones with due dates and flags late ones', async () => {
    const out = await recordReports(
      s.db,
      L,
      [
        r('A1', 'NOT_ENROLLED', { ExpectedEnrollmentDate: '2026-08-28' }, 'Emailed twice, no reply.'), // ASSIGNED: allowed
        r('A1', 'STOPPED_ATTENDING', { LastContactDate: '2026-08-28' }), // needs USED
        r('U1', 'WITHDRAWN', { EffectiveDate: '2026-08-24', Reason: 'STUDENT_WITHDREW' }), // due 2026-09-08: late
        r('U2', 'SUSPENDED', { StartDate: '2026-09-01', ExpectedReturnDate: '2027-01-10' }),
        r('U3', 'RESUMED', { ReturnDate: '2026-09-01' }), // not suspended
        r('O1', 'COMPLETED_EARLY', { CompletionDate: '2026-09-01' }), // another sponsor's CAS
        r('U3', 'COURSE_CHANGED', { EffectiveDate: '2026-09-11', NewCourseEndDate: '2027-12-01' }), // after the day received
        r('U3', 'STOPPED_ATTENDING', { LastContactDate: '2026-09-02' }),
        r('U3', 'STOPPED_ATTENDING', { LastContactDate: '2026-09-03' }), // same CAS and kind twice
      ],
      opts,
    );
    const summary = out.map((o) => [o.outcome, o.dueDate ?? null, o.issues.map((i) => i.code)]);
    expect(summary).toEqual([
      ['REPORTED', '2026-09-14', []], // Fri 28 Aug + 10 working days, Mon 31 Aug a bank holiday
      ['REJECTED', null, ['E_CAS_STATUS']],
      ['REPORTED', '2026-09-08', ['W_LATE_REPORT']],
      ['REPORTED', '2026-09-15', []],
      ['REJECTED', null, ['E_CAS_STATUS']],
      ['REJECTED', null, ['E_CAS_NOT_FOUND']],
      ['REJECTED', null, ['E_REPORT_DATE']],
      ['REJECTED', null, ['E_DUPLICATE_IN_FILE']],
      ['REJECTED', null, ['E_DUPLICATE_IN_FILE']],
    ]);
    expect(out[2]!.issues[0]!.message).toContain('due by 2026-09-08');
    expect(out[5]!.issues[0]!.message).toBe(`CAS ${numbers.O1} was not found for this sponsor`);
    expect(out[1]!.issues[0]!.message).toContain('needs a USED CAS');
  });

  it('keeps reports in the history (notes included), never changes the status, and finds them with --reported', async () => {
    const a1 = await s.cas(L, 'A1');
    expect(a1.status).toBe('ASSIGNED');
    const h = (await s.history(a1)).filter((e) => e.event === 'REPORT');
    expect(h).toHaveLength(1);
    expect(h[0]).toMatchObject({ from: 'ASSIGNED', to: 'ASSIGNED' });
    expect(h[0]!.report).toMatchObject({
      kind: 'NOT_ENROLLED',
      triggerDate: '2026-08-28',
      fields: { ExpectedEnrollmentDate: '2026-08-28' },
      notes: 'Emailed twice, no reply.',
      dueDate: '2026-09-14',
      late: false,
    });
    const lines = reportLines(h[0]!.at, h[0]!.report!, h[0]!.reason);
    expect(lines[0]).toContain('REPORT NOT_ENROLLED: ExpectedEnrollmentDate 2026-08-28; due 2026-09-14');
    expect(lines[1]).toContain('Emailed twice, no reply.');
    const u1 = (await s.history(await s.cas(L, 'U1'))).find((e) => e.event === 'REPORT')!;
    expect(u1.report).toMatchObject({ kind: 'WITHDRAWN', fields: { Reason: 'STUDENT_WITHDREW' }, late: true });
    expect(reportLines(u1.at, u1.report!, u1.reason)[0]).toContain('LATE');

    expect((await listCas(s.db, { licence: L, reported: 'NOT_ENROLLED' })).map((c) => c.applicantId)).toEqual(['A1']);
    expect((await listCas(s.db, { licence: L, reported: 'SUSPENDED' })).map((c) => c.applicantId)).toEqual(['U2']);
    expect(await countCas(s.db, { licence: L, reported: 'COMPLETED_EARLY' })).toBe(0);
    expect(await countCas(s.db, { licence: OTHER, reported: 'COMPLETED_EARLY' })).toBe(0);
  });

  it('takes an identical report as W_ALREADY_REPORTED, changing nothing; follows suspension state', async () => {
    const u2 = await s.cas(L, 'U2');
    const before = (await s.history(u2)).length;
    const again = await recordReports(s.db, L, [r('U2', 'SUSPENDED', { StartDate: '2026-09-01', ExpectedReturnDate: '2027-01-10' })], opts);
    expect(again.map((o) => [o.outcome, o.dueDate, o.issues.map((i) => i.code)])).toEqual([
      ['REPORTED', '2026-09-15', ['W_ALREADY_REPORTED']],
    ]);
    expect((await s.history(u2)).length).toBe(before);
    // Suspended now: a second, different suspension is refused; a resumption is accepted, then a suspension again.
    const seq = await recordReports(s.db, L, [r('U2', 'SUSPENDED', { StartDate: '2026-09-02', ExpectedReturnDate: '2027-01-10' })], opts);
    expect(seq[0]!.issues.map((i) => i.code)).toEqual(['E_CAS_STATUS']);
    expect(seq[0]!.issues[0]!.message).toContain('USED (suspended)');
    const resumed = await recordReports(s.db, L, [r('U2', 'RESUMED', { ReturnDate: '2026-09-09' })], { ...opts, nation: 'scotland' });
    expect(resumed[0]).toMatchObject({ outcome: 'REPORTED', dueDate: '2026-09-23', issues: [] });
    const bad = await recordReports(s.db, L, [r('U3', 'SUSPENDED', { StartDate: '2026-09-02', ExpectedReturnDate: '2026-09-02' })], opts);
    expect(bad[0]!.issues.map((i) => [i.code, i.field])).toEqual([['E_REPORT_DATE', 'ExpectedReturnDate']]);
    expect((await s.cas(L, 'U2')).status).toBe('USED');
  });
});
