/** `cas-bdt sponsor status`: set the licence status; revoked, expired and surrendered cancel ASSIGNED CAS. */
import { Option, type Command } from '@commander-js/extra-typings';
import { ROUTES, LICENCE_STATUSES } from '../../domain/types.ts';
import { routeNotLicensed } from '../../domain/refusals.ts';
import { refusedError, requireSponsor, settled, usage, type Runner } from '../context.ts';
import { choiceArgument, choiceOption, lowerCase, MAX_REASON, parseLicence, parseReason } from '../parse.ts';

// Loaded when the command runs, so that --help and other commands start without the store's code.
const queries = () => import('../../ops/queries.ts');
const licenceOps = () => import('../../ops/licence.ts');

export function registerSponsorStatus(sponsor: Command, run: Runner): void {
  sponsor
    .command('status')
    .description('set the licence status; revoked, expired and surrendered cancel ASSIGNED CAS (confirm with --yes)')
    .argument('<licence>', 'licence number')
    .addArgument(choiceArgument('<status>', LICENCE_STATUSES.join('|'), LICENCE_STATUSES, lowerCase))
    .addOption(choiceOption('--route <route>', 'with surrendered: surrender only this route (student|child)', ROUTES, lowerCase))
    .addOption(
      new Option('--reason <text>', `why, kept in the history of every CAS cancelled (at most ${MAX_REASON} characters)`).argParser(
        parseReason,
      ),
    )
    .option('--yes', 'confirm cancelling the ASSIGNED CAS (asked on a terminal otherwise)')
    .option('--dry-run', 'print what would be cancelled and change nothing')
    .option('--json', 'print JSON')
    .action(
      run(async (ctx, opts, licenceArg: string, status) => {
        const licence = parseLicence(licenceArg);
        const route = opts.route;
        if (route && status !== 'surrendered') throw usage('--route goes only with the status surrendered');
        const reason = opts.reason;
        const { db } = await ctx.store();
        const [{ changeLicenceStatus, assignedCasNumbers, CANCELLING }, { sponsorView }] = await Promise.all([licenceOps(), queries()]);
        const what = route ? `route ${route} surrendered` : `status ${status}`;
        const cancelling = CANCELLING.includes(status);
        if (cancelling && (opts.dryRun || !opts.yes)) {
          const sponsorRow = await requireSponsor(ctx, licence);
          if (route && !sponsorRow.routes.includes(route)) throw refusedError(routeNotLicensed(licence, route));
          const wouldCancel = await assignedCasNumbers(db, licence, route);
          const question = `${licence}: ${what} cancels ${wouldCancel.length} ASSIGNED CAS${route ? ` of the ${route} route` : ''}`;
          if (opts.dryRun) {
            if (opts.json) return ctx.json({ ...sponsorView(sponsorRow), dryRun: true, wouldCancel });
            return ctx.out(`Dry run, nothing changed. ${question}.${wouldCancel.length ? `\n${wouldCancel.join('\n')}` : ''}`);
          }
          if (!ctx.io.confirm) throw usage(`${question}: give --yes to go on (or --dry-run to list them)`);
          if (!(await ctx.io.confirm(`${question}. Go on?`))) throw refusedError('nothing changed');
        }
        const res = settled(await changeLicenceStatus(db, licence, { status, route, reason }, new Date()), `sponsor ${licence}`);
        const view = sponsorView(res.sponsor);
        if (opts.json) return ctx.json({ ...view, cancelled: res.cancelled });
        if (!cancelling) return ctx.out(`${licence}: ${what}.`);
        ctx.out(
          `${licence}: ${what}; ${res.cancelled.length} ASSIGNED CAS cancelled.${res.cancelled.length ? `\n${res.cancelled.join('\n')}` : ''}`,
        );
      }),
    );
}
