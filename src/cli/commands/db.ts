/** `cas-bdt db migrate` */
import type { Command } from 'commander';
import type { Runner } from '../context.ts';

export function registerDbCommands(program: Command, run: Runner): void {
  const db = program.command('db').description('database maintenance');
  db.command('migrate')
    .description('apply migrations (also done automatically on start)')
    .action(
      run(async (ctx) => {
        const store = await ctx.store({ create: true });
        ctx.out(`Migrations applied to the ${store.describe}.`);
      }),
    );
}
