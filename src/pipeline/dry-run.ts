/**
 * The dry run of the pipeline (`cas-bdt validate`): the same steps in the same
 * transactions, rolled back once the outcome is known instead of committed.
 */
import { randomInt } from 'node:crypto';
import type { Db } from '../db/client.ts';
import { nextSubmissionId } from '../db/submissions.ts';
import type { SubmissionResult } from '../domain/result.ts';

class RolledBack<T> {
  constructor(readonly value: T) {}
}

/** Runs `work` in a transaction that is committed, or with `dryRun` rolled back; either way returns what it returned. */
export async function inTransaction<T>(db: Db, dryRun: boolean | undefined, work: (tx: Db) => Promise<T>): Promise<T> {
  if (!dryRun) return db.transaction(work);
  try {
    await db.transaction(async (tx) => {
      throw new RolledBack(await work(tx));
    });
  } catch (err) {
    if (err instanceof RolledBack) return err.value as T;
    throw err;
  }
  throw new Error('a dry run transaction was committed');
}

/**
 * What a dry run reports: the outcome, statuses and expiry dates, but no CAS number and no
 * payment, since none is given (`recordsXml`: the Record elements as result-xml renders them).
 */
export function wouldBe(result: SubmissionResult, recordsXml: string[]): { result: SubmissionResult; recordsXml: string[] } {
  const { payment: _payment, ...rest } = result;
  return { result: rest, recordsXml: recordsXml.map((xml) => xml.replace(/^ *<CASNumber>[^<]*<\/CASNumber>\n/gm, '')) };
}

/**
 * A dry run's result names no submission (none was stored): `SubmissionId` says DRY-RUN,
 * as `validate --json` says null, instead of an id nothing holds.
 */
export function asDryRun<P extends { resultXml: string }>(processed: P): P {
  // The element is in the document's head: the search stops there.
  return {
    ...processed,
    resultXml: processed.resultXml.replace(/<SubmissionId>[^<]*<\/SubmissionId>/, '<SubmissionId>DRY-RUN</SubmissionId>'),
  };
}

/**
 * A dry run's submission id: negative and random, never drawn from the sequence, so that
 * `validate` uses up no id (its rows are rolled back, and never meet a real one).
 */
export const dryRunSubmissionId = (): number => -randomInt(1, 2 ** 47);

/** The id a file (or a zip's entry) is stored under: the sequence's next, or a dry run's own. */
export const takeSubmissionId = (tx: Db, dryRun: boolean | undefined): Promise<number> =>
  dryRun ? Promise.resolve(dryRunSubmissionId()) : nextSubmissionId(tx);
