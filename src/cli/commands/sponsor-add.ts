/** `cas-bdt sponsor add`: register a sponsor and create its folders. */
import path from 'node:path';
import { Option, type Command } from '@commander-js/extra-typings';
import { ensureSponsorFolders, sponsorDir } from '../../inbox/layout.ts';
import { settled, usage, type Runner } from '../context.ts';
import { MAX_GRANT, parseLicence, parseRoutes, wholeNumber } from '../parse.ts';
import { describeSponsor, exportSchemaOption } from './sponsor-show.ts';

// Loaded when the command runs, so that --help and other commands start without the store's code.
const queries = () => import('../../ops/queries.ts');
const sponsorOps = () => import('../../ops/sponsors.ts');

export function registerSponsorAdd(sponsor: Command, run: Runner): void {
  sponsor
    .command('add')
    .description('register a sponsor and create its folders')
    .argument('<licence>', 'licence number')
    .requiredOption('--name <name>', 'the institution name')
    .option('--routes <routes>', 'student, child or student,child', 'student')
    .addOption(
      new Option('--allocation <n>', `CAS allocation granted now, 0 to ${MAX_GRANT}`).default(0).argParser(wholeNumber(0, MAX_GRANT)),
    )
    .option('--no-auto-assign', 'create CAS without assigning them (assign later with `cas-bdt assign`)')
    .addOption(exportSchemaOption())
    .option('--json', 'print JSON')
    .action(
      run(async (ctx, opts, licenceArg: string) => {
        const licence = parseLicence(licenceArg);
        const name = opts.name.trim();
        if (!name) throw usage('--name must not be empty');
        const routes = parseRoutes(opts.routes);
        const allocation = opts.allocation;
        const { db } = await ctx.store({ create: true });
        const [{ addSponsor }, { sponsorView }] = await Promise.all([sponsorOps(), queries()]);
        const { sponsor } = settled(
          await addSponsor(
            db,
            { licenceNumber: licence, name, routes, autoAssign: opts.autoAssign, allocation, exportSchema: opts.exportSchema },
            new Date(),
          ),
          `sponsor ${licence}`,
        );
        await ensureSponsorFolders(ctx.config.rootDir, licence);
        const view = sponsorView(sponsor);
        if (opts.json) ctx.json(view);
        else
          ctx.out(
            `Added sponsor ${licence}.\n${describeSponsor(view)}\nFolders:      ${path.dirname(sponsorDir(ctx.config.rootDir, licence, 'inbox'))}/{inbox,outbox,archive,rejected}`,
          );
      }),
    );
}
