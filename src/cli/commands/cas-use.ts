/** `cas-bdt cas use`: record a visa application made with a CAS. */
import type { Command } from '@commander-js/extra-typings';
import { isoDateUtc } from '../../domain/dates.ts';
import { human } from '../../domain/lifecycle.ts';
import { settled, table, type Runner } from '../context.ts';
import { parseCasNumber, parseDate } from '../parse.ts';

// Loaded when the command runs, so that --help and other commands start without the store's code.
const casQuery = () => import('../../ops/queries.ts');

export function registerCasUse(casCmd: Command, run: Runner): void {
  casCmd
    .command('use')
    .description('record a visa application made with a CAS; other ASSIGNED CAS of the person for overlapping courses become OBSOLETE')
    .argument('<cas-number>', 'the CAS number', parseCasNumber)
    .option('--date <date>', 'the application date, YYYY-MM-DD (default today, UTC)')
    .option('--json', 'print JSON')
    .action(
      run(async (ctx, opts, casNumber: string) => {
        const date = opts.date !== undefined ? parseDate(opts.date, '--date') : isoDateUtc(new Date());
        const { db } = await ctx.store();
        const [{ useCas }, { findCas }] = await Promise.all([import('../../ops/use.ts'), casQuery()]);
        const res = settled(await useCas(db, { casNumber }, date, new Date()), `CAS ${casNumber}`);
        const obsoleted = res.obsoleted.map((o) => ({ casNumber: o.casNumber, sponsorLicenceNumber: o.sponsorLicenceNumber }));
        if (opts.json) return ctx.json({ ...(await findCas(db, { casNumber })), obsoleted });
        ctx.out(
          [
            `${casNumber} is USED (application ${date}; was ${human(res.from)}).`,
            obsoleted.length
              ? `Made OBSOLETE (${obsoleted.length}):\n${table(
                  ['CAS NUMBER', 'SPONSOR'],
                  obsoleted.map((o) => [o.casNumber, o.sponsorLicenceNumber]),
                )}`
              : 'No other CAS made OBSOLETE.',
          ].join('\n'),
        );
      }),
    );
}
