/** `cas-bdt cas withdraw`: withdraw an ASSIGNED CAS. */
import { Option, type Command } from '@commander-js/extra-typings';
import { settled, type Runner } from '../context.ts';
import { MAX_REASON, parseCasNumber, parseReason } from '../parse.ts';

// Loaded when the command runs, so that --help and other commands start without the store's code.
const casQuery = () => import('../../ops/queries.ts');

export function registerCasWithdraw(casCmd: Command, run: Runner): void {
  casCmd
    .command('withdraw')
    .description('withdraw an ASSIGNED CAS')
    .argument('<cas-number>', 'the CAS number', parseCasNumber)
    .addOption(new Option('--reason <text>', `why, kept in the CAS's history (at most ${MAX_REASON} characters)`).argParser(parseReason))
    .option('--json', 'print JSON')
    .action(
      run(async (ctx, opts, casNumber: string) => {
        const { db } = await ctx.store();
        const [{ withdrawCas }, { findCas }] = await Promise.all([import('../../ops/withdraw.ts'), casQuery()]);
        const reason = `withdrawn by the sponsor (cas-bdt cas withdraw)${opts.reason !== undefined ? `: ${opts.reason}` : ''}`;
        settled(await withdrawCas(db, { casNumber }, new Date(), reason), `CAS ${casNumber}`);
        const view = await findCas(db, { casNumber });
        if (opts.json) return ctx.json(view);
        ctx.out(`${casNumber} withdrawn (was ASSIGNED).`);
      }),
    );
}
