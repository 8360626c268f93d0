/**
 * Student activity report files (spec section 9) through the real pipeline on both stores:
 * each of the seven kinds accepted, each record rule refused (E_CAS_NOT_FOUND,
 * E_CAS_STATUS, E_REPORT_DATE, E_DUPLICATE_IN_FILE, a block of another kind), a late report
 * W_LATE_REPORT naming its due date, an identical one W_ALREADY_REPORTED, the result valid
 * against result.xsd, replay, the file-id rule and the header's licence.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isoDateUtc } from '../../src/domain/dates.ts';
import { dueDate } from '../../src/domain/working-days.ts';
import { useCas } from '../../src/ops/use.ts';
import { reportBytes, type ReportSample } from '../../src/xml/bdt-samples.ts';
import { licenceFor, Scenario } from '../helpers/lifecycle.ts';
import { issueCodes } from '../helpers/pipeline.ts';
import { suiteStore } from '../helpers/fixture.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { REPO_ROOT } from '../conformance/support.ts';

/** Today plus `n` days, as the pipeline's receipt date counts (UTC). */
const day = (n: number) => isoDateUtc(new Date(Date.now() + n * 86_400_000));

describe.each(STORE_KINDS)('student activity report files on %s', (kind) => {
  const t = suiteStore(kind);
  let s: Scenario;
  let L: string;
  let other: string;
  const n: Record<string, string> = {};
  const rep = (a: string, k: ReportSample['kind'], fields: Record<string, string>, notes?: string): ReportSample => ({
    casNumber: n[a]!,
    kind: k,
    fields,
    ...(notes !== undefined ? { notes } : {}),
  });

  beforeAll(async () => {
    s = new Scenario(t.store);
    L = await s.sponsor(licenceFor('RFIL'));
    other = await s.sponsor(licenceFor('RFOT'));
    const ids = ['A1', 'U1', 'U2', 'U3', 'U4', 'U5'];
    await s.upload(
      L,
      'RFIL-UP',
      ids.map((a, i) => ({ applicantId: a, passport: `RF00000${i}` })),
    );
    await s.upload(other, 'RFOT-UP', [{ applicantId: 'O1', passport: 'RO000009' }]);
    for (const a of ids) n[a] = (await s.cas(L, a)).casNumber!;
    n.O1 = (await s.cas(other, 'O1')).casNumber!;
    for (const a of ids.slice(1)) expect((await useCas(s.db, { casNumber: n[a]! }, day(-90), new Date())).kind).toBe('done');
  });

  const first = () => [
    rep('A1', 'NOT_ENROLLED', { ExpectedEnrollmentDate: day(-2) }, 'Emailed twice,\nno reply.'),
    rep('U1', 'STOPPED_ATTENDING', { LastContactDate: day(-60) }),
    rep('U1', 'WITHDRAWN', { EffectiveDate: day(-1), Reason: 'OTHER' }),
    rep('U2', 'SUSPENDED', { StartDate: day(-3), ExpectedReturnDate: day(40) }),
    rep('U3', 'RESUMED', { ReturnDate: day(-1) }),
    rep('U3', 'COMPLETED_EARLY', { CompletionDate: day(-2) }),
    rep('U4', 'COURSE_CHANGED', { EffectiveDate: day(-2), NewCourseEndDate: day(300), NewCourseCurriculumTitle: 'MSc Data Science' }),
    rep('O1', 'NOT_ENROLLED', { ExpectedEnrollmentDate: day(-2) }),
    rep('A1', 'STOPPED_ATTENDING', { LastContactDate: day(-2) }),
    rep('U4', 'STOPPED_ATTENDING', { LastContactDate: day(1) }),
    rep('U5', 'WITHDRAWN', { EffectiveDate: day(-2), Reason: 'EXCLUDED' }),
    rep('U5', 'WITHDRAWN', { EffectiveDate: day(-1), Reason: 'EXCLUDED' }),
  ];

  it('accepts each kind, refuses each rule, and names the due date of a late report', async () => {
    const run = await s.h.run(reportBytes('REP-1', L, first()), 'reports-1.xml', L);
    const r = run.result;
    expect(r.Outcome, JSON.stringify(r.FileErrors)).toBe('ACCEPTED');
    expect(r.Submission.FileType).toBe('REPORT');
    expect(r.Submission.FileId).toBe('REP-1');
    expect(r.Summary).toMatchObject({ '@_records': '12', '@_reported': '6', '@_rejected': '6', '@_created': '0' });
    const due = (d: string) => dueDate(d, 'england-and-wales');
    const recs = r.Records!.Record;
    expect(recs.map((x) => [x['@_casNumber'], x['@_report'], x.Outcome, x.DueDate, issueCodes(x)])).toEqual([
      [n.A1, 'NOT_ENROLLED', 'REPORTED', due(day(-2)), []],
      [n.U1, 'STOPPED_ATTENDING', 'REPORTED', due(day(-60)), ['W_LATE_REPORT']],
      [n.U1, 'WITHDRAWN', 'REPORTED', due(day(-1)), []],
      [n.U2, 'SUSPENDED', 'REPORTED', due(day(-3)), []],
      [n.U3, 'RESUMED', 'REJECTED', undefined, ['E_CAS_STATUS']],
      [n.U3, 'COMPLETED_EARLY', 'REPORTED', due(day(-2)), []],
      [n.U4, 'COURSE_CHANGED', 'REPORTED', due(day(-2)), []],
      [n.O1, 'NOT_ENROLLED', 'REJECTED', undefined, ['E_CAS_NOT_FOUND']],
      [n.A1, 'STOPPED_ATTENDING', 'REJECTED', undefined, ['E_CAS_STATUS']],
      [n.U4, 'STOPPED_ATTENDING', 'REJECTED', undefined, ['E_REPORT_DATE']],
      [n.U5, 'WITHDRAWN', 'REJECTED', undefined, ['E_DUPLICATE_IN_FILE']],
      [n.U5, 'WITHDRAWN', 'REJECTED', undefined, ['E_DUPLICATE_IN_FILE']],
    ]);
    expect(recs[1]!.Issue![0]).toMatchObject({
      '@_severity': 'WARNING',
      '#text': `This STOPPED_ATTENDING report was due by ${due(day(-60))} and was received on ${day(0)}`,
    });
    expect(recs[7]!.Issue![0]!['#text']).toBe(`CAS ${n.O1} was not found for this sponsor`);
    // A report never changes the status; the history keeps it with its notes.
    const a1 = await s.cas(L, 'A1');
    expect(a1.status).toBe('ASSIGNED');
    const h = (await s.history(a1)).filter((e) => e.event === 'REPORT');
    expect(h).toHaveLength(1);
    expect(h[0]!.report).toMatchObject({ kind: 'NOT_ENROLLED', notes: 'Emailed twice,\nno reply.', dueDate: due(day(-2)) });
    expect((await s.cas(L, 'U1')).status).toBe('USED');
  });

  it('takes an identical report as W_ALREADY_REPORTED, follows suspension, and refuses a block of another kind', async () => {
    const a1 = await s.cas(L, 'A1');
    const before = (await s.history(a1)).length;
    const bytes = reportBytes('REP-2', L, [
      first()[0]!,
      rep('U2', 'RESUMED', { ReturnDate: day(-1) }),
      rep('U5', 'NOT_ENROLLED', { ExpectedEnrollmentDate: day(-2) }),
    ]);
    // The third record's CASReport names a block other than the one that follows.
    const mixed = Buffer.from(
      bytes
        .toString('utf8')
        .replace(/<r:CASReport>NOT_ENROLLED<\/r:CASReport>(?![\s\S]*NOT_ENROLLED)/, '<r:CASReport>WITHDRAWN</r:CASReport>'),
    );
    const run = await s.h.run(mixed, 'reports-2.xml', L);
    expect(run.result.Records!.Record.map((x) => [x['@_report'], x.Outcome, issueCodes(x)])).toEqual([
      ['NOT_ENROLLED', 'REPORTED', ['W_ALREADY_REPORTED']],
      ['RESUMED', 'REPORTED', []],
      ['WITHDRAWN', 'REJECTED', ['E_CODE_VALUE']],
    ]);
    expect((await s.history(a1)).length).toBe(before);
  });

  it('refuses every invalid document of the schema corpus as a whole, storing nothing', async () => {
    const dir = path.join(REPO_ROOT, 'fixtures/report/conformance');
    const expected = JSON.parse(readFileSync(path.join(dir, 'expected.json'), 'utf8')) as Record<string, { verdict: string }>;
    const invalid = Object.keys(expected).filter((f) => expected[f]!.verdict === 'invalid');
    const u1 = await s.cas(L, 'U1');
    const events = (await s.history(u1)).length;
    for (const [i, f] of invalid.entries()) {
      const text = readFileSync(path.join(dir, f), 'utf8')
        .replaceAll('QHDGHB91X', L)
        .replaceAll('E4G7QK3M58T2B4', n.U1!)
        .replace('REPORTS-2027-01', `BAD-${i}`);
      const run = await s.h.run(Buffer.from(text), f, L);
      expect([f, run.result.Outcome, [...new Set(run.result.FileErrors!.Error.map((e) => e['@_code']))]]).toEqual([
        f,
        'REJECTED',
        ['E_SCHEMA'],
      ]);
    }
    expect((await s.history(u1)).length).toBe(events);
  });

  it("replays the same bytes, refuses a reused BulkReportingId and another sponsor's header", async () => {
    const bytes = reportBytes('REP-3', L, [rep('U3', 'STOPPED_ATTENDING', { LastContactDate: day(-1) })]);
    const once = await s.h.run(bytes, 'reports-3.xml', L);
    expect(once.result.Records!.Record[0]!.Outcome).toBe('REPORTED');
    const events = (await s.history(await s.cas(L, 'U3'))).length;
    const again = await s.h.run(bytes, 'reports-3-again.xml', L);
    expect(again.result.Submission.Replay).toBe('true');
    expect((await s.history(await s.cas(L, 'U3'))).length).toBe(events);

    const dup = await s.h.run(reportBytes('REP-3', L, [rep('U3', 'WITHDRAWN', { EffectiveDate: day(-1), Reason: 'OTHER' })]), 'dup.xml', L);
    expect(dup.result.Outcome).toBe('REJECTED');
    expect(dup.result.FileErrors!.Error.map((e) => e['@_code'])).toEqual(['E_DUPLICATE_FILE_ID']);
    // Report file ids are apart from upload ids.
    const sameAsUpload = await s.h.run(
      reportBytes('RFIL-UP', L, [rep('U3', 'WITHDRAWN', { EffectiveDate: day(-1), Reason: 'OTHER' })]),
      'up-id.xml',
      L,
    );
    expect(sameAsUpload.result.Outcome).toBe('ACCEPTED');

    const mismatch = await s.h.run(
      reportBytes('REP-4', other, [rep('U3', 'COMPLETED_EARLY', { CompletionDate: day(-1) })]),
      'mismatch.xml',
      L,
    );
    expect(mismatch.result.FileErrors!.Error.map((e) => e['@_code'])).toEqual(['E_SPONSOR_MISMATCH']);
    const bad = await s.h.run(Buffer.from(bytes.toString('utf8').replace('REP-3', 'REP-5').replace(day(-1), '2026-13-01')), 'bad.xml', L);
    expect(bad.result.FileErrors!.Error.map((e) => e['@_code'])).toEqual(['E_SCHEMA']);
  });
});
