/** `cas-bdt cas fees`: the fees paid on an ASSIGNED or USED CAS. */
import { Option, type Command } from '@commander-js/extra-typings';
import { describeFeeChange, inPounds } from '../../domain/fees.ts';
import { settled, type Runner } from '../context.ts';
import { parseCasNumber, parseGbp } from '../parse.ts';

export function registerCasFees(casCmd: Command, run: Runner): void {
  casCmd
    .command('fees')
    .description('record the fees paid on an ASSIGNED or USED CAS (amounts left out stay as they are)')
    .argument('<cas-number>', 'the CAS number', parseCasNumber)
    .addOption(new Option('--course-paid <gbp>', 'course fees paid to date, GBP').argParser(parseGbp).makeOptionMandatory())
    .addOption(new Option('--accommodation-paid <gbp>', 'accommodation fees paid to date, GBP').argParser(parseGbp))
    .addOption(new Option('--boarding-paid <gbp>', 'boarding fees paid to date, GBP').argParser(parseGbp))
    .option('--json', 'print JSON')
    .action(
      run(async (ctx, opts, casNumber: string) => {
        const change = { coursePaid: opts.coursePaid, accommodationPaid: opts.accommodationPaid, boardingPaid: opts.boardingPaid };
        const { db } = await ctx.store();
        const [{ setFees }, { findCas }] = await Promise.all([import('../../ops/fees.ts'), import('../../ops/queries.ts')]);
        const res = settled(await setFees(db, casNumber, change, new Date()), `CAS ${casNumber}`);
        if (opts.json) return ctx.json({ ...(await findCas(db, { casNumber })), changed: res.changed });
        ctx.out(
          res.changed
            ? `Fees of ${casNumber} updated: ${describeFeeChange(inPounds(res.before), inPounds(res.after))}.`
            : `Fees of ${casNumber} unchanged: they are already these amounts.`,
        );
      }),
    );
}
