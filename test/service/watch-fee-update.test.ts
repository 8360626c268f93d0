/**
 * A fee update file dropped in an inbox while `watch` runs, on both stores: its result in
 * the outbox (UPDATED and REJECTED records), the input archived, the new fees on the CAS,
 * and a log line with counts only: no amount, no CAS's personal data.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { findCas } from '../../src/db/cas-query.ts';
import { withdrawCas } from '../../src/ops/withdraw.ts';
import { updateBytes } from '../helpers/bdt.ts';
import { storeTest } from '../helpers/fixture.ts';
import { issueCodes, parseResult } from '../helpers/pipeline.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { waitFor } from '../helpers/wait.ts';
import { drop, ls, waitProcessed } from '../helpers/watch.ts';
import { validateXsd } from '../../src/xml/xsd.ts';

describe.each(STORE_KINDS)('watch: fee update files on %s', (kind) => {
  storeTest.override({ kind });

  storeTest(
    'processes a dropped update file: result with each record, fees set, input archived, amounts never logged',
    async ({ t, root, licence, threeCas }) => {
      const { inbox, outbox, running, cas } = threeCas;
      const [a, b, c] = cas;
      await withdrawCas(t.store.db, { casNumber: c!.casNumber! }, new Date());

      drop(
        inbox,
        'fees-june.xml',
        updateBytes({
          licence,
          fileId: 'FEES-JUNE',
          records: [
            { casNumber: a!.casNumber!, coursePaid: '13579.24', accommodationPaid: '864.20' },
            { casNumber: b!.casNumber! },
            { casNumber: c!.casNumber!, boardingPaid: '97531.86' },
          ],
        }),
      );
      await waitProcessed(root, licence, ['students.xml', 'fees-june.xml']);

      const resultFile = path.join(outbox, 'fees-june.result.xml');
      expect(await validateXsd({ file: resultFile }, 'result')).toEqual([]);
      const result = parseResult(readFileSync(resultFile, 'utf8'));
      expect(result.Outcome).toBe('ACCEPTED');
      expect(result.Submission.FileType).toBe('UPDATE_FEES');
      expect(result.Summary).toMatchObject({ '@_records': '3', '@_updated': '1', '@_rejected': '2' });
      expect(result.Records!.Record.map((r) => [r['@_casNumber'], r.Outcome, issueCodes(r)])).toEqual([
        [a!.casNumber, 'UPDATED', []],
        [b!.casNumber, 'REJECTED', ['E_FEES_PAID_MISSING']],
        [c!.casNumber, 'REJECTED', ['E_CAS_STATUS']],
      ]);
      expect(ls(path.join(root, licence, 'archive')).filter((f) => f.endsWith('_fees-june.xml'))).toHaveLength(1);
      expect(ls(inbox)).toEqual([]);

      expect((await findCas(t.store.db, { id: a!.id }))!.fees).toMatchObject({
        courseFeesPaidToDate: '13579.24',
        accommodationFeesPaidToDate: '864.20',
      });
      expect((await findCas(t.store.db, { id: c!.id }))!.fees.boardingFeesPaidToDate).toBeNull();

      const svc = running;
      await waitFor(
        () =>
          new RegExp(
            `processed sponsor=${licence} file=fees-june.xml outcome=ACCEPTED submission=\\d+ records=3 updated=1 rejected=2`,
          ).test(svc.logs.join('')),
        {
          what: 'the log line of the update file',
        },
      );
      expect(svc.logs.join('')).not.toMatch(/13579|864\.2|97531|Okafor|A01234567/);
    },
  );
});
