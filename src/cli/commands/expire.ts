/** `cas-bdt expire`: the expiry sweep. */
import type { Command } from '@commander-js/extra-typings';
import { isoDateUtc } from '../../domain/dates.ts';
import { type Runner } from '../context.ts';
import { parseDate } from '../parse.ts';

export function registerExpireCommand(program: Command, run: Runner): void {
  program
    .command('expire')
    .description('run the expiry sweep: ASSIGNED CAS whose expiry date has passed become EXPIRED')
    .option('--as-of <date>', 'expire CAS whose expiry date is before this date, YYYY-MM-DD (default today, UTC)')
    .option('--json', 'print JSON')
    .action(
      run(async (ctx, opts) => {
        const asOf = opts.asOf !== undefined ? parseDate(opts.asOf, '--as-of') : isoDateUtc(new Date());
        const { db } = await ctx.store();
        const { expireDue } = await import('../../ops/expire.ts');
        const casNumbers = await expireDue(db, asOf, new Date(), 'expiry sweep (cas-bdt expire)');
        if (opts.json) return ctx.json({ asOf, expired: casNumbers.length, casNumbers });
        ctx.out(`Expired ${casNumbers.length} CAS (as of ${asOf}).${casNumbers.length ? `\n${casNumbers.join('\n')}` : ''}`);
      }),
    );
}
