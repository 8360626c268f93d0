/**
 * `cas-bdt validate`: a dry run of `process`. The same pipeline runs every check and rule
 * against the sponsor's current state in transactions that are rolled back: nothing is
 * stored, no allocation used, no CAS number given. The would-be result is printed, or
 * written to `--out DIR` as NAME.dry-run.result.xml.
 */
import path from 'node:path';
import type { Command } from '@commander-js/extra-typings';
import { everyRecordRefused, type FileSummary } from '../../domain/result.ts';
import { fileKind } from '../../domain/file-kinds.ts';
import { baseName } from '../../inbox/layout.ts';
import { recordLines, fileErrorLines, recordsOf } from '../outcome-text.ts';
import { requireSponsor, usage, type Context, type Runner } from '../context.ts';
import { parseLicence } from '../parse.ts';
import { escapeControls } from '../../escape.ts';
import { coerceError } from '../../errors.ts';

/** What validate reports per file (JSON): the file summary without a submission, with each record. */
interface DryRunSummary extends Omit<FileSummary, 'submissionId'> {
  submissionId: null;
  dryRun: true;
  records: unknown[];
  /** The would-be result XML (no CAS number, no payment). */
  resultXml: string;
}

function describe(s: Omit<FileSummary, 'submissionId'>, records: Parameters<typeof recordLines>[0]): string[] {
  const c = s.counts;
  if (s.replay)
    return [`${s.file}: identical to a file already accepted: processing it would only write its earlier result again (a replay)`];
  if (s.outcome === 'REJECTED') return [`${s.file}: would be REJECTED`, ...fileErrorLines(s.fileErrors)];
  const head = `${c.records} record(s): ${fileKind(s.fileType)?.dryRunWords(c) ?? `${c.rejected} rejected`}`;
  const verdict = everyRecordRefused(s) ? 'would be ACCEPTED, but EVERY RECORD REFUSED (nothing would be stored)' : 'would be ACCEPTED';
  return [`${s.file}: ${verdict}: ${head}`, ...recordLines(records, { wouldBe: true })];
}

export function registerValidateCommand(program: Command, run: Runner): void {
  program
    .command('validate')
    .description(
      'dry run of process: every check and rule against the sponsor as it is now; nothing stored, no allocation used, no CAS number given',
    )
    .argument('<files...>', 'BDT files')
    .requiredOption('--sponsor <licence>', 'the sponsor the files would belong to')
    .option('--out <dir>', 'write each would-be result there as NAME.dry-run.result.xml (default: print the outcome)')
    .option('--json', 'print JSON')
    .action(
      run(async (ctx: Context, opts, files: string[]) => {
        const licence = parseLicence(opts.sponsor);
        await requireSponsor(ctx, licence);
        const { db } = await ctx.store();
        const [{ processFile }, { readReceivedFile, release }, { writeNewFile }] = await Promise.all([
          import('../../pipeline/process-file.ts'),
          import('../../inbox/read-file.ts'),
          import('../../inbox/atomic-write.ts'),
        ]);
        const cfg = ctx.config;
        const outDir = opts.out ? path.resolve(ctx.io.cwd, opts.out) : undefined;
        const reports: DryRunSummary[] = [];
        for (const f of files) {
          let received;
          try {
            received = await readReceivedFile(path.resolve(ctx.io.cwd, f), licence, cfg.maxFileBytes);
          } catch (err) {
            throw usage(`cannot read ${f}: ${coerceError(err).message}`);
          }
          const settings = {
            feePence: cfg.feePence,
            validityMonths: cfg.validityMonths,
            maxFileBytes: cfg.maxFileBytes,
            validateTimeoutMs: cfg.validateTimeoutMs,
            holidays: cfg.holidays,
          };
          const file = received;
          const processed = await processFile({ db, settings, dryRun: true }, file).finally(() => release(file));
          let resultFile: string | null = null;
          if (outDir && processed.files) {
            const name = path.basename(received.fileName).replace(/\.zip$/i, '') || 'file';
            const names = [`${name}.dry-run.result.zip`, ...Array.from({ length: 50 }, (_, k) => `${name}.dry-run-${k + 2}.result.zip`)];
            const { zipMany } = await import('../../xml/export-zip.ts');
            resultFile = await writeNewFile(outDir, names, await zipMany(processed.files, new Date()));
          } else if (outDir) {
            const name = baseName(received.fileName);
            const names = [`${name}.dry-run.result.xml`, ...Array.from({ length: 50 }, (_, k) => `${name}.dry-run-${k + 2}.result.xml`)];
            resultFile = await writeNewFile(outDir, names, processed.resultXml);
          }
          const { submissionId: _uncommitted, ...summary } = processed.summary;
          // A zip's own result lists entries, not records (each entry's are described below).
          const records = processed.files ? [] : await recordsOf(processed.resultXml);
          reports.push({ ...summary, submissionId: null, dryRun: true, resultFile, records, resultXml: processed.resultXml });
          if (!opts.json && summary.container?.entries) {
            // A zip: each entry as a file of its own, and those refused with their reason.
            ctx.out(`${summary.file}: zip would be ${summary.outcome}`);
            for (const e of summary.container.entries) {
              const got = processed.entries?.find((p) => p.name === e.name && p.processed.submissionId === e.submissionId);
              if (!got) ctx.out(`  ${escapeControls(e.name)}: refused (E_ZIP_ENTRY): ${e.error ?? ''}`);
              else {
                const lines = describe({ ...got.processed.summary, file: e.name }, await recordsOf(got.processed.resultXml));
                ctx.out(lines.map((l) => `  ${l}`).join('\n'));
              }
            }
            if (resultFile) ctx.out(`  would-be result: ${resultFile}`);
          } else if (!opts.json) {
            ctx.out(describe(summary, records).join('\n'));
            if (resultFile) ctx.out(`  would-be result: ${resultFile}`);
          }
        }
        if (opts.json) ctx.json(reports);
        else ctx.out('Dry run: nothing was stored, no allocation used, no CAS number given.');
        return reports.some((s) => s.outcome === 'REJECTED' || everyRecordRefused(s)) ? 3 : 0;
      }),
    );
}
