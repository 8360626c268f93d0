/**
 * A student activity report file dropped in an inbox while `watch` runs, on both stores:
 * its result in the outbox (REPORTED with due dates, W_LATE_REPORT naming the due date,
 * refused records), a second identical report W_ALREADY_REPORTED, and log lines with
 * counts only: no notes.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { isoDateUtc } from '../../src/domain/dates.ts';
import { dueDate } from '../../src/domain/working-days.ts';
import { useCas } from '../../src/ops/use.ts';
import { reportBytes } from '../../src/xml/bdt-samples.ts';
import { validateXsd } from '../../src/xml/xsd.ts';
import { storeTest } from '../helpers/fixture.ts';
import { issueCodes, parseResult } from '../helpers/pipeline.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { waitFor } from '../helpers/wait.ts';
import { drop, ls, waitProcessed } from '../helpers/watch.ts';

const day = (n: number) => isoDateUtc(new Date(Date.now() + n * 86_400_000));

describe.each(STORE_KINDS)('watch: student activity report files on %s', (kind) => {
  storeTest.override({ kind });

  storeTest(
    'processes a dropped report file: each kind, a late one, a refused one, then an identical one; notes never logged',
    async ({ t, root, licence, threeCas }) => {
      const { inbox, outbox, running, cas } = threeCas;
      const [a, b, c] = cas;
      for (const x of [b!, c!]) expect((await useCas(t.store.db, { casNumber: x.casNumber! }, day(-90), new Date())).kind).toBe('done');
      const reports = reportBytes('REPORTS-1', licence, [
        { kind: 'NOT_ENROLLED', casNumber: a!.casNumber!, fields: { ExpectedEnrollmentDate: day(-1) }, notes: 'Secret note 8675309' },
        { kind: 'WITHDRAWN', casNumber: b!.casNumber!, fields: { EffectiveDate: day(-45), Reason: 'STUDENT_WITHDREW' } },
        { kind: 'RESUMED', casNumber: c!.casNumber!, fields: { ReturnDate: day(-1) } },
      ]);
      drop(inbox, 'reports.xml', reports);
      await waitProcessed(root, licence, ['students.xml', 'reports.xml']);

      const resultFile = path.join(outbox, 'reports.result.xml');
      expect(await validateXsd({ file: resultFile }, 'result')).toEqual([]);
      const result = parseResult(readFileSync(resultFile, 'utf8'));
      expect(result.Submission.FileType).toBe('REPORT');
      expect(result.Summary).toMatchObject({ '@_records': '3', '@_reported': '2', '@_rejected': '1' });
      const lateDue = dueDate(day(-45), 'england-and-wales');
      expect(result.Records!.Record.map((r) => [r['@_casNumber'], r.Outcome, r.DueDate, issueCodes(r)])).toEqual([
        [a!.casNumber, 'REPORTED', dueDate(day(-1), 'england-and-wales'), []],
        [b!.casNumber, 'REPORTED', lateDue, ['W_LATE_REPORT']],
        [c!.casNumber, 'REJECTED', undefined, ['E_CAS_STATUS']],
      ]);
      expect(result.Records!.Record[1]!.Issue![0]!['#text']).toContain(`due by ${lateDue}`);
      expect(ls(path.join(root, licence, 'archive')).filter((f) => f.endsWith('_reports.xml'))).toHaveLength(1);

      drop(
        inbox,
        'reports-again.xml',
        reportBytes('REPORTS-2', licence, [
          { kind: 'NOT_ENROLLED', casNumber: a!.casNumber!, fields: { ExpectedEnrollmentDate: day(-1) }, notes: 'Secret note 8675309' },
        ]),
      );
      await waitProcessed(root, licence, ['students.xml', 'reports.xml', 'reports-again.xml']);
      const again = parseResult(readFileSync(path.join(outbox, 'reports-again.result.xml'), 'utf8'));
      expect(again.Records!.Record.map((r) => [r.Outcome, issueCodes(r)])).toEqual([['REPORTED', ['W_ALREADY_REPORTED']]]);

      const svc = running;
      await waitFor(
        () =>
          new RegExp(`processed sponsor=${licence} file=reports.xml outcome=ACCEPTED submission=\\d+ records=3 reported=2 rejected=1`).test(
            svc.logs.join(''),
          ),
        { what: 'the log line of the report file' },
      );
      expect(svc.logs.join('')).not.toMatch(/8675309|Secret note/);
    },
  );
});
