/** `cas-bdt cas statement`: one CAS as a PDF statement (spec section 11). */
import path from 'node:path';
import { Option, type Command } from '@commander-js/extra-typings';
import { replaceFile } from '../../inbox/atomic-write.ts';
import { casRef, notFound, type Runner } from '../context.ts';
import { parseCasNumber, parseId } from '../parse.ts';

// Loaded when the command runs, so that --help and other commands start without the store's code.
const statementOps = () => import('../../ops/statements.ts');

export function registerCasStatement(casCmd: Command, run: Runner): void {
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
        const file = path.resolve(ctx.io.cwd, opts.out ?? statementFileName(s));
        await replaceFile(file, s.pdf);
        if (opts.json) return ctx.json({ id: s.id, casNumber: s.casNumber, draft: s.casNumber === null, file, bytes: s.pdf.length });
        ctx.out(`${s.casNumber ? `Statement of CAS ${s.casNumber}` : `DRAFT statement of CAS id ${s.id} (not assigned)`}: ${file}`);
      }),
    );
}
