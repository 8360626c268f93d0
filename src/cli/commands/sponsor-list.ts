/** `cas-bdt sponsor list` */
import type { Command } from '@commander-js/extra-typings';
import { table, type Runner } from '../context.ts';

// Loaded when the command runs, so that --help and other commands start without the store's code.
const queries = () => import('../../ops/queries.ts');

export function registerSponsorList(sponsor: Command, run: Runner): void {
  sponsor
    .command('list')
    .description('list sponsors')
    .option('--json', 'print JSON')
    .action(
      run(async (ctx, opts) => {
        const { db } = await ctx.store();
        const { listSponsors, sponsorView } = await queries();
        const views = (await listSponsors(db)).map(sponsorView);
        if (opts.json) return ctx.json(views);
        // Defaults are relative to the current directory: say which store and tree these are.
        const where = `Store: ${(await ctx.store()).describe}; folders under ${ctx.config.rootDir}`;
        if (views.length === 0) return ctx.out(`No sponsors yet. Add one with \`cas-bdt sponsor add\`.\n${where}`);
        ctx.out(
          table(
            ['LICENCE', 'NAME', 'STATUS', 'ROUTES', 'AUTO', 'GRANTED', 'USED', 'UNUSED'],
            views.map((v) => [
              v.licenceNumber,
              v.name,
              v.status,
              v.routes.join(','),
              v.autoAssign ? 'yes' : 'no',
              v.allocation.granted,
              v.allocation.used,
              v.allocation.unused,
            ]),
          ) + `\n${where}`,
        );
      }),
    );
}
