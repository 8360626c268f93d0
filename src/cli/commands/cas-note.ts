/** `cas-bdt cas note`: a note in the history of an ASSIGNED or USED CAS. */
import type { Command } from '@commander-js/extra-typings';
import { settled, usage, type Runner } from '../context.ts';
import { parseCasNumber } from '../parse.ts';

export function registerCasNote(casCmd: Command, run: Runner): void {
  casCmd
    .command('note')
    .description('add a note to an ASSIGNED or USED CAS (kept in its history, shown by cas show)')
    .argument('<cas-number>', 'the CAS number', parseCasNumber)
    .requiredOption('--text <text>', 'the note: up to 2,000 characters, printable ISO-8859-1 and line breaks')
    .option('--json', 'print JSON')
    .action(
      run(async (ctx, opts, casNumber: string) => {
        const text = opts.text;
        const { noteProblem } = await import('../../domain/fees.ts');
        const problem = noteProblem(text);
        if (problem) {
          // A curly apostrophe or dash pasted from a word processor: say what to type instead.
          const { latin1Replacements } = await import('../../xml/schema-messages.ts');
          throw usage(`--text: ${problem}${latin1Replacements(text)}`);
        }
        const { db } = await ctx.store();
        const { addNote } = await import('../../ops/note.ts');
        const res = settled(await addNote(db, casNumber, text, new Date()), `CAS ${casNumber}`);
        if (opts.json) return ctx.json({ casNumber, sponsorLicenceNumber: res.sponsorLicenceNumber, noted: true });
        ctx.out(`Note added to ${casNumber}.`);
      }),
    );
}
