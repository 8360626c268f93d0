/**
 * What the service tells `/metrics` about each file it finished: the type, outcome,
 * counts and error codes of its submission, as handleFile has it (stored, or read for a
 * recovery), and how long the file took. Codes and counts only: never a name, a file name
 * or any personal data.
 */
import type { Counts, FileSummary } from '../domain/result.ts';
import type { ServiceContext } from './context.ts';
import type { RunResult } from './scheduler.ts';

export interface FileReport {
  fileType: string;
  outcome: string;
  replay: boolean;
  counts: Pick<Counts, 'records' | 'assigned' | 'readyToGo' | 'workInProgress' | 'rejected' | 'reported' | 'updated'>;
  /** Distinct file error codes (E_SCHEMA, ...). */
  errorCodes: string[];
  /** From the file being taken to its input moved. */
  seconds: number;
}

/** Tells `report` of a file that was finished, taken at `started` (the service's monotonic clock). */
export function reporter(ctx: ServiceContext, report: (r: FileReport) => void): (r: RunResult, started: number) => void {
  return (r, started) => {
    if (r.kind === 'finished' && r.summary) report(fileReport(r.summary, (ctx.monotonic() - started) / 1000));
  };
}

function fileReport(s: FileSummary, seconds: number): FileReport {
  const counts: Partial<Counts> = s.counts;
  return {
    fileType: s.fileType,
    outcome: s.outcome,
    replay: s.replay === true,
    counts: {
      records: counts.records ?? 0,
      assigned: counts.assigned ?? 0,
      readyToGo: counts.readyToGo ?? 0,
      workInProgress: counts.workInProgress ?? 0,
      rejected: counts.rejected ?? 0,
      reported: counts.reported ?? 0,
      updated: counts.updated ?? 0,
    },
    errorCodes: [...new Set((s.fileErrors ?? []).map((e) => e.code))],
    seconds,
  };
}
