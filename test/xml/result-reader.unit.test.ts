/**
 * The one reader of result XML (xml/result-reader.ts) reads back what result-xml.ts
 * renders, and a dry run's or a replay's result is rendered from the result model.
 */
import { describe, expect, it } from 'vitest';
import { zeroCounts, type RecordResult, type SubmissionResult } from '../../src/domain/result.ts';
import { readResult, readResultHead, readResultPage, recordElements, refusedRecords } from '../../src/xml/result-reader.ts';
import { renderRecord, renderResult } from '../../src/xml/result-xml.ts';

const RECORDS: RecordResult[] = [
  {
    index: 1,
    applicantId: 'A-1',
    outcome: 'CREATED',
    status: 'ASSIGNED',
    casNumber: 'E4G1AB2C34D5E6',
    expiryDate: '2027-03-01',
    issues: [],
  },
  {
    index: 2,
    applicantId: "O'Brien & <Sons>",
    outcome: 'REJECTED',
    issues: [
      { severity: 'ERROR', code: 'E_DUPLICATE_IN_FILE', message: 'the same student as record 1' },
      { severity: 'WARNING', code: 'W_NO_ALLOCATION', field: 'CourseStartDate', message: 'a "quoted" value' },
    ],
  },
  { index: 3, reportedCasNumber: 'E4G1AB2C34D5E7', outcome: 'UPDATED', issues: [] },
  { index: 4, reportedCasNumber: 'E4G1AB2C34D5E8', report: 'STOPPED_ATTENDING', outcome: 'REPORTED', dueDate: '2027-04-02', issues: [] },
];

const RESULT: SubmissionResult = {
  submissionId: 12,
  fileName: 'intake.xml',
  sha256: 'a'.repeat(64),
  sponsorLicenceNumber: 'QHDGHB91X',
  fileType: 'UPLOAD_GENERAL',
  fileId: 'INTAKE-1',
  receivedAt: new Date('2026-12-01T09:00:00Z'),
  processedAt: new Date('2026-12-01T09:00:01Z'),
  replay: false,
  outcome: 'ACCEPTED',
  counts: { ...zeroCounts(), records: 4 },
  fileErrors: [],
  payment: { reference: 'PAY-20261201-ABCDEFGHJK', casCount: 1, amountPence: 2500, currency: 'GBP' },
};

const render = (res: SubmissionResult = RESULT, records = RECORDS) => renderResult(res, [records.map((r) => renderRecord(r)).join('')]);

describe('readResult', () => {
  it('reads back every record as the result model it was rendered from', () => {
    expect(readResult(render()).records).toEqual(RECORDS);
  });

  it('reads the payment and the file errors', () => {
    const view = readResult(render());
    expect(view.payment).toEqual({ reference: 'PAY-20261201-ABCDEFGHJK', casCount: 1, amount: '25.00', currency: 'GBP' });
    const rejected = readResult(
      render({ ...RESULT, outcome: 'REJECTED', fileErrors: [{ code: 'E_SCHEMA', line: 3, column: 9, message: 'bad <Foo>' }] }, []),
    );
    expect(rejected.fileErrors).toEqual([{ code: 'E_SCHEMA', line: 3, column: 9, message: 'bad <Foo>' }]);
    expect(rejected.records).toEqual([]);
  });

  it('reads a head without parsing the records, and pages of records', () => {
    const xml = render();
    expect(readResultHead(xml)).toEqual({ fileErrors: [], payment: readResult(xml).payment });
    // A broken record after the head is never parsed by readResultHead.
    expect(readResultHead(xml.replace('<Outcome>UPDATED</Outcome>', '<Outcome>')).payment?.reference).toBe('PAY-20261201-ABCDEFGHJK');
    const page = readResultPage(xml, 2, 2);
    expect(page).toMatchObject({ total: 4, from: 2 });
    expect(page.records).toEqual(RECORDS.slice(2));
  });

  it('gives the Record elements as rendered, for a result to be rendered again', () => {
    const xml = render();
    expect(recordElements(xml)).toBe(RECORDS.map((r) => renderRecord(r)).join(''));
    expect(renderResult(RESULT, [recordElements(xml)])).toBe(xml);
    expect(recordElements(render(RESULT, []))).toBe('');
  });

  it('gives the first refused records, parsed, and how many are refused in all', () => {
    // Refused and not, interleaved; a refused one whose message names the outcome tag is still one record.
    const many: RecordResult[] = Array.from({ length: 40 }, (_, k) =>
      k % 3 === 1
        ? {
            index: k + 1,
            applicantId: `R-${k + 1}`,
            outcome: 'REJECTED',
            issues: [{ severity: 'ERROR', code: 'E_COURSE_DATES', message: '<Outcome>REJECTED</Outcome>' }],
          }
        : { index: k + 1, applicantId: `A-${k + 1}`, outcome: 'CREATED', status: 'WORK_IN_PROGRESS', issues: [] },
    );
    const xml = render({ ...RESULT, counts: { ...zeroCounts(), records: many.length } }, many);
    const refused = many.filter((r) => r.outcome === 'REJECTED');
    expect(refusedRecords(xml, 5)).toEqual({ records: refused.slice(0, 5), total: refused.length });
    expect(refusedRecords(xml, 100)).toEqual({ records: refused, total: refused.length });
    expect(refusedRecords(xml, 0)).toEqual({ records: [], total: refused.length });
    expect(refusedRecords(render(), 10)).toEqual({ records: [RECORDS[1]], total: 1 });
    expect(refusedRecords(render(RESULT, []), 10)).toEqual({ records: [], total: 0 });
  });
});

describe('a dry run and a replay, rendered from the model', () => {
  it('a dry run names no submission and its records show no CAS number', () => {
    const xml = renderResult({ ...RESULT, dryRun: true }, [RECORDS.map((r) => renderRecord(r, true)).join('')]);
    expect(xml).toContain('<SubmissionId>DRY-RUN</SubmissionId>');
    expect(xml).not.toContain('<CASNumber>');
    const [first] = readResult(xml).records;
    expect(first).toEqual({ index: 1, applicantId: 'A-1', outcome: 'CREATED', status: 'ASSIGNED', expiryDate: '2027-03-01', issues: [] });
    // Only the CAS number goes: the records of a dry run are otherwise those of the real run.
    expect(xml.replace('DRY-RUN', '12')).toBe(render().replace(/^ *<CASNumber>[^<]*<\/CASNumber>\n/gm, ''));
  });

  it('a replay is the earlier result with Replay true and nothing else changed', () => {
    const xml = render();
    const again = renderResult({ ...RESULT, replay: true }, [recordElements(xml)]);
    expect(again).toBe(xml.replace('<Replay>false</Replay>', '<Replay>true</Replay>'));
  });
});
