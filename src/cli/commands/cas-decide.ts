/** `cas-bdt cas decide`: the visa decision on an application made with a USED CAS (spec section 10). */
import type { Command } from '@commander-js/extra-typings';
import { DECISIONS } from '../../domain/decision.ts';
import { settled, type Runner } from '../context.ts';
import { choiceArgument, lowerCase, parseCasNumber, parseDate } from '../parse.ts';

export function registerCasDecide(casCmd: Command, run: Runner): void {
  casCmd
    .command('decide')
    .description('record the visa decision on an application made with a USED CAS (one per CAS; --correct replaces it)')
    .argument('<cas-number>', 'the CAS number', parseCasNumber)
    .addArgument(choiceArgument('<decision>', DECISIONS.join('|'), DECISIONS, lowerCase))
    .option('--date <date>', 'the decision date, YYYY-MM-DD (default today, UTC; never after today)')
    .option('--correct', 'replace the decision already recorded')
    .option('--json', 'print JSON')
    .action(
      run(async (ctx, opts, casNumber: string, decision) => {
        const date = opts.date !== undefined ? parseDate(opts.date, '--date') : undefined;
        const { db } = await ctx.store();
        const { decideCas } = await import('../../ops/decide.ts');
        const res = settled(
          await decideCas(db, casNumber, decision, { date, correct: opts.correct === true, now: new Date() }),
          `CAS ${casNumber}`,
        );
        if (opts.json)
          return ctx.json({
            casNumber,
            sponsorLicenceNumber: res.sponsorLicenceNumber,
            decision: res.decision,
            decidedOn: res.decidedOn,
            replaced: res.replaced,
          });
        const was = res.replaced ? ` (was ${res.replaced.decision} on ${res.replaced.decidedOn})` : '';
        ctx.out(`${casNumber}: visa ${res.decision} on ${res.decidedOn}${was}.`);
      }),
    );
}
