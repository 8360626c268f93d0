/** `cas-bdt compliance`: the Basic Compliance Assessment computed live (spec section 10). */
import type { Command } from '@commander-js/extra-typings';
import type { Compliance, Rate } from '../../domain/compliance.ts';
import { isoDateUtc } from '../../domain/dates.ts';
import { requireSponsor, table, type Runner } from '../context.ts';
import { parseDate, parseLicence } from '../parse.ts';

/** `4.0% (2/50)` or `-` when nothing was counted. */
function rateText(r: Rate): string {
  return r.rate === null ? `- (0/0)` : `${(r.rate * 100).toFixed(1)}% (${r.numerator}/${r.denominator})`;
}

function describe(c: Compliance): string[] {
  const row = (name: string, r: Rate, rule: string) => [name, rateText(r), `${rule} ${r.threshold}%`, r.state];
  return [
    `Sponsor ${c.sponsorLicenceNumber}, 12 months ${c.window.from} to ${c.window.to}:`,
    table(
      ['MEASURE', 'RATE (COUNTS)', 'THRESHOLD', 'STATE'],
      [row('refusal', c.refusal, 'below'), row('enrolment', c.enrolment, 'at least'), row('completion', c.completion, 'at least')],
    ),
    `Late reports: ${c.lateReports}`,
    `Missing reports (NOT_ENROLLED overdue): ${c.missingReports.length}`,
    ...c.missingReports.map((m) => `  ${m.casNumber}  course start ${m.courseStartDate}, due ${m.dueDate}`),
  ];
}

export function registerComplianceCommand(program: Command, run: Runner): void {
  program
    .command('compliance')
    .description(
      "each sponsor's refusal, enrolment and completion rates over 12 months, against the thresholds of the date, with late and missing reports",
    )
    .option('--sponsor <licence>', 'only this sponsor')
    .option('--as-of <date>', 'the last day of the 12 months, YYYY-MM-DD (default today, UTC)')
    .option('--json', 'print JSON')
    .action(
      run(async (ctx, opts) => {
        const asOf = opts.asOf !== undefined ? parseDate(opts.asOf, '--as-of') : isoDateUtc(new Date());
        const licence = opts.sponsor !== undefined ? parseLicence(opts.sponsor) : undefined;
        if (licence) await requireSponsor(ctx, licence);
        const { db } = await ctx.store();
        const { compliance } = await import('../../ops/compliance.ts');
        const rows = await compliance(db, { asOf, nation: ctx.config.holidays, licence });
        if (opts.json) return ctx.json(rows);
        ctx.out(rows.length ? rows.flatMap(describe).join('\n') : 'No sponsors.');
      }),
    );
}
