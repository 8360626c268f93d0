/** `cas-bdt cas show`: one CAS with its history; and how it prints a CAS, its fees, notes, decisions and reports. */
import { Option, type Command } from '@commander-js/extra-typings';
import { describeFeeChange, describeFees } from '../../domain/fees.ts';
import { human } from '../../domain/lifecycle.ts';
import type { CasHistoryEntry, CasView, FeesView, ReportEntry } from '../../ops/queries.ts';
import { casRef, notFound, type Runner } from '../context.ts';
import { parseCasNumber, parseId } from '../parse.ts';

// Loaded when the command runs, so that --help and other commands start without the store's code.
const casQuery = () => import('../../ops/queries.ts');

function describe(v: CasView): string[] {
  return [
    `CAS id:       ${v.id}`,
    `CAS number:   ${v.casNumber ?? '(not assigned)'}`,
    `Status:       ${human(v.status)}`,
    `Sponsor:      ${v.sponsorLicenceNumber} (${v.route} route), batch ${v.batch}`,
    `Applicant:    ${v.applicantId}: ${v.familyName}${v.givenName ? `, ${v.givenName}` : ''} (${v.nationality})`,
    `Course:       ${v.courseTitle}${v.courseId ? ` [${v.courseId}]` : ''}, ${v.courseStartDate} to ${v.expectedCourseEndDate}`,
    ...(v.assignedAt ? [`Assigned:     ${v.assignedAt}, expires ${v.expiresAt}`] : []),
    ...(v.usedAt ? [`Used:         ${v.usedAt}`] : []),
    ...(v.graduatedAt ? [`Graduated:    ${v.graduatedAt}`] : []),
    ...(v.decision ? [`Decision:     ${v.decision} on ${v.decidedOn}`] : []),
    feesLine(v.fees),
  ];
}

/** The `cas show` line of the current fees. */
const feesLine = (v: FeesView) => `Fees (GBP):   ${describeFees(v)}`;

/** One history entry as `cas show` prints it: status changes, fee updates with their amounts, notes with their text. */
function historyLines(h: CasHistoryEntry): string[] {
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

export function registerCasShow(casCmd: Command, run: Runner): void {
  casCmd
    .command('show')
    .description('one CAS with its history')
    .argument('[cas-number]', 'the CAS number', parseCasNumber)
    .addOption(new Option('--id <id>', 'the internal CAS id instead of a number').argParser(parseId))
    .option('--json', 'print JSON')
    .action(
      run(async (ctx, opts, numberArg: string | undefined) => {
        const { by, missing } = casRef(numberArg, opts.id);
        const { db } = await ctx.store();
        const { findCas, casHistory } = await casQuery();
        const v = await findCas(db, by);
        if (!v) throw notFound(missing);
        const history = await casHistory(db, v.id);
        if (opts.json) return ctx.json({ ...v, history });
        ctx.out([...describe(v), 'History:', ...history.flatMap(historyLines)].join('\n'));
      }),
    );
}
