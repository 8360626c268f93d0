/** `cas-bdt cas list`: a sponsor's CAS, by internal id. */
import type { Command } from '@commander-js/extra-typings';
import { human } from '../../domain/lifecycle.ts';
import { REPORT_KINDS } from '../../domain/reports.ts';
import { CAS_STATUSES, ROUTES } from '../../domain/types.ts';
import { requireSponsor, table, type Runner } from '../context.ts';
import { addPagingOptions, listingFooter, pagingOf } from '../paging.ts';
import { choiceOption, lowerCase, parseLicence, upperCase } from '../parse.ts';

// Loaded when the command runs, so that --help and other commands start without the store's code.
const casQuery = () => import('../../ops/queries.ts');

export function registerCasList(casCmd: Command, run: Runner): void {
  const list = casCmd
    .command('list')
    .description("a sponsor's CAS, by internal id")
    .requiredOption('--sponsor <licence>', 'the sponsor')
    .addOption(choiceOption('--status <status>', CAS_STATUSES.join('|'), CAS_STATUSES, upperCase))
    .addOption(choiceOption('--route <route>', 'student|child', ROUTES, lowerCase))
    .option('--batch <name>', 'only this batch (BulkUploadFileId)')
    .option('--applicant <id>', 'only this ApplicantID')
    .addOption(
      choiceOption(
        '--reported <kind>',
        `only CAS with a student activity report of this kind: ${REPORT_KINDS.join('|')}`,
        REPORT_KINDS,
        upperCase,
      ),
    )
    .option('--json', 'print JSON');
  addPagingOptions(list).action(
    run(async (ctx, opts) => {
      const licence = parseLicence(opts.sponsor);
      const { status, route, reported } = opts;
      const paging = pagingOf(ctx, opts);
      await requireSponsor(ctx, licence);
      const { db } = await ctx.store();
      const { listCas, countCas } = await casQuery();
      const filter = {
        licence,
        status,
        route,
        batch: opts.batch,
        applicantId: opts.applicant,
        reported,
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
}
