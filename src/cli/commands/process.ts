/** `cas-bdt process`, `submissions` and `rerun` */
import { Option, type Command } from 'commander';
import { isIsoDate } from '../../domain/dates.ts';
import { everyRecordRefused, type FileSummary, type RecordResult } from '../../domain/result.ts';
import { FILE_TYPES, type FileOutcome, type FileType } from '../../domain/types.ts';
import { fileKind } from '../../domain/file-kinds.ts';
import type { SubmissionFilter, SubmissionRow } from '../../ops/queries.ts';
import { sponsorDir } from '../../inbox/layout.ts';
import { memoryPeaksMb, stagesAtPeakRss, startTimings, timed, timingsSoFar } from '../../timings.ts';
import { notFound, table, usableOutbox, usage, type Context, type Runner } from '../context.ts';
import { errorCodes, fileErrorLines, recordLines, recordsOf } from '../outcome-text.ts';
import { escapeControls } from '../../escape.ts';
import { coerceError } from '../../errors.ts';
import { addPagingOptions, listingFooter, pageFooter, pagingOf } from '../paging.ts';
import { oneOf, parseId, upperCase } from '../parse.ts';
import { count } from '../words.ts';
import { parseLicence, requireSponsor } from './sponsor.ts';
import { writeOwedStatementsOf } from './statements.ts';
import path from 'node:path';

// Loaded when a command runs, so that --help and other commands start without the pipeline and the store's code.
const pipeline = () => import('../../pipeline/process-file.ts');
const readFile = () => import('../../inbox/read-file.ts');
const queries = () => import('../../ops/queries.ts');
const emit = () => import('../../pipeline/emit.ts');

/** What an accepted file's records came to, in words ("1 record: 1 created, ..."). */
function countsLine(s: Pick<FileSummary, 'counts' | 'fileType'>): string {
  const c = s.counts;
  return `${count(c.records, 'record')}: ${fileKind(s.fileType)?.countsWords(c) ?? `${c.rejected} rejected`}`;
}

/** Largest result (characters) whose refused records `process` prints; larger ones are in the result file. */
const MAX_RESULT_READ_BACK = 8 * 1024 * 1024;

/** The outcome in words: a file whose records were refused, all or some, is not told like a clean one. */
function outcomeWords(s: Pick<FileSummary, 'outcome' | 'counts'>): string {
  if (everyRecordRefused(s)) return 'ACCEPTED, but EVERY RECORD REFUSED (nothing stored)';
  if (s.outcome === 'ACCEPTED' && s.counts.rejected > 0)
    return `ACCEPTED, ${s.counts.rejected} of ${count(s.counts.records, 'record')} refused`;
  return s.outcome;
}

/** `records`: the file's records as its result holds them; those refused are told with their reasons. */
function summaryLine(s: FileSummary, records: RecordResult[] = []): string {
  const entries = s.container?.entries;
  if (entries) {
    const head = `${s.file}: zip ${s.outcome}${s.replay ? ' (replay)' : ''} [submission ${s.submissionId}] ${count(entries.length, 'entry', 'entries')}${s.resultFile ? ` -> ${s.resultFile}` : ''}`;
    const lines = entries.map((e) =>
      e.error !== undefined
        ? `  ${escapeControls(e.name)}: REFUSED E_ZIP_ENTRY: ${e.error}`
        : `  ${escapeControls(e.name)}: ${e.outcome} [submission ${e.submissionId}] -> ${e.result}`,
    );
    return [head, ...lines].join('\n');
  }
  const what = s.outcome === 'REJECTED' ? errorCodes(s) : countsLine(s);
  const line = `${s.file}: ${outcomeWords(s)}${s.replay ? ' (replay)' : ''} [submission ${s.submissionId}] ${what}${s.resultFile ? ` -> ${s.resultFile}` : ''}`;
  // A refused file's errors in words, not only their codes; and why records were refused.
  const refused = records.filter((r) => r.outcome === 'REJECTED');
  const recordText =
    refused.length > 10
      ? [...recordLines(refused.slice(0, 10)), `  ... and ${refused.length - 10} more refused records (the result file lists them all)`]
      : recordLines(refused);
  return [line, ...(s.outcome === 'REJECTED' ? fileErrorLines(s.fileErrors) : recordText)].join('\n');
}

