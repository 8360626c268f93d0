/**
 * Records of the result XML are written directly, not through the XML builder: byte for
 * byte what the builder gives, whatever the values hold.
 */
import { describe, expect, it } from 'vitest';
import type { RecordResult } from '../../src/domain/result.ts';
import { renderRecord, renderRecordWithBuilder, renderResult } from '../../src/xml/result-xml.ts';

const NASTY = [
  '',
  ' ',
  'plain',
  'A&B <Ltd> "q" \'a\'',
  'a\nb',
  'a\n',
  '\nb',
  'a\n\nb',
  'a\r\nb\tc',
  'x\n  y\n',
  'Zoë Müller-Ñúñez €',
  '\u0001bell\u0007',
  'pair \uD83D\uDE00 lone \uD800',
  ']]>',
  '&amp;',
];

describe('renderRecord', () => {
  it('gives what the builder gives for every shape and value', () => {
    const cases: RecordResult[] = [
      {
        index: 1,
        applicantId: 'A1',
        outcome: 'CREATED',
        status: 'ASSIGNED',
        casNumber: 'E4G3KL0V83Y5K5',
        expiryDate: '2026-09-02',
        issues: [],
      },
      {
        index: 2,
        applicantId: 'A2',
        outcome: 'REJECTED',
        issues: [
          {
            severity: 'ERROR',
            code: 'E_COURSE_DATES',
            field: 'CourseDetails/ExpectedCourseEndDate',
            message: 'ExpectedCourseEndDate (2013-12-20) is not after CourseStartDate (2013-12-26)',
          },
        ],
      },
      {
        index: 3,
        reportedCasNumber: 'E4G3KL0V83Y5K5',
        outcome: 'REPORTED',
        issues: [{ severity: 'WARNING', code: 'W_ALREADY_REPORTED', message: 'already' }],
      },
      {
        index: 5,
        reportedCasNumber: 'E4G3KL0V83Y5K5',
        report: 'NOT_ENROLLED',
        outcome: 'REPORTED',
        dueDate: '2026-09-14',
        issues: [{ severity: 'WARNING', code: 'W_LATE_REPORT', message: 'This NOT_ENROLLED report was due by 2026-09-14' }],
      },
      {
        index: 4,
        outcome: 'REJECTED',
        issues: [
          { severity: 'ERROR', code: 'E_CAS_NOT_FOUND', message: 'no such CAS' },
          { severity: 'WARNING', code: 'W_NO_ALLOCATION', message: 'none left' },
        ],
      },
    ];
    for (const v of NASTY) {
      cases.push({
        index: 9,
        applicantId: v,
        outcome: 'AMENDED',
        status: 'WORK_IN_PROGRESS',
        issues: [{ severity: 'WARNING', code: 'W_SELT_DETAILS', field: 'EvidenceDetails', message: v || 'm' }],
      });
      cases.push({
        index: 10,
        reportedCasNumber: v,
        outcome: 'REJECTED',
        issues: [{ severity: 'ERROR', code: 'E_CAS_STATUS', message: `before ${v} after` }],
      });
    }
    for (const c of cases) expect(renderRecord(c), JSON.stringify(c)).toBe(renderRecordWithBuilder(c));
  });
});

describe('escaping', () => {
  it("leaves quotes plain in text (O'Brien, not O&apos;Brien) and escapes markup characters", () => {
    const record = renderRecord({
      index: 1,
      applicantId: "O'Brien",
      outcome: 'REJECTED',
      issues: [{ severity: 'ERROR', code: 'E_CAS_STATUS', message: `value 'Ł' is "bad" <here> & there` }],
    });
    expect(record).toContain(`>value 'Ł' is "bad" &lt;here&gt; &amp; there</Issue>`);
    // Attribute values are between double quotes: quotes are escaped there.
    expect(record).toContain('applicantId="O&apos;Brien"');
    const result = renderResult({
      submissionId: 1,
      fileName: "St Mary's <list>.xml",
      sha256: '0'.repeat(64),
      sponsorLicenceNumber: 'QHDGHB91X',
      fileType: 'UPLOAD_GENERAL',
      receivedAt: new Date(0),
      processedAt: new Date(0),
      replay: false,
      outcome: 'REJECTED',
      counts: { records: 0, created: 0, amended: 0, assigned: 0, readyToGo: 0, workInProgress: 0, rejected: 0, reported: 0 },
      fileErrors: [{ code: 'E_SCHEMA', line: 3, column: 4, message: 'element \'Foo\': "x" is not expected' }],
    });
    expect(result).toContain("<FileName>St Mary's &lt;list&gt;.xml</FileName>");
    expect(result).toContain(`<Error code="E_SCHEMA" line="3" column="4">element 'Foo': "x" is not expected</Error>`);
    expect(result).not.toContain('&apos;');
  });
});
