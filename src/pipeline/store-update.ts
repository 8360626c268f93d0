/**
 * Fee update files, inside the file's transaction: each CASUpdate is judged on its own
 * against the sponsor's CAS (locked for the transaction) and, when accepted and not equal
 * to the current fees, sets them with a FEES_UPDATED event. Records naming the same CAS
 * apply in file order.
 */
import type { Db } from '../db/client.ts';
import { lockSponsorCasByNumbers, writeFees, type FeeWrite } from '../db/fees.ts';
import { judgeFeeUpdate } from '../domain/fees.ts';
import { countRecord, zeroCounts, type RecordResult } from '../domain/result.ts';
import { hasErrors } from '../domain/rules.ts';
import { readFeeUpdateRecord } from '../xml/record-reader.ts';
import { renderRecord } from '../xml/result-xml.ts';
import { timed } from '../timings.ts';
import type { Inspected } from './inspect.ts';
import { readRecords, type ByNumberOptions } from './store-graduates.ts';
import type { Stored } from './store-upload.ts';

export async function storeFeeUpdate(tx: Db, file: Inspected, opts: ByNumberOptions): Promise<Stored> {
  const updates = await timed('fee update: read records', () => readRecords(file, 'CASUpdate', readFeeUpdateRecord));
  const found = await timed('fee update: lock the CAS', () =>
    lockSponsorCasByNumbers(
      tx,
      opts.licence,
      updates.map((u) => u.casNumber),
    ),
  );
  const writes: FeeWrite[] = [];
  const records: RecordResult[] = updates.map((u) => {
    const target = found.get(u.casNumber);
    const judged = judgeFeeUpdate(u.casNumber, u.change, target);
    const base = { index: u.index, reportedCasNumber: u.casNumber, issues: judged.issues };
    if (hasErrors(judged.issues)) return { ...base, outcome: 'REJECTED' };
    if (target && judged.fees) {
      writes.push({ id: target.id, status: target.status, before: target.fees, after: judged.fees });
      // A later record for the same CAS is judged on these fees.
      target.fees = judged.fees;
    }
    return { ...base, outcome: 'UPDATED' };
  });
  if (writes.length)
    await timed('fee update: write fees and events', () =>
      writeFees(tx, writes, { now: opts.now, reason: `fee update by submission ${opts.submissionId}`, submissionId: opts.submissionId }),
    );
  const counts = zeroCounts('UPDATE_FEES');
  for (const r of records) countRecord(counts, r);
  opts.onProgress?.(1);
  return { counts, recordsXml: [records.map((r) => renderRecord(r)).join('')] };
}
