/** `cas-bdt cas fees|note`: fees paid and sponsor notes on an ASSIGNED or USED CAS, and how `cas show` prints them. */
import { Option, type Command } from 'commander';
import { describeFeeChange, describeFees, inPounds } from '../../domain/fees.ts';
import { human } from '../../domain/lifecycle.ts';
import type { CasHistoryEntry, FeesView, ReportEntry } from '../../ops/queries.ts';
import { settled, usage, type Runner } from '../context.ts';
import { parseCasNumber, parseGbp } from '../parse.ts';

/** The `cas show` line of the current fees. */
export const feesLine = (v: FeesView) => `Fees (GBP):   ${describeFees(v)}`;

/** One history entry as `cas show` prints it: status changes, fee updates with their amounts, notes with their text. */
export function historyLines(h: CasHistoryEntry): string[] {
  if (h.event === 'FEES_UPDATED') {
    const change = h.fees ? describeFeeChange(h.fees.before, h.fees.after) : 'fees updated';
    return [`  ${h.at}  FEES UPDATED: ${change}  (${h.reason})`];
  }
  if (h.event === 'DECISION' && h.decision) {
    const was = h.decision.replaced ? `; was ${h.decision.replaced.decision} on ${h.decision.replaced.decidedOn}` : '';
    return [`  ${h.at}  DECISION: ${h.decision.decision} on ${h.decision.decidedOn}${was}  (${h.reason})`];
  }
  if (h.event === 'REPORT' && h.report) return reportLines(h.at, h.report, h.reason);
  if (h.event === 'NOTE') return [`  ${h.at}  NOTE  (${h.reason})`, ...(h.note ?? '').split(/\r\n?|\n/).map((l) => `      ${l}`)];
  return [`  ${h.at}  ${h.from ? human(h.from) : '(new)'} -> ${human(h.to)}  ${h.reason}`];
}

/** A student activity report as `cas show` prints it: kind, dates, reason, due date, notes. */
export function reportLines(at: string, r: ReportEntry, reason: string): string[] {
  const fields = Object.entries(r.fields).map(([k, v]) => `${k} ${v}`);
  const late = r.late ? ' LATE' : '';
  return [
    `  ${at}  REPORT ${r.kind}: ${fields.join(', ')}; due ${r.dueDate}${late}  (${reason})`,
    ...(r.notes ? r.notes.split(/\r\n?|\n/).map((l) => `      ${l}`) : []),
  ];
}

/** `fees` and `note` in the `cas` group (cas.ts makes it). */
export function registerFeeCommands(casCmd: Command, run: Runner): void {
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
        const change = {
          coursePaid: Number(opts.coursePaid),
          ...(opts.accommodationPaid !== undefined ? { accommodationPaid: Number(opts.accommodationPaid) } : {}),
          ...(opts.boardingPaid !== undefined ? { boardingPaid: Number(opts.boardingPaid) } : {}),
        };
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

  casCmd
    .command('note')
    .description('add a note to an ASSIGNED or USED CAS (kept in its history, shown by cas show)')
    .argument('<cas-number>', 'the CAS number', parseCasNumber)
    .requiredOption('--text <text>', 'the note: up to 2,000 characters, printable ISO-8859-1 and line breaks')
    .option('--json', 'print JSON')
    .action(
      run(async (ctx, opts, casNumber: string) => {
        const text = String(opts.text);
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
