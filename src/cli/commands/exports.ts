/** `cas-bdt exports`: the export deliveries written by `watch --export-every`. */
import type { Command } from '@commander-js/extra-typings';
import { requireSponsor, table, type Runner } from '../context.ts';
import { addPagingOptions, listingFooter, pagingOf } from '../paging.ts';
import { parseLicence } from '../parse.ts';

export function registerExportsCommand(program: Command, run: Runner): void {
  addPagingOptions(
    program
      .command('exports')
      .description('the export deliveries written by `watch --export-every`, newest first')
      .option('--sponsor <licence>', "only this sponsor's")
      .option('--json', 'print JSON'),
  ).action(
    run(async (ctx, opts) => {
      const licence = opts.sponsor !== undefined ? parseLicence(opts.sponsor) : undefined;
      if (licence) await requireSponsor(ctx, licence);
      const paging = pagingOf(ctx, opts);
      const { db } = await ctx.store();
      const { listDeliveries, countDeliveries } = await import('../../ops/export.ts');
      const rows = await listDeliveries(db, { licence, limit: paging.limit, offset: paging.offset });
      if (opts.json) return ctx.json(rows);
      if (!rows.length && paging.offset === 0)
        return ctx.out(
          `No export deliveries${licence ? ` for ${licence}` : ''} yet (\`cas-bdt watch --export-every DURATION\` writes them).`,
        );
      const footer = await listingFooter(paging, rows.length, () => countDeliveries(db, licence));
      ctx.out(
        [
          table(
            ['DELIVERED', 'SPONSOR', 'FILE', 'CAS', 'LAST EVENT', 'CHANGED SINCE'],
            rows.map((r) => [
              r.deliveredAt,
              r.sponsorLicenceNumber,
              r.file + (r.state === 'pending' ? ' (being written)' : ''),
              r.casCount ?? '',
              r.lastEventId ?? '',
              r.changedSince ?? '(everything)',
            ]),
          ),
          ...(footer ? [footer] : []),
        ].join('\n'),
      );
    }),
  );
}
