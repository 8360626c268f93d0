/** `cas-bdt process`, `submissions` and `rerun` */
import type { Command } from 'commander';
import type { FileSummary } from '../../domain/result.ts';
import { sponsorDir } from '../../inbox/layout.ts';
import { memoryPeaksMb, stagesAtPeakRss, startTimings, timed, timingsSoFar } from '../../timings.ts';
import { notFound, table, usableOutbox, usage, type Context, type Runner } from '../context.ts';
import { errorCodes, fileErrorLines } from '../outcome-text.ts';
import { escapeControls } from '../../escape.ts';
import { parseId } from '../parse.ts';
import { parseLicence, requireSponsor } from './sponsor.ts';
import path from 'node:path';

// Loaded when a command runs, so that --help and other commands start without the pipeline and the store's code.
const pipeline = () => import('../../pipeline/process-file.ts');
const readFile = () => import('../../inbox/read-file.ts');
const queries = () => import('../../ops/queries.ts');
const emit = () => import('../../pipeline/emit.ts');

export function summaryLine(s: FileSummary): string {
  const c = s.counts;
  const what =
    s.outcome === 'REJECTED'
      ? errorCodes(s)
      : s.fileType === 'GRADUATE_REPORT'
        ? `${c.records} records: ${c.reported} reported, ${c.rejected} rejected`
        : s.fileType === 'UPDATE_FEES'
          ? `${c.records} records: ${c.updated ?? 0} updated, ${c.rejected} rejected`
          : `${c.records} records: ${c.created} created, ${c.amended} amended, ${c.rejected} rejected; ${c.assigned} assigned, ${c.readyToGo} ready to go, ${c.workInProgress} work in progress`;
  const line = `${s.file}: ${s.outcome}${s.replay ? ' (replay)' : ''} [submission ${s.submissionId}] ${what}${s.resultFile ? ` -> ${s.resultFile}` : ''}`;
  // A refused file's errors in words, not only their codes.
  return [line, ...(s.outcome === 'REJECTED' ? fileErrorLines(s.fileErrors) : [])].join('\n');
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
        const [{ processFile }, { readReceivedFile }, { emitResult }] = await Promise.all([pipeline(), readFile(), emit()]);
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
            throw usage(`cannot read ${f}: ${(err as Error).message}`);
          }
          const bar = received.size > 5 * 1024 * 1024 ? await progressBar(ctx, escapeControls(received.fileName)) : undefined;
          const processed = await timed('pipeline', () => processFile(
            {
              db,
              settings: { feePence: cfg.feePence, validityMonths: cfg.validityMonths, maxFileBytes: cfg.maxFileBytes, validateTimeoutMs: cfg.validateTimeoutMs },
              ...(bar ? { onProgress: (x: number) => bar.update(Math.round(x * 100)) } : {}),
            },
            received,
          ));
          bar?.stop();
          const resultFile = await timed('result write', () => emitResult(db, outDir, { submissionId: processed.submissionId, fileName: received.fileName, resultXml: processed.resultXml }, realOutDir));
          const summary = { ...processed.summary, resultFile };
          summaries.push(summary);
          if (!opts.json) ctx.out(summaryLine(summary));
        }
        if (opts.json) ctx.json(summaries);
        const stages = timingsSoFar();
        if (stages) ctx.err(JSON.stringify({ timings: { 'process start (node, modules)': Math.round(startedMs), ...stages, 'command total': Math.round(performance.now()) }, memoryPeaksMb: memoryPeaksMb(), stagesAtPeakRss: stagesAtPeakRss() }));
        return summaries.some((s) => s.outcome === 'REJECTED') ? 3 : 0;
      }),
    );

  program
    .command('submissions')
    .description('received files, newest first')
    .option('--sponsor <licence>', 'only this sponsor')
    .option('--json', 'print JSON')
    .action(
      run(async (ctx, opts) => {
        const licence = opts.sponsor ? parseLicence(String(opts.sponsor)) : undefined;
        if (licence) await requireSponsor(ctx, licence);
        const { db } = await ctx.store();
        const { listSubmissions } = await queries();
        const rows = await listSubmissions(db, licence);
        const views = rows.map((r) => ({
          ...r.summary,
          submissionId: r.id,
          fileId: r.fileId,
          sha256: r.sha256,
          receivedAt: r.receivedAt.toISOString(),
          processedAt: r.processedAt.toISOString(),
          resultFile: r.resultFile,
        }));
        if (opts.json) return ctx.json(views);
        if (views.length === 0) return ctx.out('No submissions.');
        ctx.out(
          table(
            ['ID', 'RECEIVED', 'SPONSOR', 'FILE', 'TYPE', 'OUTCOME', 'RECORDS', 'ASSIGNED', 'REJECTED', 'ERRORS'],
            views.map((v) => [
              v.submissionId,
              v.receivedAt,
              v.sponsorLicenceNumber,
              v.file,
              v.fileType,
              v.outcome + (v.replay ? ' (replay)' : ''),
              v.counts.records,
              v.counts.assigned,
              v.counts.rejected,
              errorCodes(v),
            ]),
          ),
        );
        // What the errors say, under the table: the first few of each refused file.
        const refused = views.filter((v) => v.fileErrors.length > 0);
        for (const v of refused.slice(0, 20)) ctx.out([`\nsubmission ${v.submissionId} (${v.file}):`, ...fileErrorLines(v.fileErrors, 3)].join('\n'));
        if (refused.length > 20) ctx.out(`\n... and ${refused.length - 20} more refused files (\`submissions --json\` lists every error)`);
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
        const [{ getSubmission }, { emitResult }] = await Promise.all([queries(), emit()]);
        const sub = await getSubmission(db, id);
        if (!sub) throw notFound(`submission ${id}`);
        const outDir = opts.out ? path.resolve(ctx.io.cwd, String(opts.out)) : sponsorDir(ctx.config.rootDir, sub.sponsorLicenceNumber, 'outbox');
        const written = await emitResult(db, outDir, { submissionId: sub.id, fileName: sub.fileName, resultXml: sub.resultXml });
        if (opts.json) ctx.json({ submissionId: sub.id, resultFile: written });
        else ctx.out(`Wrote the result of submission ${sub.id} to ${written}`);
      }),
    );
}
