/** `cas-bdt sponsor set`: change a sponsor's name, routes, auto-assign, statements or export schema. */
import type { Command } from '@commander-js/extra-typings';
import { settled, usage, type Runner } from '../context.ts';
import { parseLicence, parseRoutes } from '../parse.ts';
import { describeSponsor, exportSchemaOption } from './sponsor-show.ts';

// Loaded when the command runs, so that --help and other commands start without the store's code.
const queries = () => import('../../ops/queries.ts');
const sponsorOps = () => import('../../ops/sponsors.ts');

export function registerSponsorSet(sponsor: Command, run: Runner): void {
  sponsor
    .command('set')
    .description("change a sponsor's name, routes, auto-assign, statements setting or export schema")
    .argument('<licence>', 'licence number')
    .option('--name <name>', 'the institution name')
    .option('--routes <routes>', 'the routes: student, child or student,child (a route is only added here; to take one away, surrender it)')
    .option('--auto-assign', 'assign CAS as files are processed, allocation permitting')
    .option('--no-auto-assign', 'create CAS without assigning them (assign later with `cas-bdt assign`)')
    .option('--statements', "write each CAS assigned from now on as a PDF statement to the sponsor's outbox (<CAS-NUMBER>.statement.pdf)")
    .option('--no-statements', 'no statements in the outbox (the default)')
    .addOption(exportSchemaOption())
    .option('--json', 'print JSON')
    .action(
      run(async (ctx, opts, licenceArg: string) => {
        const licence = parseLicence(licenceArg);
        const name = opts.name?.trim();
        if (name === '') throw usage('--name must not be empty');
        const routes = opts.routes === undefined ? undefined : parseRoutes(opts.routes);
        const autoAssign = opts.autoAssign;
        const exportSchema = opts.exportSchema;
        const statements = opts.statements;
        if (
          name === undefined &&
          routes === undefined &&
          autoAssign === undefined &&
          statements === undefined &&
          exportSchema === undefined
        )
          throw usage(
            'give what to change: --name, --routes, --auto-assign, --no-auto-assign, --statements, --no-statements or --export-schema',
          );
        const { db } = await ctx.store();
        const [{ updateSponsor }, { sponsorView }] = await Promise.all([sponsorOps(), queries()]);
        const res = settled(
          await updateSponsor(db, licence, { name, routes, autoAssign, statements, exportSchema }, new Date()),
          `sponsor ${licence}`,
        );
        const view = sponsorView(res.sponsor);
        if (opts.json) return ctx.json(view);
        const what = res.changed.map(
          (k) =>
            ({ name: 'name', routes: 'routes', autoAssign: 'auto-assign', statements: 'statements', exportSchema: 'export schema' })[k] ??
            k,
        );
        ctx.out(
          `${what.length ? `Changed ${what.join(', ')} of ${licence}.` : `Nothing to change for ${licence}.`}\n${describeSponsor(view)}`,
        );
      }),
    );
}
