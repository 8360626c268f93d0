/**
 * The pipeline end to end on both stores: records, statuses, assignment, payment,
 * amendment, duplicates, replay and the result file (validated against the result XSD).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import { getSponsor } from '../../src/db/sponsors.ts';
import { cas, casEvents, payments, submissions } from '../../src/db/schema.ts';
import { isValidCasNumber } from '../../src/domain/cas-number.ts';
import { addMonths, isoDateUtc } from '../../src/domain/dates.ts';
import { casXml, graduateBytes, uploadBytes } from '../helpers/bdt.ts';
import { issueCodes, PipelineHarness, type ParsedRecord } from '../helpers/pipeline.ts';
import { suiteStore } from '../helpers/fixture.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

let licenceSeq = 0;
/** A fresh valid licence number per test, so tests sharing a store do not see each other. */
const nextLicence = () => `T${String(++licenceSeq).padStart(7, '0')}${licenceSeq % 10}`;

describe.each(STORE_KINDS)('process on %s', (kind) => {
  const t = suiteStore(kind);
  let h: PipelineHarness;

  beforeAll(async () => {
    h = new PipelineHarness(t.store);
  });

  const records = (r: { result: { Records?: { Record: ParsedRecord[] } } }) => r.result.Records?.Record ?? [];

  it('creates, judges and assigns every record, with counts, payment and allocation', async () => {
    const licence = await h.sponsor({ licence: nextLicence(), allocation: 2 });
    const file = uploadBytes({
      licence,
      fileId: 'RULES-1',
      records: [
        casXml({ applicantId: 'A1' }), // 1 ready -> assigned
        casXml({ applicantId: 'A2', evidence: null }), // 2 W_SELT_NOT_PROVIDED -> WIP
        casXml({ applicantId: 'A3', courseEnd: '2027-09-20' }), // 3 E_COURSE_DATES
        casXml({ applicantId: 'A1' }), // 4 E_DUPLICATE_IN_FILE of 1
        casXml({ applicantId: 'A5', nationality: 'ZZZ', partnerCountry: 'QQQ' }), // 5 E_COUNTRY_CODE x2
        casXml({ applicantId: 'A6', evidence: '<SELTRequired>false</SELTRequired><ReasonSELTNotRequired>NOPE</ReasonSELTNotRequired>' }), // 6 E_CODE_VALUE
        casXml({ applicantId: 'A7', dateOfBirth: '<Year>2028</Year>' }), // 7 E_DATE_OF_BIRTH
        casXml({
          applicantId: 'A8',
          hasWorkPlacement: true,
          workPlacementDetails: '<WorkPlacementPercentage>50</WorkPlacementPercentage>',
        }), // 8 W_WORK_PLACEMENT
        casXml({ applicantId: 'A9', evidence: '<SELTRequired>true</SELTRequired><PreviousUKStudy>true</PreviousUKStudy>' }), // 9 W_SELT_DETAILS + W_PROGRESSION
        casXml({ applicantId: 'A10' }), // 10 ready -> assigned (allocation 2)
        casXml({ applicantId: 'A11' }), // 11 ready -> W_NO_ALLOCATION
      ],
    });
    const run = await h.run(file, 'rules.xml', licence);
    expect(run.result.Outcome).toBe('ACCEPTED');
    const recs = records(run);
    expect(recs.map((r) => r.Outcome)).toEqual([
      'CREATED',
      'CREATED',
      'REJECTED',
      'REJECTED',
      'REJECTED',
      'REJECTED',
      'REJECTED',
      'CREATED',
      'CREATED',
      'CREATED',
      'CREATED',
    ]);
    expect(recs.map((r) => r.Status ?? null)).toEqual([
      'ASSIGNED',
      'WORK_IN_PROGRESS',
      null,
      null,
      null,
      null,
      null,
      'WORK_IN_PROGRESS',
      'WORK_IN_PROGRESS',
      'ASSIGNED',
      'READY_TO_GO',
    ]);
    expect(issueCodes(recs[1]!)).toEqual(['W_SELT_NOT_PROVIDED']);
    expect(issueCodes(recs[2]!)).toContain('E_COURSE_DATES');
    expect(recs[2]!.Issue![0]!['@_field']).toBe('CourseDetails/ExpectedCourseEndDate');
    expect(issueCodes(recs[3]!)).toContain('E_DUPLICATE_IN_FILE');
    expect(issueCodes(recs[4]!).filter((c) => c === 'E_COUNTRY_CODE')).toHaveLength(2);
    expect(issueCodes(recs[5]!)).toContain('E_CODE_VALUE');
    expect(issueCodes(recs[6]!)).toContain('E_DATE_OF_BIRTH');
    expect(issueCodes(recs[7]!)).toEqual(['W_WORK_PLACEMENT']);
    expect(issueCodes(recs[8]!)).toEqual(expect.arrayContaining(['W_SELT_DETAILS', 'W_PROGRESSION_NOT_PROVIDED']));
    expect(issueCodes(recs[10]!)).toEqual(['W_NO_ALLOCATION']);

    expect(run.result.Summary).toMatchObject({
      '@_records': '11',
      '@_created': '6',
      '@_amended': '0',
      '@_rejected': '5',
      '@_assigned': '2',
      '@_readyToGo': '1',
      '@_workInProgress': '3',
      '@_reported': '0',
    });
    expect(run.result.Payment).toMatchObject({ '@_casCount': '2', '@_amount': '50.00', '@_currency': 'GBP' });

    const assigned = recs.filter((r) => r.Status === 'ASSIGNED');
    const today = isoDateUtc(new Date());
    for (const r of assigned) {
      expect(isValidCasNumber(r.CASNumber!)).toBe(true);
      expect(r.CASNumber!.startsWith('E4G')).toBe(true);
      expect(r.ExpiryDate).toBe(addMonths(today, 6));
    }
    expect(new Set(assigned.map((r) => r.CASNumber)).size).toBe(2);

    const sponsor = await getSponsor(t.store.db, licence);
    expect(sponsor).toMatchObject({ allocationGranted: 2, allocationUsed: 2 });
    const stored = await t.store.db.select().from(cas).where(eq(cas.sponsorLicenceNumber, licence));
    expect(stored).toHaveLength(6);
    const pays = await t.store.db.select().from(payments).where(eq(payments.sponsorLicenceNumber, licence));
    expect(pays).toHaveLength(1);
    expect(pays[0]).toMatchObject({ casCount: 2, amount: '50.00' });
  });

  it('replays an identical file: same result with Replay true, nothing created again', async () => {
    const licence = await h.sponsor({ licence: nextLicence(), allocation: 5 });
    const file = uploadBytes({ licence, fileId: 'REPLAY-1', records: [casXml({ applicantId: 'R1' }), casXml({ applicantId: 'R2' })] });
    const first = await h.run(file, 'nightly.xml', licence);
    const second = await h.run(file, 'nightly.xml', licence);
    expect(second.result.Submission.Replay).toBe('true');
    expect(second.resultXml).toBe(first.resultXml.replace('<Replay>false</Replay>', '<Replay>true</Replay>'));
    expect(second.resultFile).not.toBe(first.resultFile);
    expect(second.resultFile.endsWith(`nightly.${second.submissionId}.result.xml`)).toBe(true);
    const stored = await t.store.db.select().from(cas).where(eq(cas.sponsorLicenceNumber, licence));
    expect(stored).toHaveLength(2);
    expect((await getSponsor(t.store.db, licence))!.allocationUsed).toBe(2);
    expect(second.summary).toMatchObject({ outcome: 'ACCEPTED', replay: true });
    // A dry run of it is the same replay, rendered from the same data, naming no submission of its own.
    const dry = await h.run(file, 'nightly.xml', licence, { dryRun: true });
    expect(dry.resultXml).toBe(
      second.resultXml.replace(`<SubmissionId>${first.submissionId}</SubmissionId>`, '<SubmissionId>DRY-RUN</SubmissionId>'),
    );
    expect(dry.resultXml).toContain('<Payment ');
  });

  it('refuses a different file reusing an accepted BulkUploadFileId', async () => {
    const licence = await h.sponsor({ licence: nextLicence() });
    await h.run(uploadBytes({ licence, fileId: 'SAME-ID', records: [casXml({ applicantId: 'D1' })] }), 'a.xml', licence);
    const second = await h.run(uploadBytes({ licence, fileId: 'SAME-ID', records: [casXml({ applicantId: 'D2' })] }), 'b.xml', licence);
    expect(second.result.Outcome).toBe('REJECTED');
    expect(second.result.FileErrors!.Error.map((e) => e['@_code'])).toEqual(['E_DUPLICATE_FILE_ID']);
    expect(second.result.Records).toBeUndefined();
  });

  it('amends an unassigned CAS with the same key, and refuses one already assigned', async () => {
    const licence = await h.sponsor({ licence: nextLicence(), allocation: 10 });
    const first = await h.run(
      uploadBytes({ licence, fileId: 'AMEND-1', records: [casXml({ applicantId: 'M1', evidence: null }), casXml({ applicantId: 'M2' })] }),
      'first.xml',
      licence,
    );
    expect(records(first).map((r) => r.Status)).toEqual(['WORK_IN_PROGRESS', 'ASSIGNED']);
    const second = await h.run(
      uploadBytes({
        licence,
        fileId: 'AMEND-2',
        records: [casXml({ applicantId: 'M1', familyName: 'Corrected' }), casXml({ applicantId: 'M2' })],
      }),
      'second.xml',
      licence,
    );
    const [m1, m2] = records(second);
    expect(m1).toMatchObject({ Outcome: 'AMENDED', Status: 'ASSIGNED' });
    expect(m2).toMatchObject({ Outcome: 'REJECTED' });
    expect(issueCodes(m2!)).toEqual(['E_DUPLICATE_CAS']);
    const rows = await t.store.db.select().from(cas).where(eq(cas.sponsorLicenceNumber, licence));
    expect(rows).toHaveLength(2);
    const amended = rows.find((r) => r.applicantId === 'M1')!;
    expect(amended.familyName).toBe('Corrected');
    const history = await t.store.db.select().from(casEvents).where(eq(casEvents.casId, amended.id));
    expect(history.map((e) => [e.fromStatus, e.toStatus])).toEqual([
      [null, 'WORK_IN_PROGRESS'],
      ['WORK_IN_PROGRESS', 'READY_TO_GO'],
      ['READY_TO_GO', 'ASSIGNED'],
    ]);
  });

  it("reports E_DUPLICATE_CAS together with the record's other errors (all issues of a record)", async () => {
    const licence = await h.sponsor({ licence: nextLicence(), allocation: 10 });
    await h.run(
      uploadBytes({
        licence,
        fileId: 'DUPALL-1',
        records: [casXml({ applicantId: 'DA1' }), casXml({ applicantId: 'DA2', evidence: null })],
      }),
      'first.xml',
      licence,
    );
    const second = await h.run(
      uploadBytes({
        licence,
        fileId: 'DUPALL-2',
        records: [
          casXml({ applicantId: 'DA1', nationality: 'ZZZ', latestAcceptance: '2027-09-01' }),
          // Matches an unassigned CAS but has an error: refused, the CAS is not amended, and no E_DUPLICATE_CAS.
          casXml({ applicantId: 'DA2', nationality: 'ZZZ', familyName: 'Changed' }),
          casXml({ applicantId: 'DA1', nationality: 'ZZZ', latestAcceptance: '2027-09-01' }),
        ],
      }),
      'second.xml',
      licence,
    );
    const [dup, wip, repeat] = records(second);
    expect(dup).toMatchObject({ Outcome: 'REJECTED' });
    expect(issueCodes(dup!).sort()).toEqual(['E_COUNTRY_CODE', 'E_COURSE_DATES', 'E_DUPLICATE_CAS']);
    expect(issueCodes(wip!)).toEqual(['E_COUNTRY_CODE']);
    // A repeat within the file is told as that, not again as a duplicate of the stored CAS.
    expect(issueCodes(repeat!).sort()).toEqual(['E_COUNTRY_CODE', 'E_COURSE_DATES', 'E_DUPLICATE_IN_FILE']);
    const rows = await t.store.db.select().from(cas).where(eq(cas.sponsorLicenceNumber, licence));
    expect(rows.map((r) => [r.applicantId, r.status, r.familyName]).sort()).toEqual([
      ['DA1', 'ASSIGNED', 'Okafor'],
      ['DA2', 'WORK_IN_PROGRESS', 'Okafor'],
    ]);
  });

  it('does not assign for a sponsor without auto-assign', async () => {
    const licence = await h.sponsor({ licence: nextLicence(), allocation: 10, autoAssign: false });
    const run = await h.run(uploadBytes({ licence, fileId: 'NOAUTO', records: [casXml({ applicantId: 'N1' })] }), 'x.xml', licence);
    expect(records(run)[0]).toMatchObject({ Outcome: 'CREATED', Status: 'READY_TO_GO' });
    expect(issueCodes(records(run)[0]!)).toEqual([]);
    expect(run.result.Payment).toBeUndefined();
  });

  it('keeps Latin-1 names exactly and escapes markup characters in the result', async () => {
    const licence = await h.sponsor({ licence: nextLicence() });
    const run = await h.run(
      uploadBytes({ licence, fileId: 'LATIN1', records: [casXml({ applicantId: 'Ñ&<"1>', familyName: "Müller-Ñúñez O'Brien" })] }),
      'latin1.xml',
      licence,
    );
    expect(records(run)[0]!['@_applicantId']).toBe('Ñ&<"1>');
    const [row] = await t.store.db.select().from(cas).where(eq(cas.sponsorLicenceNumber, licence));
    expect(row!.familyName).toBe("Müller-Ñúñez O'Brien");
  });

  it('handles the child route, with E_CHILD_AGE and E4C numbers', async () => {
    const licence = await h.sponsor({ licence: nextLicence(), routes: ['student', 'child'] });
    const run = await h.run(
      uploadBytes({
        licence,
        route: 'child',
        fileId: 'CHILD-1',
        records: [
          casXml({ applicantId: 'C1', dateOfBirth: '<FullDate>2015-03-01</FullDate>' }, 'child'),
          casXml({ applicantId: 'C2', dateOfBirth: '<FullDate>2024-01-01</FullDate>' }, 'child'),
          casXml({ applicantId: 'C3', dateOfBirth: '<Year>2009</Year>' }, 'child'),
        ],
      }),
      'child.xml',
      licence,
    );
    expect(run.result.Submission.FileType).toBe('UPLOAD_CHILD');
    const [c1, c2, c3] = records(run);
    expect(c1!.CASNumber!.startsWith('E4C')).toBe(true);
    expect(issueCodes(c2!)).toEqual(['E_CHILD_AGE']);
    // Born some time in 2009: the earliest possible birth date (2009-01-01) makes 18 at 2027-09-20.
    expect(issueCodes(c3!)).toEqual(['E_CHILD_AGE']);
  });

  it('refuses a child file for a sponsor not licensed for the child route', async () => {
    const licence = await h.sponsor({ licence: nextLicence(), routes: ['student'] });
    const run = await h.run(uploadBytes({ licence, route: 'child', fileId: 'CHILD-2' }), 'child.xml', licence);
    expect(run.result.FileErrors!.Error[0]!['@_code']).toBe('E_ROUTE_NOT_LICENSED');
  });

  it('reports graduates: own USED CAS only, once', async () => {
    const licence = await h.sponsor({ licence: nextLicence(), allocation: 5 });
    const other = await h.sponsor({ licence: nextLicence(), allocation: 5 });
    const mine = records(
      await h.run(
        uploadBytes({ licence, fileId: 'G1', records: [casXml({ applicantId: 'G1' }), casXml({ applicantId: 'G2' })] }),
        'g.xml',
        licence,
      ),
    );
    const theirs = records(
      await h.run(uploadBytes({ licence: other, fileId: 'G1', records: [casXml({ applicantId: 'G9' })] }), 'g.xml', other),
    );
    const used = mine[0]!.CASNumber!;
    await t.store.db.update(cas).set({ status: 'USED', usedOn: '2027-09-01' }).where(eq(cas.casNumber, used));
    const report = await h.run(
      graduateBytes('REP-1', [used, mine[1]!.CASNumber!, theirs[0]!.CASNumber!, 'E4G0AA0A00A0A1', used]),
      'grads.xml',
      licence,
    );
    expect(report.result.Submission.FileType).toBe('GRADUATE_REPORT');
    const r = records(report);
    expect(r.map((x) => x.Outcome)).toEqual(['REPORTED', 'REJECTED', 'REJECTED', 'REJECTED', 'REPORTED']);
    expect(r.map((x) => issueCodes(x))).toEqual([[], ['E_CAS_STATUS'], ['E_CAS_NOT_FOUND'], ['E_CAS_NOT_FOUND'], ['W_ALREADY_REPORTED']]);
    expect(r[2]!.Issue![0]!['#text']).not.toContain(other);
    const again = await h.run(graduateBytes('REP-2', [used]), 'grads2.xml', licence);
    expect(issueCodes(records(again)[0]!)).toEqual(['W_ALREADY_REPORTED']);
    const [row] = await t.store.db.select().from(cas).where(eq(cas.casNumber, used));
    expect(row!.graduatedOn).toBe(isoDateUtc(new Date()));
  });

  it('processes the same file at once only once', async () => {
    const licence = await h.sponsor({ licence: nextLicence(), allocation: 50 });
    const file = uploadBytes({
      licence,
      fileId: 'RACE',
      records: Array.from({ length: 5 }, (_, i) => casXml({ applicantId: `RACE-${i}` })),
    });
    const runs = await Promise.allSettled([1, 2, 3].map((i) => h.run(file, `race${i}.xml`, licence)));
    expect(runs.every((r) => r.status === 'fulfilled')).toBe(true);
    const outcomes = runs
      .map((r) => (r as PromiseFulfilledResult<Awaited<ReturnType<typeof h.run>>>).value.result.Submission.Replay)
      .sort();
    expect(outcomes).toEqual(['false', 'true', 'true']);
    const rows = await t.store.db.select().from(cas).where(eq(cas.sponsorLicenceNumber, licence));
    expect(rows).toHaveLength(5);
    expect((await getSponsor(t.store.db, licence))!.allocationUsed).toBe(5);
    const accepted = await t.store.db
      .select({ n: sql<number>`count(*)::int` })
      .from(submissions)
      .where(sql`${submissions.sponsorLicenceNumber} = ${licence} and ${submissions.replayOf} is null`);
    expect(accepted[0]!.n).toBe(1);
  });
});
