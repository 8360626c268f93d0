/** `cas-bdt db migrate` */
import type { Command } from '@commander-js/extra-typings';
import type { Runner } from '../context.ts';

export function registerDbMigrate(db: Command, run: Runner): void {
  db.command('migrate')
    .description('apply migrations (also done automatically on start)')
    .action(
      run(async (ctx) => {
        const store = await ctx.store({ create: true });
        ctx.out(`Migrations applied to the ${store.describe}.`);
      }),
    );
}
