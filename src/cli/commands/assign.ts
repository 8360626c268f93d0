/** `cas-bdt assign`: assign READY TO GO CAS created earlier. */
import { Option, type Command } from '@commander-js/extra-typings';
import { formatPence } from '../../domain/result.ts';
import type { AssignTarget } from '../../ops/assign.ts';
import { settled, table, usage, writeOwedStatementsOf, type Runner } from '../context.ts';
import { parseId, parseLicence } from '../parse.ts';

// Loaded when the command runs, so that --help and other commands start without the store's code.
const casQuery = () => import('../../ops/queries.ts');

export function registerAssignCommand(program: Command, run: Runner): void {
  program
    .command('assign')
    .description('assign READY TO GO CAS created earlier (with payment); a batch is assigned all or nothing')
    .requiredOption('--sponsor <licence>', 'the sponsor')
    .option('--batch <name>', 'every READY TO GO CAS of this batch (BulkUploadFileId)')
    .addOption(new Option('--id <id>', 'one CAS by its internal id').argParser(parseId))
    .option('--json', 'print JSON')
    .action(
      run(async (ctx, opts) => {
        const licence = parseLicence(opts.sponsor);
        if ((opts.batch === undefined) === (opts.id === undefined)) throw usage('give either --batch NAME or --id ID');
        const target: AssignTarget = opts.id !== undefined ? { id: opts.id } : { batch: opts.batch!.trim() };
        const { db } = await ctx.store();
        const [{ assignLater }, { sponsorView }] = await Promise.all([import('../../ops/assign.ts'), casQuery()]);
        const cfg = ctx.config;
        const res = settled(
          await assignLater(db, licence, target, {
            now: new Date(),
            settings: { feePence: cfg.feePence, validityMonths: cfg.validityMonths },
          }),
          `sponsor ${licence}`,
        );
        await writeOwedStatementsOf(ctx, db, licence);
        const allocation = sponsorView(res.sponsor).allocation;
        const payment = {
          reference: res.payment.reference,
          casCount: res.payment.casCount,
          amount: formatPence(res.payment.amountPence),
          currency: res.payment.currency,
        };
        if (opts.json)
          return ctx.json({ sponsorLicenceNumber: licence, assigned: res.assigned, expiryDate: res.expiresOn, payment, allocation });
        ctx.out(
          [
            `Assigned ${res.assigned.length} CAS of ${licence}, valid until ${res.expiresOn}. Payment ${payment.reference}: ${payment.amount} ${payment.currency}.`,
            table(
              ['ID', 'CAS NUMBER'],
              res.assigned.map((a) => [a.id, a.casNumber]),
            ),
            `Allocation: granted ${allocation.granted}, used ${allocation.used}, unused ${allocation.unused}.`,
          ].join('\n'),
        );
      }),
    );
}
