/**
 * What the service tells `/metrics` about each file it finished: the type, outcome,
 * counts and error codes read back from the stored submission, and how long the file
 * took. Codes and counts only: never a name, a file name or any personal data.
 */
import { latestSubmissionNamed } from '../db/console.ts';
import type { Counts } from '../domain/result.ts';
import { describeError } from '../log.ts';
import type { ServiceContext } from './context.ts';
import { handleFile } from './handle-file.ts';
import type { Candidate, RunResult } from './scheduler.ts';

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

/**
 * `handleFile`, reporting each finished file to `report`. The look-up runs after the
 * scheduler has the file's result, so it never holds a worker; a failed look-up is
 * logged at debug level and that file is not counted.
 */
export function reporting(ctx: ServiceContext, report: (r: FileReport) => void): (c: Candidate) => Promise<RunResult> {
  return async (c) => {
    const started = ctx.monotonic();
    const r = await handleFile(ctx, c);
    if (r.kind === 'finished') void readBack(ctx, c, (ctx.monotonic() - started) / 1000, report);
    return r;
  };
}

async function readBack(ctx: ServiceContext, c: Candidate, seconds: number, report: (r: FileReport) => void): Promise<void> {
  try {
    const s = await latestSubmissionNamed(ctx.db, c.licence, c.file.name);
    if (!s) return;
    const counts = s.summary.counts;
    report({
      fileType: s.fileType,
      outcome: s.outcome,
      replay: s.summary.replay === true,
      counts: {
        records: counts.records ?? 0,
        assigned: counts.assigned ?? 0,
        readyToGo: counts.readyToGo ?? 0,
        workInProgress: counts.workInProgress ?? 0,
        rejected: counts.rejected ?? 0,
        reported: counts.reported ?? 0,
        updated: counts.updated ?? 0,
      },
      errorCodes: [...new Set((s.summary.fileErrors ?? []).map((e) => e.code))],
      seconds,
    });
  } catch (err) {
    ctx.sponsorLog(c.licence).debug({ err: describeError(err) }, 'could not read the finished file back for the metrics');
  }
}
