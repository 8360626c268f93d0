/** `cas-bdt submissions`: received files, newest first. */
import type { Command } from '@commander-js/extra-typings';
import { everyRecordRefused } from '../../domain/result.ts';
import { FILE_TYPES, type FileOutcome } from '../../domain/types.ts';
import type { SubmissionFilter, SubmissionRow } from '../../ops/queries.ts';
import { requireSponsor, table, type Runner } from '../context.ts';
import { errorCodes, fileErrorLines } from '../outcome-text.ts';
import { addPagingOptions, listingFooter, pagingOf } from '../paging.ts';
import { choiceOption, parseDate, parseLicence, upperCase } from '../parse.ts';

// Loaded when the command runs, so that --help and other commands start without the store's code.
const queries = () => import('../../ops/queries.ts');

/** A stored submission as `submissions` prints it: the file summary of cli.md and the submission's own facts. */
export function submissionView(r: SubmissionRow) {
  return {
    ...r.summary,
    submissionId: r.id,
    fileId: r.fileId,
    sha256: r.sha256,
    receivedAt: r.receivedAt.toISOString(),
    processedAt: r.processedAt.toISOString(),
    resultFile: r.resultFile,
  };
}

/** Midnight UTC of a `YYYY-MM-DD` flag. */
function dayStart(value: string, flag: string): Date {
  return new Date(`${parseDate(value, flag)}T00:00:00.000Z`);
}

const OUTCOMES = ['ACCEPTED', 'REJECTED'] as const satisfies readonly FileOutcome[];

/** The `submissions` command, returned for its subcommand `show`. */
export function registerSubmissionsCommand(program: Command, run: Runner) {
  const submissionsCmd = program
    .command('submissions')
    .description('received files, newest first (`submissions show ID` for one)')
    .option('--sponsor <licence>', 'only this sponsor')
    .addOption(choiceOption('--outcome <outcome>', 'only ACCEPTED or REJECTED files', OUTCOMES, upperCase))
    .addOption(choiceOption('--type <type>', `only this file type (${FILE_TYPES.join('|')})`, FILE_TYPES, upperCase))
    .option('--file <name>', 'only files of this name')
    .option('--since <date>', 'received on or after this day, YYYY-MM-DD (UTC)')
    .option('--until <date>', 'received on or before this day, YYYY-MM-DD (UTC)')
    .option('--json', 'print JSON');
  addPagingOptions(submissionsCmd).action(
    run(async (ctx, opts) => {
      const licence = opts.sponsor ? parseLicence(opts.sponsor) : undefined;
      const fileType = opts.type;
      const filter: SubmissionFilter = {
        licence,
        outcome: opts.outcome,
        fileType,
        fileName: opts.file,
        since: opts.since === undefined ? undefined : dayStart(opts.since, '--since'),
        until: opts.until === undefined ? undefined : new Date(dayStart(opts.until, '--until').getTime() + 86_400_000),
      };
      const paging = pagingOf(ctx, opts);
      if (licence) await requireSponsor(ctx, licence);
      const { db } = await ctx.store();
      const { listSubmissions, countSubmissions } = await queries();
      const views = (await listSubmissions(db, filter, paging)).map(submissionView);
      if (opts.json) return ctx.json(views);
      const footer = await listingFooter(paging, views.length, () => countSubmissions(db, filter));
      if (views.length === 0) return ctx.out(footer ?? 'No submissions.');
      ctx.out(
        table(
          ['ID', 'RECEIVED', 'SPONSOR', 'FILE', 'TYPE', 'OUTCOME', 'RECORDS', 'ASSIGNED', 'REJECTED', 'ERRORS'],
          views.map((v) => [
            v.submissionId,
            v.receivedAt,
            v.sponsorLicenceNumber,
            v.file,
            v.fileType,
            (everyRecordRefused(v) ? 'ACCEPTED, all records refused' : v.outcome) + (v.replay ? ' (replay)' : ''),
            v.counts.records,
            v.counts.assigned,
            v.counts.rejected,
            errorCodes(v),
          ]),
        ),
      );
      // What the errors say, under the table: the first few of each refused file.
      const refused = views.filter((v) => v.fileErrors.length > 0);
      for (const v of refused.slice(0, 20))
        ctx.out([`\nsubmission ${v.submissionId} (${v.file}):`, ...fileErrorLines(v.fileErrors, 3)].join('\n'));
      if (refused.length > 20) ctx.out(`\n... and ${refused.length - 20} more refused files (\`submissions --json\` lists every error)`);
      // How to see more comes last, where the eye ends.
      if (footer) ctx.out(`\n${footer}`);
    }),
  );
  return submissionsCmd;
}
