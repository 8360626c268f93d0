/** `cas-bdt cas delete`: delete an unassigned CAS. */
import { Option, type Command } from '@commander-js/extra-typings';
import { human } from '../../domain/lifecycle.ts';
import { settled, type Runner } from '../context.ts';
import { parseId } from '../parse.ts';

export function registerCasDelete(casCmd: Command, run: Runner): void {
  casCmd
    .command('delete')
    .description('delete an unassigned CAS (WORK IN PROGRESS or READY TO GO); assigned CAS are never deleted')
    .addOption(new Option('--id <id>', 'the internal CAS id').argParser(parseId).makeOptionMandatory())
    .option('--json', 'print JSON')
    .action(
      run(async (ctx, opts) => {
        const id = opts.id;
        const { db } = await ctx.store();
        const { deleteCas } = await import('../../ops/delete.ts');
        const res = settled(await deleteCas(db, { id }, new Date()), `CAS id ${id}`);
        if (opts.json) return ctx.json({ id, deleted: true, previousStatus: res.from, sponsorLicenceNumber: res.sponsorLicenceNumber });
        ctx.out(`Deleted CAS id ${id} of ${res.sponsorLicenceNumber} (was ${human(res.from)}).`);
      }),
    );
}
