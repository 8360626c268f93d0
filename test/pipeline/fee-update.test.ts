/**
 * Fee update files (spec section 6) through the real pipeline on both stores: each
 * record judged on its own (E_FEES_PAID_MISSING, E_CAS_NOT_FOUND, E_CAS_STATUS,
 * W_NO_CHANGE), accepted ones setting the CAS's fees with a FEES_UPDATED event, the
 * result valid against result.xsd, replay and file-id rules, header checks, and the
 * export carrying the new fees.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { exportRows } from '../../src/db/export.ts';
import { useCas } from '../../src/ops/use.ts';
import { withdrawCas } from '../../src/ops/withdraw.ts';
import { generateCasNumber } from '../../src/domain/cas-number.ts';
import { updateBytes } from '../helpers/bdt.ts';
import { licenceFor, Scenario } from '../helpers/lifecycle.ts';
import { issueCodes } from '../helpers/pipeline.ts';
import { suiteStore } from '../helpers/fixture.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

const at = (iso: string) => new Date(iso);
const UPLOADED = {
  courseFeesForFirstYearOnly: '24500.00',
  courseFeesPaidToDate: null,
  accommodationFeesPaidToDate: null,
  boardingFeesPaidToDate: null,
};

describe.each(STORE_KINDS)('fee update files on %s', (kind) => {
  const t = suiteStore(kind);
  let s: Scenario;
  let L: string;
  let other: string;
  const n: Record<string, string> = {};

  beforeAll(async () => {
    s = new Scenario(t.store);
    L = await s.sponsor(licenceFor('FEES'));
    other = await s.sponsor(licenceFor('FEEO'));
    await s.upload(
      L,
      'FEE-UP-1',
      ['A1', 'A2', 'A3', 'WD', 'US'].map((a, i) => ({ applicantId: a, passport: `F000000${i}` })),
      { now: at('2027-03-01T10:00:00Z') },
    );
    await s.upload(other, 'FEE-UP-O', [{ applicantId: 'OT', passport: 'F0000099' }], { now: at('2027-03-01T10:00:00Z') });
    for (const a of ['A1', 'A2', 'A3', 'WD', 'US']) n[a] = (await s.cas(L, a)).casNumber!;
    n.OT = (await s.cas(other, 'OT')).casNumber!;
    await withdrawCas(s.db, { casNumber: n.WD! }, at('2027-03-02T10:00:00Z'));
    await useCas(s.db, { casNumber: n.US! }, '2027-03-03', at('2027-03-03T10:00:00Z'));
  });

  it('judges each record on its own, updates the good ones with a history event, and says why the others were refused', async () => {
    let unknown = generateCasNumber('student', (max) => Math.floor(Math.random() * max));
    while (Object.values(n).includes(unknown)) unknown = generateCasNumber('student', (max) => Math.floor(Math.random() * max));
    const beforeA2 = await s.snapshot(await s.cas(L, 'A2'));
    const beforeWd = await s.snapshot(await s.cas(L, 'WD'));
    const beforeOt = await s.snapshot(await s.cas(other, 'OT'));
    s.h.now = at('2027-04-01T12:00:00Z');
    const run = await s.h.run(
      updateBytes({
        licence: L,
        fileId: 'FEES-2027-04',
        records: [
          { casNumber: n.A1!, coursePaid: '5000.00' },
          { casNumber: n.A2! },
          { casNumber: n.WD!, coursePaid: '100' },
          { casNumber: n.OT!, coursePaid: '100' },
          { casNumber: unknown },
          // Judged on the fees record 1 gave: nothing changes.
          { casNumber: n.A1!, coursePaid: '5000' },
          { casNumber: n.US!, course: '26000.50', accommodationPaid: '1200.5', boardingPaid: '0' },
          { casNumber: n.A1!, coursePaid: '7500.00' },
        ],
      }),
      'fees-2027-04.xml',
      L,
    );
    const r = run.result;
    expect(r.Outcome).toBe('ACCEPTED');
    expect(r.Submission.FileType).toBe('UPDATE_FEES');
    expect(r.Submission.FileId).toBe('FEES-2027-04');
    expect(r.Summary).toMatchObject({ '@_records': '8', '@_updated': '4', '@_rejected': '4', '@_created': '0', '@_assigned': '0' });
    const recs = r.Records!.Record;
    expect(recs.map((x) => [x['@_index'], x['@_casNumber'], x.Outcome, issueCodes(x)])).toEqual([
      ['1', n.A1, 'UPDATED', []],
      ['2', n.A2, 'REJECTED', ['E_FEES_PAID_MISSING']],
      ['3', n.WD, 'REJECTED', ['E_CAS_STATUS']],
      ['4', n.OT, 'REJECTED', ['E_CAS_NOT_FOUND']],
      ['5', unknown, 'REJECTED', ['E_FEES_PAID_MISSING', 'E_CAS_NOT_FOUND']],
      ['6', n.A1, 'UPDATED', ['W_NO_CHANGE']],
      ['7', n.US, 'UPDATED', []],
      ['8', n.A1, 'UPDATED', []],
    ]);
    for (const x of recs) expect(x.Status).toBeUndefined();
    // Another sponsor's CAS reads exactly as one that does not exist.
    expect(recs[3]!.Issue![0]!['#text']).toBe(`CAS ${n.OT} was not found for this sponsor`);
    expect(recs[4]!.Issue![1]!['#text']).toBe(`CAS ${unknown} was not found for this sponsor`);
    expect(recs[2]!.Issue![0]).toMatchObject({
      '@_severity': 'ERROR',
      '@_field': 'CASNumber',
      '#text': `CAS ${n.WD} has status WITHDRAWN; fees can be updated only on an ASSIGNED or USED CAS`,
    });
    expect(recs[5]!.Issue![0]!['@_severity']).toBe('WARNING');

    const a1 = (await s.cas(L, 'A1'))!;
    expect(a1.status).toBe('ASSIGNED');
    expect(a1.fees).toEqual({ ...UPLOADED, courseFeesPaidToDate: '7500.00' });
    const us = (await s.cas(L, 'US'))!;
    expect(us.status).toBe('USED');
    expect(us.fees).toEqual({
      courseFeesForFirstYearOnly: '26000.50',
      courseFeesPaidToDate: null,
      accommodationFeesPaidToDate: '1200.50',
      boardingFeesPaidToDate: '0.00',
    });

    const fees = (await s.history(a1)).filter((h) => h.event === 'FEES_UPDATED');
    expect(fees).toEqual([
      {
        event: 'FEES_UPDATED',
        from: 'ASSIGNED',
        to: 'ASSIGNED',
        at: '2027-04-01T12:00:00.000Z',
        reason: `fee update by submission ${run.submissionId}`,
        fees: { before: UPLOADED, after: { ...UPLOADED, courseFeesPaidToDate: '5000.00' } },
      },
      {
        event: 'FEES_UPDATED',
        from: 'ASSIGNED',
        to: 'ASSIGNED',
        at: '2027-04-01T12:00:00.000Z',
        reason: `fee update by submission ${run.submissionId}`,
        fees: { before: { ...UPLOADED, courseFeesPaidToDate: '5000.00' }, after: { ...UPLOADED, courseFeesPaidToDate: '7500.00' } },
      },
    ]);
    // Refused records changed nothing, another sponsor's CAS included.
    expect(await s.snapshot(await s.cas(L, 'A2'))).toEqual(beforeA2);
    expect(await s.snapshot(await s.cas(L, 'WD'))).toEqual(beforeWd);
    expect(await s.snapshot(await s.cas(other, 'OT'))).toEqual(beforeOt);

    // The export carries the current fees.
    const rows = await exportRows(s.db, L);
    expect(rows.find((x) => x.casNumber === n.A1)!.fees).toEqual({
      course: 2450000,
      coursePaid: 750000,
      accommodationPaid: null,
      boardingPaid: null,
    });
    expect(rows.find((x) => x.casNumber === n.US)!.fees).toEqual({
      course: 2600050,
      coursePaid: null,
      accommodationPaid: 120050,
      boardingPaid: 0,
    });
  });

  it('replays an identical file without applying it again, and refuses a new file with an accepted update file id', async () => {
    const bytes = updateBytes({ licence: L, fileId: 'FEES-REPLAY', records: [{ casNumber: n.A3!, coursePaid: '10.00' }] });
    const first = await s.h.run(bytes, 'replay-1.xml', L);
    expect(first.result.Records!.Record[0]!.Outcome).toBe('UPDATED');
    const events = (await s.history(await s.cas(L, 'A3'))).length;
    const again = await s.h.run(bytes, 'replay-2.xml', L);
    expect(again.result.Submission.Replay).toBe('true');
    expect(again.result.Records!.Record[0]!.Outcome).toBe('UPDATED');
    expect((await s.history(await s.cas(L, 'A3'))).length).toBe(events);

    const dup = await s.h.run(
      updateBytes({ licence: L, fileId: 'FEES-REPLAY', records: [{ casNumber: n.A3!, coursePaid: '20.00' }] }),
      'dup.xml',
      L,
    );
    expect(dup.result.Outcome).toBe('REJECTED');
    expect(dup.result.FileErrors!.Error.map((e) => e['@_code'])).toEqual(['E_DUPLICATE_FILE_ID']);
    expect(dup.result.FileErrors!.Error[0]!['#text']).toContain('BulkUpdateFileId "FEES-REPLAY" was already used by accepted submission');
    expect((await s.cas(L, 'A3')).fees.courseFeesPaidToDate).toBe('10.00');

    // Update file ids are apart from upload file ids: an upload's id is free for an update file.
    const sameAsUpload = await s.h.run(
      updateBytes({ licence: L, fileId: 'FEE-UP-1', records: [{ casNumber: n.A3!, coursePaid: '30.00' }] }),
      'up-id.xml',
      L,
    );
    expect(sameAsUpload.result.Outcome).toBe('ACCEPTED');
    expect((await s.cas(L, 'A3')).fees.courseFeesPaidToDate).toBe('30.00');
    // Judged against the fees the earlier file stored.
    const last = (await s.history(await s.cas(L, 'A3'))).at(-1)!;
    expect([last.fees!.before.courseFeesPaidToDate, last.fees!.after.courseFeesPaidToDate]).toEqual(['10.00', '30.00']);
  });

  it('refuses a whole file for its header or schema, changing nothing', async () => {
    const mismatch = await s.h.run(
      updateBytes({ licence: other, fileId: 'FEES-OTHER', records: [{ casNumber: n.OT!, coursePaid: '1.00' }] }),
      'other.xml',
      L,
    );
    expect(mismatch.result.Outcome).toBe('REJECTED');
    expect(mismatch.result.Submission.FileType).toBe('UPDATE_FEES');
    expect(mismatch.result.FileErrors!.Error.map((e) => e['@_code'])).toEqual(['E_SPONSOR_MISMATCH']);
    expect(mismatch.result.Summary).toMatchObject({ '@_records': '0', '@_updated': '0' });

    const bad = updateBytes({ licence: L, fileId: 'FEES-BAD', records: [{ casNumber: n.A3!, coursePaid: '1.005' }] });
    const invalid = await s.h.run(bad, 'bad.xml', L);
    expect(invalid.result.FileErrors!.Error.map((e) => e['@_code'])).toEqual(['E_SCHEMA']);
    expect(invalid.result.FileErrors!.Error[0]!['@_line']).toBe('10');
    expect(invalid.result.Submission.FileId).toBe('FEES-BAD');
    expect((await s.cas(L, 'A3')).fees.courseFeesPaidToDate).toBe('30.00');
    expect((await s.cas(other, 'OT')).fees).toEqual(UPLOADED);
  });
});
