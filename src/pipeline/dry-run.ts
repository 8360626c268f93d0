/**
 * The dry run of the pipeline (`cas-bdt validate`): the same steps in the same
 * transactions, rolled back once the outcome is known instead of committed.
 */
import { randomInt } from 'node:crypto';
import type { Db } from '../db/client.ts';
import type { PipelineDeps } from './deps.ts';
import { nextSubmissionId } from '../db/submissions.ts';

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
 * A dry run's submission id: negative and random, never drawn from the sequence, so that
 * `validate` uses up no id (its rows are rolled back, and never meet a real one).
 */
export const dryRunSubmissionId = (): number => -randomInt(1, 2 ** 47);

/** The id a file (or a zip's entry) is stored under: the sequence's next, or a dry run's own. */
export const takeSubmissionId = (tx: Db, dryRun: boolean | undefined): Promise<number> =>
  dryRun ? Promise.resolve(dryRunSubmissionId()) : nextSubmissionId(tx);

/** One of a file's transactions: its own, or a part of the caller's (`PipelineDeps.nest`). */
export const fileTransaction = <T>(deps: Pick<PipelineDeps, 'db' | 'dryRun' | 'nest'>, work: (tx: Db) => Promise<T>): Promise<T> =>
  deps.nest ? deps.nest(work) : inTransaction(deps.db, deps.dryRun, work);