/** A stored submission as `submissions` prints it: the file summary of cli.md and the submission's own facts. */
function submissionView(r: SubmissionRow) {
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
function dayStart(value: unknown, flag: string): Date {
  const s = String(value).trim();
  if (!isIsoDate(s)) throw usage(`${flag} must be a date YYYY-MM-DD, got "${String(value)}"`);
  return new Date(`${s}T00:00:00.000Z`);
}

async function progressBar(ctx: Context, label: string) {
  if (!ctx.io.stderrIsTTY) return undefined;
  const { SingleBar } = await import('cli-progress');
  const bar = new SingleBar({ format: `${label} [{bar}] {percentage}%`, stream: process.stderr, hideCursor: true, clearOnComplete: true });
  bar.start(100, 0);
  return bar;
}

export function registerProcessCommands(program: Command, run: Runner): void {
  program
    .command('process')
    .description('run the pipeline on files anywhere (inputs are not moved)')
    .argument('<files...>', 'BDT files')
    .requiredOption('--sponsor <licence>', 'the sponsor the files belong to')
    .option('--out <dir>', "where results go (default: the sponsor's outbox)")
    .option('--json', 'print JSON')
    .option('--timings', 'print the milliseconds spent in each stage as one JSON line on stderr')
    .action(
      run(async (ctx, opts, files: string[]) => {
        if (opts.timings) startTimings();
        const startedMs = performance.now();
        const licence = parseLicence(String(opts.sponsor));
        await timed('open store', () => requireSponsor(ctx, licence));
        const { db } = await ctx.store();
        const [{ processFile }, { readReceivedFile, release }, { emitResult }] = await Promise.all([pipeline(), readFile(), emit()]);
        const cfg = ctx.config;
        const outDir = opts.out ? path.resolve(ctx.io.cwd, String(opts.out)) : sponsorDir(cfg.rootDir, licence, 'outbox');
        // Results never go through a sponsor folder that is a link: refused before anything is stored.
        let realOutDir: string | undefined;
        if (!opts.out) {
          realOutDir = await usableOutbox(cfg.rootDir, licence);
        }
        const summaries: FileSummary[] = [];
        for (const f of files) {
          const file = path.resolve(ctx.io.cwd, f);
          let received;
          try {
            received = await timed('read and sha256', () => readReceivedFile(file, licence, cfg.maxFileBytes));
          } catch (err) {
            throw usage(`cannot read ${f}: ${coerceError(err).message}`);
          }
          const bar = received.size > 5 * 1024 * 1024 ? await progressBar(ctx, escapeControls(received.fileName)) : undefined;
          const got = received;
          const processed = await timed('pipeline', () =>
            processFile(
              {
                db,
                settings: {
                  feePence: cfg.feePence,
                  validityMonths: cfg.validityMonths,
                  maxFileBytes: cfg.maxFileBytes,
                  validateTimeoutMs: cfg.validateTimeoutMs,
                  holidays: cfg.holidays,
                },
                ...(bar ? { onProgress: (x: number) => bar.update(Math.round(x * 100)) } : {}),
              },
              got,
            ).finally(() => release(got)),
          );
          bar?.stop();
          // A file of another sponsor (a mistyped --sponsor, the wrong file) is refused, and its
          // refusal is not put in the outbox of --sponsor, where that sponsor would read of a file
          // that was never theirs: it is printed, stored, and written only where --out says.
          const notTheirs = !opts.out && processed.summary.fileErrors.some((e) => e.code === 'E_SPONSOR_MISMATCH');
          const resultFile = notTheirs
            ? null
            : await timed('result write', () =>
                emitResult(
                  db,
                  outDir,
                  {
                    submissionId: processed.submissionId,
                    fileName: received.fileName,
                    resultXml: processed.resultXml,
                    summary: processed.summary,
                    ...(processed.files ? { files: processed.files } : {}),
                  },
                  realOutDir,
                ),
              );
          const summary = { ...processed.summary, resultFile };
          summaries.push(summary);
          if (!opts.json) {
            // The refused records' reasons, read back from the result; a very large result is
            // not parsed again for a few lines (the result file lists them); a zip's lines are its entries.
            const readBack = !processed.files && summary.counts.rejected > 0 && processed.resultXml.length <= MAX_RESULT_READ_BACK;
            ctx.out(summaryLine(summary, readBack ? await recordsOf(processed.resultXml) : []));
          }
          if (notTheirs)
            ctx.err(
              `${received.fileName}: not written to the outbox of ${licence}: the file names another sponsor. ` +
                `The refusal is kept as submission ${processed.submissionId} ('cas-bdt rerun ${processed.submissionId} --out DIR' writes it).`,
            );
        }
        // Results went to the outbox: so do the statements of the CAS assigned (`sponsor set --statements`).
        if (!opts.out) await writeOwedStatementsOf(ctx, db, licence);
        if (opts.json) ctx.json(summaries);
        const stages = timingsSoFar();
        if (stages)
          ctx.err(
            JSON.stringify({
              timings: {
                'process start (node, modules)': Math.round(startedMs),
                ...stages,
                'command total': Math.round(performance.now()),
              },
              memoryPeaksMb: memoryPeaksMb(),
              stagesAtPeakRss: stagesAtPeakRss(),
            }),
          );
        // 3 also for a file none of whose records was accepted: nothing came of it (cli.md's "refused").
        return summaries.some((s) => s.outcome === 'REJECTED' || everyRecordRefused(s)) ? 3 : 0;
      }),
    );

  const submissionsCmd = program
    .command('submissions')
    .description('received files, newest first (`submissions show ID` for one)')
    .option('--sponsor <licence>', 'only this sponsor')
    .addOption(
      new Option('--outcome <outcome>', 'only ACCEPTED or REJECTED files').argParser(oneOf(['ACCEPTED', 'REJECTED'] as const, upperCase)),
    )
    .addOption(new Option('--type <type>', `only this file type (${FILE_TYPES.join('|')})`).argParser(oneOf(FILE_TYPES, upperCase)))
    .option('--file <name>', 'only files of this name')
    .option('--since <date>', 'received on or after this day, YYYY-MM-DD (UTC)')
    .option('--until <date>', 'received on or before this day, YYYY-MM-DD (UTC)')
    .option('--json', 'print JSON');
  addPagingOptions(submissionsCmd).action(
    run(async (ctx, opts) => {
      const licence = opts.sponsor ? parseLicence(String(opts.sponsor)) : undefined;
      const fileType = opts.type as FileType | undefined;
      const filter: SubmissionFilter = {
        licence,
        outcome: opts.outcome as FileOutcome | undefined,
        fileType,
        ...(opts.file !== undefined ? { fileName: String(opts.file) } : {}),
        ...(opts.since !== undefined ? { since: dayStart(opts.since, '--since') } : {}),
        ...(opts.until !== undefined ? { until: new Date(dayStart(opts.until, '--until').getTime() + 86_400_000) } : {}),
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
      const [{ getSubmission }, { readResult }] = await Promise.all([queries(), import('../../http/result-view.ts')]);
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
          ...(result.payment ? { payment: result.payment } : {}),
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
            `  #${r.index}${r.applicantId ? ` ${r.applicantId}` : r.casNumber ? ` ${r.casNumber}` : ''}: ${r.outcome}${r.status ? `, ${r.status.replaceAll('_', ' ')}` : ''}`,
          );
          for (const i of r.issues) lines.push(`    ${i.code}${i.field ? ` ${i.field}` : ''}: ${i.message}`);
        }
        const footer = pageFooter(paging, page.length, noted.length);
        if (footer) lines.push(footer);
      }
      ctx.out(lines.join('\n'));
    }),
  );

  program
    .command('rerun')
    .description("write a submission's stored result again (nothing is processed again)")
    .argument('<submission-id>', 'the submission id', parseId)
    .option('--out <dir>', "where the result goes (default: the sponsor's outbox)")
    .option('--json', 'print JSON')
    .action(
      run(async (ctx, opts, id: number) => {
        const { db } = await ctx.store();
        const [{ getSubmission }, { emitResultReporting }] = await Promise.all([queries(), emit()]);
        const sub = await getSubmission(db, id);
        if (!sub) throw notFound(`submission ${id}`);
        const outDir = opts.out
          ? path.resolve(ctx.io.cwd, String(opts.out))
          : sponsorDir(ctx.config.rootDir, sub.sponsorLicenceNumber, 'outbox');
        const { file, adopted } = await emitResultReporting(db, outDir, {
          submissionId: sub.id,
          fileName: sub.fileName,
          resultXml: sub.resultXml,
          summary: sub.summary,
        });
        // A result never overwrites a file: one already holding exactly this result is left as it is.
        if (opts.json) ctx.json({ submissionId: sub.id, resultFile: file, unchanged: adopted });
        else
          ctx.out(
            adopted
              ? `The result of submission ${sub.id} is already in ${file}, unchanged; nothing was written.`
              : `Wrote the result of submission ${sub.id} to ${file}`,
          );
      }),
    );
}
