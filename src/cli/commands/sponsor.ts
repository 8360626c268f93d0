/** `cas-bdt sponsor add|show|list|allocate|status` */
import { Option, type Command } from 'commander';
import { LICENCE_PATTERN, LICENCE_STATUSES, ROUTES, type LicenceStatus, type Route } from '../../domain/types.ts';
import { ensureSponsorFolders } from '../../inbox/layout.ts';
import type { SponsorView } from '../../ops/queries.ts';
import { notFound, settled, table, usage, type Context, type Runner } from '../context.ts';
import { MAX_GRANT, wholeNumber } from '../parse.ts';

// Loaded when a command runs, so that --help and other commands start without the store's code.
const queries = () => import('../../ops/queries.ts');
const sponsorOps = () => import('../../ops/sponsors.ts');
const licenceOps = () => import('../../ops/licence.ts');

export function parseLicence(value: string): string {
  const licence = value.trim().toUpperCase();
  if (!LICENCE_PATTERN.test(licence)) throw usage(`"${value}" is not a sponsor licence number (9 characters, [A-Z0-9]{8}[0-9X])`);
  return licence;
}

function parseRoutes(value: string): Route[] {
  const routes = [...new Set(value.split(',').map((r) => r.trim().toLowerCase()).filter(Boolean))];
  if (routes.length === 0 || routes.some((r) => !(ROUTES as readonly string[]).includes(r))) {
    throw usage(`--routes takes student, child or student,child; got "${value}"`);
  }
  return routes as Route[];
}

export async function requireSponsor(ctx: Context, licence: string) {
  const { db } = await ctx.store();
  const { getSponsor } = await queries();
  const s = await getSponsor(db, licence);
  if (!s) throw notFound(`sponsor ${licence}`);
  return s;
}

function describe(s: SponsorView): string {
  return [
    `Licence:      ${s.licenceNumber}`,
    `Name:         ${s.name}`,
    `Status:       ${s.status}`,
    `Routes:       ${s.routes.join(', ')}`,
    `Auto-assign:  ${s.autoAssign ? 'yes' : 'no'}`,
    `Allocation:   granted ${s.allocation.granted}, used ${s.allocation.used}, unused ${s.allocation.unused}`,
  ].join('\n');
}

export function registerSponsorCommands(program: Command, run: Runner): void {
  const sponsor = program.command('sponsor').description('manage sponsors, their allocation and licence status');

  sponsor
    .command('add')
    .description('register a sponsor and create its folders')
    .argument('<licence>', 'licence number')
    .requiredOption('--name <name>', 'the institution name')
    .option('--routes <routes>', 'student, child or student,child', 'student')
    .addOption(new Option('--allocation <n>', `CAS allocation granted now, 0 to ${MAX_GRANT}`).default(0).argParser(wholeNumber(0, MAX_GRANT)))
    .option('--no-auto-assign', 'create CAS without assigning them (assign later with `cas-bdt assign`)')
    .option('--json', 'print JSON')
    .action(
      run(async (ctx, opts, licenceArg: string) => {
        const licence = parseLicence(licenceArg);
        const name = String(opts.name).trim();
        if (!name) throw usage('--name must not be empty');
        const routes = parseRoutes(String(opts.routes));
        const allocation = Number(opts.allocation);
        const { db } = await ctx.store();
        const [{ addSponsor }, { sponsorView }] = await Promise.all([sponsorOps(), queries()]);
        const { sponsor } = settled(await addSponsor(db, { licenceNumber: licence, name, routes, autoAssign: opts.autoAssign !== false, allocation }, new Date()), `sponsor ${licence}`);
        await ensureSponsorFolders(ctx.config.rootDir, licence);
        const view = sponsorView(sponsor);
        if (opts.json) ctx.json(view);
        else ctx.out(`Added sponsor ${licence}.\n${describe(view)}`);
      }),
    );

  sponsor
    .command('show')
    .description('show one sponsor')
    .argument('<licence>', 'licence number')
    .option('--json', 'print JSON')
    .action(
      run(async (ctx, opts, licenceArg: string) => {
        const { sponsorView } = await queries();
        const view = sponsorView(await requireSponsor(ctx, parseLicence(licenceArg)));
        if (opts.json) ctx.json(view);
        else ctx.out(describe(view));
      }),
    );

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
        if (views.length === 0) return ctx.out('No sponsors yet. Add one with `cas-bdt sponsor add`.');
        ctx.out(
          table(
            ['LICENCE', 'NAME', 'STATUS', 'ROUTES', 'AUTO', 'GRANTED', 'USED', 'UNUSED'],
            views.map((v) => [v.licenceNumber, v.name, v.status, v.routes.join(','), v.autoAssign ? 'yes' : 'no', v.allocation.granted, v.allocation.used, v.allocation.unused]),
          ),
        );
      }),
    );

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
        else ctx.out(`Granted ${n} CAS to ${licence}: granted ${view.allocation.granted}, used ${view.allocation.used}, unused ${view.allocation.unused}.`);
      }),
    );

  sponsor
    .command('status')
    .description('set the licence status; revoked, expired and surrendered cancel ASSIGNED CAS')
    .argument('<licence>', 'licence number')
    .argument('<status>', LICENCE_STATUSES.join('|'))
    .option('--route <route>', 'with surrendered: surrender only this route (student|child)')
    .option('--json', 'print JSON')
    .action(
      run(async (ctx, opts, licenceArg: string, statusArg: string) => {
        const licence = parseLicence(licenceArg);
        const status = String(statusArg).toLowerCase() as LicenceStatus;
        if (!LICENCE_STATUSES.includes(status)) throw usage(`status must be one of ${LICENCE_STATUSES.join(', ')}; got "${statusArg}"`);
        let route: Route | undefined;
        if (opts.route !== undefined) {
          route = String(opts.route).toLowerCase() as Route;
          if (!ROUTES.includes(route)) throw usage(`--route takes student or child; got "${String(opts.route)}"`);
          if (status !== 'surrendered') throw usage('--route goes only with the status surrendered');
        }
        const { db } = await ctx.store();
        const [{ changeLicenceStatus }, { sponsorView }] = await Promise.all([licenceOps(), queries()]);
        const res = settled(await changeLicenceStatus(db, licence, { status, route }, new Date()), `sponsor ${licence}`);
        const view = sponsorView(res.sponsor);
        if (opts.json) return ctx.json({ ...view, cancelled: res.cancelled });
        const what = route ? `route ${route} surrendered` : `status ${status}`;
        ctx.out(`${licence}: ${what}; ${res.cancelled.length} ASSIGNED CAS cancelled.${res.cancelled.length ? `\n${res.cancelled.join('\n')}` : ''}`);
      }),
    );
}
