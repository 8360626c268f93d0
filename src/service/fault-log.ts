/** How a file's fault is logged: at the start of a streak and at each doubling, never personal data. */
import { describeError, type Logger } from '../log.ts';
import { UNKNOWN_STRIKES, type Fault } from './faults.ts';

/** `log` is the file's own (`fileLog`): its lines say the sponsor and the file. */
export function logFault(
  log: Logger,
  err: unknown,
  fault: Fault,
  { retryInMs, failures, strikes }: { retryInMs: number; failures: number; strikes: number },
): void {
  const fields = {
    fault: fault.kind,
    err: describeError(err),
    retryInS: Math.round(retryInMs / 100) / 10,
  };
  if (fault.kind === 'environment') {
    // Logged when the streak starts and then at each doubling, not at every retry.
    if ((failures & (failures - 1)) === 0)
      log.warn({ ...fields, failures }, 'could not process the file (infrastructure fault); it stays in the inbox and is retried');
    else log.debug(fields, 'infrastructure fault again');
  } else if (retryInMs === 0) log.warn({ ...fields, strikes }, 'the file cannot be processed; setting it aside as REJECTED');
  else if (strikes < UNKNOWN_STRIKES)
    log.warn({ ...fields, strikes }, `unexpected error (${strikes} of ${UNKNOWN_STRIKES} before the file is set aside); retrying`);
  // Its submission was stored already (the result or the move fails): only finishing is left to retry.
  else if ((failures & (failures - 1)) === 0)
    log.error({ ...fields, strikes }, 'a file keeps failing after it was stored; it stays in the inbox and is retried; look at the cause');
}
