/**
 * W_PROGRESSION_NOT_PROVIDED from what the store knows (spec section 5): a student-route
 * record without PreviousUKStudy whose person (passport number and nationality) already
 * has a USED CAS, any sponsor's, is saved as work in progress with the warning; the same
 * record for a person without one, or declaring the earlier study, is not; the child route
 * does not ask. Both stores, through the real pipeline and `useCas`.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { isoDateUtc } from '../../src/domain/dates.ts';
import { useCas } from '../../src/ops/use.ts';
import { casXml, uploadBytes } from '../helpers/bdt.ts';
import { issueCodes, PipelineHarness } from '../helpers/pipeline.ts';
import { suiteStore } from '../helpers/fixture.ts';
import { resetStore, STORE_KINDS } from '../helpers/stores.ts';

const A = 'PROGA0001';
const B = 'PROGB0001';
/** EvidenceDetails without PreviousUKStudy, as in the Home Office example "2. SELT not required". */
const NO_PREVIOUS = '<SELTRequired>false</SELTRequired><ReasonSELTNotRequired>ENG_COUNTRY</ReasonSELTNotRequired>';
const HIGHER =
  '<SELTRequired>false</SELTRequired><ReasonSELTNotRequired>ENG_COUNTRY</ReasonSELTNotRequired><PreviousUKStudy>true</PreviousUKStudy>' +
  '<PreviousAcademicLevel>RQF6</PreviousAcademicLevel><CurrentPreviousCourseLevelComparison>HIGHER</CurrentPreviousCourseLevelComparison>';

describe.each(STORE_KINDS)('progression known from the store on %s', (kind) => {
  const t = suiteStore(kind);
  let h: PipelineHarness;
  beforeEach(async () => {
    await resetStore(t.store);
    h = new PipelineHarness(t.store);
    await h.sponsor({ licence: A, allocation: 20 });
    await h.sponsor({ licence: B, allocation: 20, routes: ['student', 'child'] });
  });

  const send = (licence: string, fileId: string, records: string[]) =>
    h.run(uploadBytes({ licence, fileId, records }), `${fileId}.xml`, licence).then((r) => r.result.Records!.Record);

  it('warns when the person already has a USED CAS, any sponsor, and only then', async () => {
    const [first] = await send(A, 'F1', [casXml({ applicantId: 'S1', passport: 'P111', nationality: 'IND', evidence: NO_PREVIOUS })]);
    expect(first).toMatchObject({ Status: 'ASSIGNED' });
    expect(issueCodes(first!)).toEqual([]);

    // Not used yet: ASSIGNED is not earlier study.
    const [again] = await send(A, 'F2', [
      casXml({
        applicantId: 'S2',
        passport: 'P111',
        nationality: 'IND',
        evidence: NO_PREVIOUS,
        courseStart: '2029-09-20',
        courseEnd: '2030-06-30',
      }),
    ]);
    expect(issueCodes(again!)).toEqual([]);

    const used = await useCas(t.store.db, { casNumber: first!.CASNumber! }, isoDateUtc(new Date()), new Date());
    expect(used.kind).toBe('done');

    const records = await send(B, 'F3', [
      // Same person, another sponsor, PreviousUKStudy absent: the warning.
      casXml({
        applicantId: 'T1',
        passport: 'P111',
        nationality: 'IND',
        evidence: NO_PREVIOUS,
        courseStart: '2031-09-20',
        courseEnd: '2032-06-30',
      }),
      // Same passport, another nationality: another person.
      casXml({ applicantId: 'T2', passport: 'P111', nationality: 'PAK', evidence: NO_PREVIOUS }),
      // The earlier study declared, progression HIGHER: nothing to warn of.
      casXml({
        applicantId: 'T3',
        passport: 'P111',
        nationality: 'IND',
        evidence: HIGHER,
        courseStart: '2033-09-20',
        courseEnd: '2034-06-30',
      }),
      // No EvidenceDetails at all: PreviousUKStudy is absent too (with the SELT warning).
      casXml({
        applicantId: 'T4',
        passport: 'P111',
        nationality: 'IND',
        evidence: null,
        courseStart: '2035-09-20',
        courseEnd: '2036-06-30',
      }),
    ]);
    expect(records.map((r) => [r.Status, issueCodes(r)])).toEqual([
      ['WORK_IN_PROGRESS', ['W_PROGRESSION_NOT_PROVIDED']],
      ['ASSIGNED', []],
      ['ASSIGNED', []],
      ['WORK_IN_PROGRESS', ['W_SELT_NOT_PROVIDED', 'W_PROGRESSION_NOT_PROVIDED']],
    ]);
    const issue = records[0]!.Issue![0]!;
    expect(issue['@_field']).toBe('EvidenceDetails/PreviousUKStudy');
    expect(issue['#text']).toContain(
      'PreviousUKStudy is not given, but this person (passport number and nationality) has already studied in the UK',
    );

    // The child route has no EvidenceDetails: the rule does not apply.
    const [child] = await h
      .run(
        uploadBytes({
          licence: B,
          fileId: 'F4',
          route: 'child',
          records: [
            casXml({ applicantId: 'C1', passport: 'P111', nationality: 'IND', dateOfBirth: '<FullDate>2015-03-01</FullDate>' }, 'child'),
          ],
        }),
        'F4.xml',
        B,
      )
      .then((r) => r.result.Records!.Record);
    expect(issueCodes(child!)).toEqual([]);
  });
});
