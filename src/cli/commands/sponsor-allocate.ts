/** `cas-bdt sponsor allocate`: grant N more CAS. */
import type { Command } from '@commander-js/extra-typings';
import { settled, type Runner } from '../context.ts';
import { MAX_GRANT, parseLicence, wholeNumber } from '../parse.ts';

// Loaded when the command runs, so that --help and other commands start without the store's code.
const queries = () => import('../../ops/queries.ts');
const sponsorOps = () => import('../../ops/sponsors.ts');

export function registerSponsorAllocate(sponsor: Command, run: Runner): void {
  sponsor
    .command('allocate')
    .description('grant N more CAS to the sponsor')
    .argument('<licence>', 'licence number')
    .argument('<n>', `how many more CAS, 1 to ${MAX_GRANT}`, wholeNumber(1, MAX_GRANT))
    .option('--json', 'print JSON')
    .action(
      run(async (ctx, opts, licenceArg: string, n: number) => {
        const licence = parseLicence(licenceArg);
        const { db } = await ctx.store();
        const [{ grantAllocation }, { sponsorView }] = await Promise.all([sponsorOps(), queries()]);
        const { sponsor } = settled(await grantAllocation(db, licence, n, new Date()), `sponsor ${licence}`);
        const view = sponsorView(sponsor);
        if (opts.json) ctx.json(view);
        else
          ctx.out(
            `Granted ${n} CAS to ${licence}: granted ${view.allocation.granted}, used ${view.allocation.used}, unused ${view.allocation.unused}.`,
          );
      }),
    );
}
