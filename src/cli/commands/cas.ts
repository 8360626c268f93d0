/** `cas-bdt cas show|list` */
import { Option, type Command } from 'commander';
import { human } from '../../domain/lifecycle.ts';
import { isReportKind, REPORT_KINDS, type ReportKind } from '../../domain/reports.ts';
import { CAS_STATUSES, ROUTES, type CasStatus, type Route } from '../../domain/types.ts';
import { notFound, table, usage, type Runner } from '../context.ts';
import type { CasView } from '../../ops/queries.ts';
import { addPagingOptions, listingFooter, pagingOf } from '../paging.ts';
import { lowerCase, oneOf, parseCasNumber, parseId, upperCase } from '../parse.ts';
import { feesLine, historyLines } from './fees.ts';
import { parseLicence, requireSponsor } from './sponsor.ts';

// Loaded when a command runs, so that --help and other commands start without the store's code.
const casQuery = () => import('../../ops/queries.ts');

function describe(v: CasView): string[] {
  return [
    `CAS id:       ${v.id}`,
    `CAS number:   ${v.casNumber ?? '(not assigned)'}`,
    `Status:       ${human(v.status)}`,
    `Sponsor:      ${v.sponsorLicenceNumber} (${v.route} route), batch ${v.batch}`,
    `Applicant:    ${v.applicantId}: ${v.familyName}${v.givenName ? `, ${v.givenName}` : ''} (${v.nationality})`,
    `Course:       ${v.courseTitle}${v.courseId ? ` [${v.courseId}]` : ''}, ${v.courseStartDate} to ${v.expectedCourseEndDate}`,
    ...(v.assignedAt ? [`Assigned:     ${v.assignedAt}, expires ${v.expiresAt}`] : []),
    ...(v.usedAt ? [`Used:         ${v.usedAt}`] : []),
    ...(v.graduatedAt ? [`Graduated:    ${v.graduatedAt}`] : []),
    ...(v.decision ? [`Decision:     ${v.decision} on ${v.decidedOn}`] : []),
    feesLine(v.fees),
  ];
}

/** Which CAS a command names: its number as the argument, or `--id`, never both; and how to say it is missing. */
export function casRef(numberArg: string | undefined, id: unknown): { by: { id: number } | { casNumber: string }; missing: string } {
  if ((numberArg === undefined) === (id === undefined)) throw usage('give either a CAS number or --id ID');
  return id !== undefined
    ? { by: { id: Number(id) }, missing: `CAS id ${Number(id)}` }
    : { by: { casNumber: numberArg! }, missing: `CAS ${numberArg}` };
}

/** The `cas` group with `show` and `list`; returned for the lifecycle commands' subcommands. */
export function registerCasCommands(program: Command, run: Runner): Command {
  const casCmd = program.command('cas').description('look at CAS and change their status');

  casCmd
    .command('show')
    .description('one CAS with its history')
    .argument('[cas-number]', 'the CAS number', parseCasNumber)
    .addOption(new Option('--id <id>', 'the internal CAS id instead of a number').argParser(parseId))
    .option('--json', 'print JSON')
    .action(
      run(async (ctx, opts, numberArg: string | undefined) => {
        const { by, missing } = casRef(numberArg, opts.id);
        const { db } = await ctx.store();
        const { findCas, casHistory } = await casQuery();
        const v = await findCas(db, by);
        if (!v) throw notFound(missing);
        const history = await casHistory(db, v.id);
        if (opts.json) return ctx.json({ ...v, history });
        ctx.out([...describe(v), 'History:', ...history.flatMap(historyLines)].join('\n'));
      }),
    );

  const list = casCmd
    .command('list')
    .description("a sponsor's CAS, by internal id")
    .requiredOption('--sponsor <licence>', 'the sponsor')
    .addOption(new Option('--status <status>', CAS_STATUSES.join('|')).argParser(oneOf(CAS_STATUSES, upperCase)))
    .addOption(new Option('--route <route>', 'student|child').argParser(oneOf(ROUTES, lowerCase)))
    .option('--batch <name>', 'only this batch (BulkUploadFileId)')
    .option('--applicant <id>', 'only this ApplicantID')
    .option('--reported <kind>', `only CAS with a student activity report of this kind: ${REPORT_KINDS.join('|')}`)
    .option('--json', 'print JSON');
  addPagingOptions(list).action(
    run(async (ctx, opts) => {
      const licence = parseLicence(String(opts.sponsor));
      const status = opts.status as CasStatus | undefined;
      const route = opts.route as Route | undefined;
      let reported: ReportKind | undefined;
      if (opts.reported !== undefined) {
        const k = String(opts.reported).toUpperCase();
        if (!isReportKind(k)) throw usage(`--reported must be one of ${REPORT_KINDS.join(', ')}`);
        reported = k;
      }
      const paging = pagingOf(ctx, opts);
      await requireSponsor(ctx, licence);
      const { db } = await ctx.store();
      const { listCas, countCas } = await casQuery();
      const filter = {
        licence,
        status,
        route,
        ...(opts.batch !== undefined ? { batch: String(opts.batch) } : {}),
        ...(opts.applicant !== undefined ? { applicantId: String(opts.applicant) } : {}),
        ...(reported ? { reported } : {}),
      };
      const rows = await listCas(db, filter, paging);
      if (opts.json) return ctx.json(rows);
      const footer = await listingFooter(paging, rows.length, () => countCas(db, filter));
      if (rows.length === 0) return ctx.out(footer ?? 'No CAS match.');
      ctx.out(
        table(
          ['ID', 'CAS NUMBER', 'STATUS', 'APPLICANT', 'COURSE', 'START', 'BATCH', 'EXPIRES'],
          rows.map((r) => [
            r.id,
            r.casNumber,
            human(r.status),
            r.applicantId,
            r.courseId ?? r.courseTitle,
            r.courseStartDate,
            r.batch,
            r.expiresAt,
          ]),
        ) + (footer ? `\n${footer}` : ''),
      );
    }),
  );
  return casCmd;
}
