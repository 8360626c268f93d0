/** `cas-bdt cas statements`: a sponsor's CAS as PDF statements, one file each. */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from '@commander-js/extra-typings';
import { CAS_STATUSES } from '../../domain/types.ts';
import { fsyncDir, replaceFile } from '../../inbox/atomic-write.ts';
import { FOLDER_MODE } from '../../inbox/layout.ts';
import { requireSponsor, type Context, type Runner } from '../context.ts';
import { choiceOption, parseLicence, upperCase } from '../parse.ts';

// Loaded when the command runs: pdfkit and the store stay out of --help and the other commands.
const statementOps = () => import('../../ops/statements.ts');

async function progressBar(ctx: Context, total: number) {
  if (!ctx.io.stderrIsTTY || total < 2) return undefined;
  const { SingleBar } = await import('cli-progress');
  const bar = new SingleBar({
    format: 'statements [{bar}] {value}/{total}',
    stream: process.stderr,
    hideCursor: true,
    clearOnComplete: true,
  });
  bar.start(total, 0);
  return bar;
}

export function registerCasStatements(casCmd: Command, run: Runner): void {
  casCmd
    .command('statements')
    .description("a sponsor's CAS as PDF statements, one file each (<CAS-NUMBER>.statement.pdf, draft-<id>.statement.pdf)")
    .requiredOption('--sponsor <licence>', 'the sponsor')
    .option('--batch <name>', 'only this batch (BulkUploadFileId)')
    .addOption(choiceOption('--status <status>', CAS_STATUSES.join('|'), CAS_STATUSES, upperCase))
    .requiredOption('--out <dir>', 'the folder to write them to (created if missing)')
    .option('--json', 'print JSON')
    .action(
      run(async (ctx, opts) => {
        const licence = parseLicence(opts.sponsor);
        const status = opts.status;
        const dir = path.resolve(ctx.io.cwd, opts.out);
        await requireSponsor(ctx, licence);
        const { db } = await ctx.store();
        const { statementIds, statementsOf, statementFileName } = await statementOps();
        const ids = await statementIds(db, {
          licence,
          batch: opts.batch?.trim(),
          status,
        });
        await mkdir(dir, { recursive: true, mode: FOLDER_MODE });
        const bar = await progressBar(ctx, ids.length);
        let drafts = 0;
        let written = 0;
        try {
          for await (const s of statementsOf(db, ids)) {
            await replaceFile(path.join(dir, statementFileName(s)), s.pdf, { syncDir: false });
            if (s.casNumber === null) drafts++;
            written++;
            bar?.increment();
          }
        } finally {
          bar?.stop();
          // Each file was flushed before its rename; the folder's entries once, after them all.
          await fsyncDir(dir);
        }
        if (opts.json) return ctx.json({ sponsorLicenceNumber: licence, dir, statements: written, drafts });
        ctx.out(
          written === 0
            ? 'No CAS match: no statement written.'
            : `Wrote ${written} statement${written === 1 ? '' : 's'} (${drafts} draft${drafts === 1 ? '' : 's'}) to ${dir}.`,
        );
      }),
    );
}
