/** `cas-bdt submissions show`: one submission, with the issues of each record. */
import { notFound, type Runner } from '../context.ts';
import { countsLine, outcomeWords } from '../outcome-text.ts';
import { addPagingOptions, pageFooter, pagingOf } from '../paging.ts';
import { parseId } from '../parse.ts';
import { submissionView, type registerSubmissionsCommand } from './submissions.ts';

// Loaded when the command runs, so that --help and other commands start without the store's code.
const queries = () => import('../../ops/queries.ts');

export function registerSubmissionsShow(submissionsCmd: ReturnType<typeof registerSubmissionsCommand>, run: Runner): void {
  const show = submissionsCmd
    .command('show')
    .description('one submission: its file, outcome, counts, file errors and the issues of each record')
    .argument('<submission-id>', 'the submission id', parseId)
    .option('--json', 'print JSON');
  addPagingOptions(show).action(
    run(async (ctx, own, id: number) => {
      // `submissions show ID --json`: commander gives the options both define (--json, --limit,
      // --offset) to `submissions`, whichever side of `show` they are on.
      const opts = { ...submissionsCmd.opts(), ...own };
      const paging = pagingOf(ctx, opts);
      const { db } = await ctx.store();
      const [{ getSubmission }, { readResult }] = await Promise.all([queries(), import('../../xml/result-reader.ts')]);
      const sub = await getSubmission(db, id);
      if (!sub) throw notFound(`submission ${id}`);
      const v = submissionView(sub);
      const result = readResult(sub.resultXml);
      // Only the records with something to say: an accepted record without issues is in the counts.
      const noted = result.records.filter((r) => r.issues.length > 0);
      const page = noted.slice(paging.offset, paging.limit === undefined ? undefined : paging.offset + paging.limit);
      if (opts.json)
        return ctx.json({
          ...v,
          sizeBytes: sub.sizeBytes,
          payment: result.payment,
          records: result.records.slice(paging.offset, paging.limit === undefined ? undefined : paging.offset + paging.limit),
        });
      const lines = [
        `Submission:   ${v.submissionId}`,
        `File:         ${v.file} (${sub.sizeBytes} bytes, sha256 ${v.sha256})`,
        `Sponsor:      ${v.sponsorLicenceNumber}`,
        `Type:         ${v.fileType}${v.fileId ? `, file id ${v.fileId}` : ''}`,
        `Received:     ${v.receivedAt}, processed ${v.processedAt}`,
        `Outcome:      ${outcomeWords(v)}${v.replay ? ' (replay of an earlier identical file)' : ''}`,
        ...(v.outcome === 'ACCEPTED' ? [`Records:      ${countsLine(v)}`] : []),
        ...(result.payment
          ? [
              `Payment:      ${result.payment.reference}, ${result.payment.casCount} CAS, ${result.payment.amount} ${result.payment.currency}`,
            ]
          : []),
        `Result file:  ${v.resultFile ?? '(not written yet)'}`,
      ];
      if (result.fileErrors.length) {
        lines.push(
          'File errors:',
          ...result.fileErrors.map((e) => `  ${e.code}${e.line ? ` at ${e.line}:${e.column ?? 0}` : ''}: ${e.message}`),
        );
      }
      if (noted.length) {
        lines.push(`Records with issues (${noted.length}):`);
        for (const r of page) {
          lines.push(
            `  #${r.index}${r.applicantId ? ` ${r.applicantId}` : r.reportedCasNumber ? ` ${r.reportedCasNumber}` : ''}: ${r.outcome}${r.status ? `, ${r.status.replaceAll('_', ' ')}` : ''}`,
          );
          for (const i of r.issues) lines.push(`    ${i.code}${i.field ? ` ${i.field}` : ''}: ${i.message}`);
        }
        const footer = pageFooter(paging, page.length, noted.length);
        if (footer) lines.push(footer);
      }
      ctx.out(lines.join('\n'));
    }),
  );
}
