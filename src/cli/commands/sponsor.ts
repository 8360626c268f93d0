/** `cas-bdt sponsor add|show|list|allocate|status` */
import path from 'node:path';
import { Option, type Command } from 'commander';
import { EXPORT_SCHEMAS, isExportSchema } from '../../domain/export.ts';
import { routeNotLicensed } from '../../domain/refusals.ts';
import { LICENCE_PATTERN, LICENCE_STATUSES, ROUTES, type LicenceStatus, type Route } from '../../domain/types.ts';
import { ensureSponsorFolders, sponsorDir } from '../../inbox/layout.ts';
import type { SponsorView } from '../../ops/queries.ts';
import { notFound, refusedError, settled, table, usage, type Context, type Runner } from '../context.ts';
import { lowerCase, MAX_GRANT, MAX_REASON, oneOf, parseReason, wholeNumber } from '../parse.ts';

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
  const routes = [
    ...new Set(
      value
        .split(',')
        .map((r) => r.trim().toLowerCase())
        .filter(Boolean),
    ),
  ];
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
    `Statements:   ${s.statements ? 'yes (outbox/<CAS-NUMBER>.statement.pdf for each CAS assigned)' : 'no'}`,
    `Exports:      schema ${s.exportSchema}`,
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
    .addOption(
      new Option('--allocation <n>', `CAS allocation granted now, 0 to ${MAX_GRANT}`).default(0).argParser(wholeNumber(0, MAX_GRANT)),
    )
    .option('--no-auto-assign', 'create CAS without assigning them (assign later with `cas-bdt assign`)')
    .option('--export-schema <version>', `the schema of the sponsor's exports: ${EXPORT_SCHEMAS.join(' (with Graduated) or ')} (legacy)`)
    .option('--json', 'print JSON')
    .action(
      run(async (ctx, opts, licenceArg: string) => {
        const licence = parseLicence(licenceArg);
        const name = String(opts.name).trim();
        if (!name) throw usage('--name must not be empty');
        const routes = parseRoutes(String(opts.routes));
        const allocation = Number(opts.allocation);
        const { db } = await ctx.store({ create: true });
        const [{ addSponsor }, { sponsorView }] = await Promise.all([sponsorOps(), queries()]);
        const { sponsor } = settled(
          await addSponsor(db, { licenceNumber: licence, name, routes, autoAssign: opts.autoAssign !== false, allocation }, new Date()),
          `sponsor ${licence}`,
        );
        await ensureSponsorFolders(ctx.config.rootDir, licence);
        const view = sponsorView(sponsor);
        if (opts.json) ctx.json(view);
        else
          ctx.out(
            `Added sponsor ${licence}.\n${describe(view)}\nFolders:      ${path.dirname(sponsorDir(ctx.config.rootDir, licence, 'inbox'))}/{inbox,outbox,archive,rejected}`,
          );
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
    .option('--export-schema <version>', `the schema of the sponsor's exports: ${EXPORT_SCHEMAS.join(' (with Graduated) or ')} (legacy)`)
    .option('--json', 'print JSON')
    .action(
      run(async (ctx, opts, licenceArg: string) => {
        const licence = parseLicence(licenceArg);
        const name = opts.name === undefined ? undefined : String(opts.name).trim();
        if (name === '') throw usage('--name must not be empty');
        const routes = opts.routes === undefined ? undefined : parseRoutes(String(opts.routes));
        const autoAssign = opts.autoAssign === undefined ? undefined : opts.autoAssign !== false;
        const exportSchema = opts.exportSchema === undefined ? undefined : String(opts.exportSchema).trim();
        if (exportSchema !== undefined && !isExportSchema(exportSchema))
          throw usage(`--export-schema takes ${EXPORT_SCHEMAS.join(' or ')}; got "${exportSchema}"`);
        const statements = opts.statements === undefined ? undefined : opts.statements !== false;
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
        ctx.out(`${what.length ? `Changed ${what.join(', ')} of ${licence}.` : `Nothing to change for ${licence}.`}\n${describe(view)}`);
      }),
    );

  sponsor
    .command('status')
    .description('set the licence status; revoked, expired and surrendered cancel ASSIGNED CAS (confirm with --yes)')
    .argument('<licence>', 'licence number')
    .argument('<status>', LICENCE_STATUSES.join('|'), oneOf(LICENCE_STATUSES, lowerCase))
    .addOption(
      new Option('--route <route>', 'with surrendered: surrender only this route (student|child)').argParser(oneOf(ROUTES, lowerCase)),
    )
    .addOption(
      new Option('--reason <text>', `why, kept in the history of every CAS cancelled (at most ${MAX_REASON} characters)`).argParser(
        parseReason,
      ),
    )
    .option('--yes', 'confirm cancelling the ASSIGNED CAS (asked on a terminal otherwise)')
    .option('--dry-run', 'print what would be cancelled and change nothing')
    .option('--json', 'print JSON')
    .action(
      run(async (ctx, opts, licenceArg: string, status: LicenceStatus) => {
        const licence = parseLicence(licenceArg);
        const route = opts.route as Route | undefined;
        if (route && status !== 'surrendered') throw usage('--route goes only with the status surrendered');
        const reason = opts.reason === undefined ? undefined : String(opts.reason);
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
