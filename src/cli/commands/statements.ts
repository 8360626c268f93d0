/** `cas-bdt cas statement` and `cas statements`: CAS statements as PDF (spec section 11). */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { CAS_STATUSES, type CasStatus } from '../../domain/types.ts';
import { fsyncDir, replaceFile } from '../../inbox/atomic-write.ts';
import { FOLDER_MODE } from '../../inbox/layout.ts';
import type { Db } from '../../ops/store.ts';
import { notFound, usage, type Context, type Runner } from '../context.ts';
import { parseCasNumber, parseId } from '../parse.ts';
import { casRef } from './cas.ts';
import { parseLicence, requireSponsor } from './sponsor.ts';
import { coerceError } from '../../errors.ts';

// Loaded when a command runs: pdfkit and the store stay out of --help and the other commands.
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

/**
 * After a command that assigned CAS (`process` into the outbox, `assign`): the sponsor's
 * statements owed (`sponsor set --statements`) are written now rather than at the next
 * `watch`. A failure leaves them owed, which `watch` writes; the command's work stands.
 */
export async function writeOwedStatementsOf(ctx: Context, db: Db, licence: string): Promise<void> {
  const { writeOwedStatements } = await statementOps();
  try {
    const n = await writeOwedStatements(db, ctx.config.rootDir, { licence });
    if (n) ctx.err(`Wrote ${n} CAS statement${n === 1 ? '' : 's'} to the outbox of ${licence}.`);
  } catch (err) {
    ctx.err(`CAS statements of ${licence} not written now (${coerceError(err).message}); \`cas-bdt watch\` writes them.`);
  }
}

export function registerStatementCommands(casCmd: Command, run: Runner): void {
  casCmd
    .command('statement')
    .description('one CAS as a PDF statement (a DRAFT without CAS number when it is not assigned)')
    .argument('[cas-number]', 'the CAS number', parseCasNumber)
    .addOption(new Option('--id <id>', 'the internal CAS id instead of a number').argParser(parseId))
    .option('--out <file>', 'where to write it (default: <CAS-NUMBER>.statement.pdf, or draft-<id>.statement.pdf, here)')
    .option('--json', 'print JSON')
    .action(
      run(async (ctx, opts, numberArg: string | undefined) => {
        const { by, missing } = casRef(numberArg, opts.id);
        const { db } = await ctx.store();
        const { statementOf, statementFileName } = await statementOps();
        const s = await statementOf(db, by);
        if (!s) throw notFound(missing);
        const file = path.resolve(ctx.io.cwd, opts.out !== undefined ? String(opts.out) : statementFileName(s));
        await replaceFile(file, s.pdf);
        if (opts.json) return ctx.json({ id: s.id, casNumber: s.casNumber, draft: s.casNumber === null, file, bytes: s.pdf.length });
        ctx.out(`${s.casNumber ? `Statement of CAS ${s.casNumber}` : `DRAFT statement of CAS id ${s.id} (not assigned)`}: ${file}`);
      }),
    );

  casCmd
    .command('statements')
    .description("a sponsor's CAS as PDF statements, one file each (<CAS-NUMBER>.statement.pdf, draft-<id>.statement.pdf)")
    .requiredOption('--sponsor <licence>', 'the sponsor')
    .option('--batch <name>', 'only this batch (BulkUploadFileId)')
    .option('--status <status>', CAS_STATUSES.join('|'))
    .requiredOption('--out <dir>', 'the folder to write them to (created if missing)')
    .option('--json', 'print JSON')
    .action(
      run(async (ctx, opts) => {
        const licence = parseLicence(String(opts.sponsor));
        let status: CasStatus | undefined;
        if (opts.status !== undefined) {
          status = String(opts.status).toUpperCase().replaceAll(' ', '_') as CasStatus;
          if (!CAS_STATUSES.includes(status)) throw usage(`--status must be one of ${CAS_STATUSES.join(', ')}`);
        }
        const dir = path.resolve(ctx.io.cwd, String(opts.out));
        await requireSponsor(ctx, licence);
        const { db } = await ctx.store();
        const { statementIds, statementsOf, statementFileName } = await statementOps();
        const ids = await statementIds(db, {
          licence,
          ...(opts.batch !== undefined ? { batch: String(opts.batch).trim() } : {}),
          ...(status ? { status } : {}),
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
