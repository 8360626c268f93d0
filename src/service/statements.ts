/**
 * The service's part of `sponsor set --statements` (spec section 11): the statements owed
 * (recorded in each assignment's transaction) are written to the sponsors' outboxes after
 * every finished file that owed any (or may have: a zip, a recovered file), every scan
 * interval (CAS assigned by `cas-bdt assign`, and a drain that failed) and at start (what a
 * killed instance left). One drain at a time; a request during one runs it again.
 */
import { describeError, type Logger } from '../log.ts';
import type { Db } from '../db/client.ts';
import { writeOwedStatements } from '../ops/statements.ts';

interface StatementWriter {
  /** Writes what is owed now (or again once the drain in progress ends). */
  kick(): void;
  /** Resolves when no drain is running. */
  idle(): Promise<void>;
}

export function statementWriter(db: Db, rootDir: string, log: Logger, onError: (err: unknown) => void): StatementWriter {
  let running: Promise<void> | undefined;
  let again = false;
  let failing = false;
  const drain = async () => {
    do {
      again = false;
      try {
        const n = await writeOwedStatements(db, rootDir);
        if (n) log.info({ statements: n }, 'CAS statements written to outboxes');
        failing = false;
      } catch (err) {
        onError(err);
        if (!failing) log.warn({ err: describeError(err) }, 'CAS statements not written; retrying at the next scan');
        failing = true;
        return;
      }
    } while (again);
  };
  return {
    kick() {
      if (running) {
        again = true;
        return;
      }
      running = drain().finally(() => {
        running = undefined;
      });
    },
    idle: async () => {
      while (running) await running;
    },
  };
}
