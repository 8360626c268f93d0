/** `cas-bdt sponsor show`: one sponsor, and how `sponsor add` and `sponsor set` print one too. */
import type { Command } from '@commander-js/extra-typings';
import { EXPORT_SCHEMAS } from '../../domain/export.ts';
import type { SponsorView } from '../../ops/queries.ts';
import { requireSponsor, type Runner } from '../context.ts';
import { choiceOption, parseLicence } from '../parse.ts';

// Loaded when the command runs, so that --help and other commands start without the store's code.
const queries = () => import('../../ops/queries.ts');

/** `--export-schema` of `sponsor add` and `sponsor set`. */
export const exportSchemaOption = () =>
  choiceOption(
    '--export-schema <version>',
    `the schema of the sponsor's exports: ${EXPORT_SCHEMAS.join(' (with Graduated) or ')} (legacy)`,
    EXPORT_SCHEMAS,
  );

export function describeSponsor(s: SponsorView): string {
  return [
    `Licence:      ${s.licenceNumber}`,
    `Name:         ${s.name}`,
    `Status:       ${s.status}`,
    `Routes:       ${s.routes.join(', ')}`,
    `Auto-assign:  ${s.autoAssign ? 'yes' : 'no'}`,
    `Statements:   ${s.statements ? 'yes (outbox/<CAS-NUMBER>.statement.pdf for each CAS assigned)' : 'no'}`,
    `Exports:      schema ${s.exportSchema}`,
    `Allocation:   granted ${s.allocation.granted}, used ${s.allocation.used}, unused ${s.allocation.unused}`,
  ].join('\n');
}

export function registerSponsorShow(sponsor: Command, run: Runner): void {
  sponsor
    .command('show')
    .description('show one sponsor')
    .argument('<licence>', 'licence number')
    .option('--json', 'print JSON')
    .action(
      run(async (ctx, opts, licenceArg: string) => {
        const { sponsorView } = await queries();
        const view = sponsorView(await requireSponsor(ctx, parseLicence(licenceArg)));
        if (opts.json) ctx.json(view);
        else ctx.out(describeSponsor(view));
      }),
    );
}
