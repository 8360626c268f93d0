/** `cas-bdt process`: the pipeline on files anywhere (inputs are not moved). */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from '@commander-js/extra-typings';
import { everyRecordRefused, type FileSummary, type RecordResult } from '../../domain/result.ts';
import { escapeControls } from '../../escape.ts';
import { sponsorDir } from '../../inbox/layout.ts';
import { memoryAtPeakRssMb, memoryPeaksMb, stagesAtPeakRss, startTimings, timed, timingsSoFar } from '../../timings.ts';
import { requireSponsor, usableOutbox, usage, writeOwedStatementsOf, type Context, type Runner } from '../context.ts';
import { countsLine, errorCodes, fileErrorLines, outcomeWords, recordLines, refusedOf } from '../outcome-text.ts';
import { parseLicence } from '../parse.ts';
import { coerceError } from '../../errors.ts';
import { count } from '../words.ts';

// Loaded when a command runs, so that --help and other commands start without the pipeline and the store's code.
const pipeline = () => import('../../pipeline/process-file.ts');
const readFile = () => import('../../inbox/read-file.ts');
const emit = () => import('../../pipeline/emit.ts');
const xsd = () => import('../../xml/xsd.ts');

/**
 * The XSD engine's threads end once idle this long (ms): a large file's validation ends
 * well before its records are stored, and the thread's memory is then given back before
 * the peak (the result, stored last). Longer than the pause between one file's validation
 * and the next's, so that a run of files does not restart them.
 */
const ENGINE_IDLE_MS = 1000;

/**
 * The largest first file read while the store opens (bytes). A larger one is read in its
 * turn: a 94 MB file's bytes and scan beside the embedded store's start raised the
 * command's peak RSS from 423 to 459 MiB to 635 MiB (GNU time, run without the launcher's
 * malloc setting).
 */
const READ_AHEAD_MAX_BYTES = 32 * 1024 * 1024;

/** How many refused records `process` tells with their reasons; the result file lists them all. */
const REFUSED_SHOWN = 10;

/** `refused`: the first of the file's refused records, and how many there are; they are told with their reasons. */
function summaryLine(s: FileSummary, refused: { records: RecordResult[]; total: number } = { records: [], total: 0 }): string {
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
  const recordText = recordLines(refused.records);
  if (refused.total > refused.records.length)
    recordText.push(`  ... and ${refused.total - refused.records.length} more refused records (the result file lists them all)`);
  return [line, ...(s.outcome === 'REJECTED' ? fileErrorLines(s.fileErrors) : recordText)].join('\n');
}

async function progressBar(ctx: Context, label: string) {
  if (!ctx.io.stderrIsTTY) return undefined;
  const { SingleBar } = await import('cli-progress');
  const bar = new SingleBar({ format: `${label} [{bar}] {percentage}%`, stream: process.stderr, hideCursor: true, clearOnComplete: true });
  bar.start(100, 0);
  return bar;
}

export function registerProcessCommand(program: Command, run: Runner): void {
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
        const licence = parseLicence(opts.sponsor);
        // The pipeline's modules load while the store opens (awaited, and any failure thrown, below).
        const modules = Promise.all([pipeline(), readFile(), emit(), xsd()]);
        modules.catch(() => {});
        const cfg = ctx.config;
        // The first file is read, decoded and scanned, and the XSD engine started, while the store
        // opens: that is waiting (the embedded store starts in its own thread, a server is reached
        // over the network). A failure to read it is told in its turn, below, as before.
        const firstFile = files[0] === undefined ? undefined : path.resolve(ctx.io.cwd, files[0]);
        const firstRead =
          firstFile === undefined
            ? undefined
            : modules.then(async ([{ scanAhead }, { readReceivedFile }]) => {
                const size = await stat(firstFile).then(
                  (st) => st.size,
                  () => undefined,
                );
                if (size === undefined || size > READ_AHEAD_MAX_BYTES) return undefined;
                const got = await timed('read and sha256', () => readReceivedFile(firstFile, licence, cfg.maxFileBytes));
                if (got.bytes) scanAhead(got.bytes);
                return got;
              });
        firstRead?.catch(() => {});
        let db;
        try {
          // The embedded store in a thread of its own: its work runs beside the pipeline's (pglite-store.ts).
          ({ db } = await timed('open store', () => ctx.store({ ownThread: true })));
          await requireSponsor(ctx, licence);
        } catch (err) {
          // The first file read ahead is let go (its handle closed) once read; the command
          // fails now, without waiting on a file that may sit on a slow mount.
          void Promise.all([firstRead, modules])
            .then(([got, [, { release }]]) => got && release(got))
            .catch(() => {});
          throw err;
        }
        const [{ processFile }, { readReceivedFile, release }, { emitResult }, { retireIdleXsdEngine }] = await modules;
        retireIdleXsdEngine(ENGINE_IDLE_MS);
        const outDir = opts.out ? path.resolve(ctx.io.cwd, opts.out) : sponsorDir(cfg.rootDir, licence, 'outbox');
        // Results never go through a sponsor folder that is a link: refused before anything is stored.
        let realOutDir: string | undefined;
        if (!opts.out) {
          realOutDir = await usableOutbox(cfg.rootDir, licence);
        }
        const summaries: FileSummary[] = [];
        for (const [i, f] of files.entries()) {
          const file = path.resolve(ctx.io.cwd, f);
          let received;
          try {
            received =
              (i === 0 ? await firstRead : undefined) ??
              (await timed('read and sha256', () => readReceivedFile(file, licence, cfg.maxFileBytes)));
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
                onProgress: bar ? (x: number) => bar.update(Math.round(x * 100)) : undefined,
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
                    files: processed.files,
                  },
                  realOutDir,
                ),
              );
          const summary = { ...processed.summary, resultFile };
          summaries.push(summary);
          if (!opts.json) {
            // The first refused records' reasons, read back from the result; a zip's lines are its entries.
            const readBack = !processed.files && summary.counts.rejected > 0;
            ctx.out(summaryLine(summary, readBack ? await refusedOf(processed.resultXml, REFUSED_SHOWN) : undefined));
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
              memoryAtPeakRssMb: memoryAtPeakRssMb(),
            }),
          );
        // 3 also for a file none of whose records was accepted: nothing came of it (cli.md's "refused").
        return summaries.some((s) => s.outcome === 'REJECTED' || everyRecordRefused(s)) ? 3 : 0;
      }),
    );
}
