/** `cas-bdt rerun`: write a submission's stored result again. */
import path from 'node:path';
import type { Command } from '@commander-js/extra-typings';
import { sponsorDir } from '../../inbox/layout.ts';
import { notFound, type Runner } from '../context.ts';
import { parseId } from '../parse.ts';

// Loaded when the command runs, so that --help and other commands start without the store's code.
const queries = () => import('../../ops/queries.ts');
const emit = () => import('../../pipeline/emit.ts');

export function registerRerunCommand(program: Command, run: Runner): void {
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
        const outDir = opts.out ? path.resolve(ctx.io.cwd, opts.out) : sponsorDir(ctx.config.rootDir, sub.sponsorLicenceNumber, 'outbox');
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
