/**
 * Fee updates and notes as an operator runs them, on both stores: `process` of an update
 * file with good and refused records, `cas fees`, `cas note`, `cas show` (fees and notes in
 * the history, text and JSON), `export` with the new fees; exit codes 0, 2, 3 and 4; and
 * neither notes nor amounts on stderr.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CasHistoryEntry, CasView } from '../../src/db/cas-query.ts';
import { casXml, updateBytes, uploadBytes } from '../helpers/bdt.ts';
import { cliOnStore, runCli } from '../helpers/cli.ts';
import { licenceFor } from '../helpers/lifecycle.ts';
import { issueCodes, parseResult } from '../helpers/pipeline.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

describe('fee commands without a store', () => {
  it.each([
    [['cas', 'fees', 'E4G0AA0A00A0A1'], "required option '--course-paid <gbp>' not specified"],
    [['cas', 'fees', 'E4G0AA0A00A0A1', '--course-paid', '12.345'], 'expected an amount in GBP'],
    [['cas', 'fees', 'E4G0AA0A00A0A1', '--course-paid', '-1'], 'expected an amount in GBP'],
    [['cas', 'fees', 'E4G0AA0A00A0A1', '--course-paid', '1000000000'], 'expected an amount in GBP'],
    [['cas', 'fees', 'E4G0AA0A00A0A1', '--course-paid', '1', '--boarding-paid', 'lots'], 'expected an amount in GBP'],
    [['cas', 'note', 'E4G0AA0A00A0A1'], "required option '--text <text>' not specified"],
    [['cas', 'note', 'NOT-A-CAS', '--text', 'x'], 'not a CAS number'],
  ])('usage error: %j', async (args, message) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });
});

describe.each(STORE_KINDS)('fee commands on %s', (kind) => {
  const on = cliOnStore(kind, 'cas-bdt-fcli-');
  const dir = on.cwd;
  const L = licenceFor('FCLI');
  const stderr: string[] = [];
  const cli = async (...args: string[]) => {
    const r = await on.cli(...args);
    stderr.push(r.stderr);
    return r;
  };

  it('processes an update file, sets fees and notes by hand, and shows them in cas show and the export', async () => {
    expect((await cli('sponsor', 'add', L, '--name', 'Fee College', '--allocation', '10')).code).toBe(0);
    const up = path.join(dir, 'up.xml');
    writeFileSync(
      up,
      uploadBytes({
        licence: L,
        fileId: 'FCLI-UP',
        records: ['F1', 'F2', 'F3'].map((a, i) => casXml({ applicantId: a, passport: `FC00000${i}` })),
      }),
    );
    expect((await cli('process', up, '--sponsor', L)).code).toBe(0);
    const list = (await cli('cas', 'list', '--sponsor', L, '--json')).json<CasView[]>();
    const [n1, n2, n3] = ['F1', 'F2', 'F3'].map((a) => list.find((c) => c.applicantId === a)!.casNumber!);
    expect((await cli('cas', 'withdraw', n3!)).code).toBe(0);

    const upd = path.join(dir, 'fees.xml');
    writeFileSync(
      upd,
      updateBytes({
        licence: L,
        fileId: 'FCLI-FEES-1',
        records: [{ casNumber: n1!, coursePaid: '4321.09' }, { casNumber: n2! }, { casNumber: n3!, coursePaid: '1.00' }],
      }),
    );
    const processed = await cli('process', upd, '--sponsor', L, '--json');
    expect(processed.code).toBe(0);
    const [summary] = processed.json<{ fileType: string; outcome: string; counts: Record<string, number>; resultFile: string }[]>();
    expect(summary).toMatchObject({ fileType: 'UPDATE_FEES', outcome: 'ACCEPTED', counts: { records: 3, updated: 1, rejected: 2 } });
    const result = parseResult(readFileSync(summary!.resultFile, 'utf8'));
    expect(result.Records!.Record.map((r) => [r.Outcome, issueCodes(r)])).toEqual([
      ['UPDATED', []],
      ['REJECTED', ['E_FEES_PAID_MISSING']],
      ['REJECTED', ['E_CAS_STATUS']],
    ]);
    const text = await cli('process', upd, '--sponsor', L);
    expect(text.stdout).toContain('fees.xml: ACCEPTED, 2 of 3 records refused (replay)');
    expect(text.stdout).toContain('3 records: 1 updated, 2 rejected');

    const byHand = await cli('cas', 'fees', n1!, '--course-paid', '5000', '--accommodation-paid', '250.5');
    expect(byHand.code).toBe(0);
    expect(byHand.stdout).toBe(`Fees of ${n1} updated: course fees paid 4321.09 -> 5000.00; accommodation fees paid (none) -> 250.50.\n`);
    const same = await cli('cas', 'fees', n1!, '--course-paid', '5000.00', '--json');
    expect(same.code).toBe(0);
    expect(same.json<{ changed: boolean; fees: Record<string, string | null> }>()).toMatchObject({
      changed: false,
      fees: {
        courseFeesForFirstYearOnly: '24500.00',
        courseFeesPaidToDate: '5000.00',
        accommodationFeesPaidToDate: '250.50',
        boardingFeesPaidToDate: null,
      },
    });

    const refused = await cli('cas', 'fees', n3!, '--course-paid', '1');
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain(`CAS ${n3} has status WITHDRAWN; fees can be updated only on an ASSIGNED or USED CAS`);
    expect((await cli('cas', 'fees', 'E4G0AA0A00A0A1', '--course-paid', '1')).code).toBe(4);

    const note = 'Scholarship confirmed by the Müller Trust & paid in full.\nSecond instalment waived.';
    expect((await cli('cas', 'note', n1!, '--text', note)).code).toBe(0);
    const noteRefused = await cli('cas', 'note', n3!, '--text', 'too late');
    expect(noteRefused.code).toBe(3);
    expect(noteRefused.stderr).toContain('notes can be added only to an ASSIGNED or USED CAS');
    const badChar = await cli('cas', 'note', n1!, '--text', 'Paid by Łukasz');
    expect(badChar.code).toBe(2);
    expect(badChar.stderr).toContain("U+0141 'Ł'");
    expect(badChar.stderr).toContain("; write L instead of U+0141 'Ł'");
    // A word processor's apostrophe and dash: what to type instead is said, as in the schema messages.
    const curly = await cli('cas', 'note', n1!, '--text', 'O\u2019Brien paid \u2013 in full');
    expect(curly.code).toBe(2);
    expect(curly.stderr).toContain(
      "cas-bdt: --text: the note holds U+2019 '\u2019', which is outside the BDT character set (printable ISO-8859-1 and line breaks); " +
        "write ' instead of U+2019 '\u2019', - instead of U+2013 '\u2013'\n",
    );
    expect((await cli('cas', 'note', n1!, '--text', 'x'.repeat(2001))).code).toBe(2);
    expect((await cli('cas', 'note', n1!, '--text', '   ')).code).toBe(2);
    expect((await cli('cas', 'note', 'E4G0AA0A00A0A1', '--text', 'nobody')).code).toBe(4);

    const shown = await cli('cas', 'show', n1!);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(
      'Fees (GBP):   course 24500.00 (first year); paid: course 5000.00, accommodation 250.50, boarding (not given)',
    );
    expect(shown.stdout).toMatch(/FEES UPDATED: course fees paid \(none\) -> 4321\.09 {2}\(fee update by submission \d+\)/);
    expect(shown.stdout).toContain(
      'FEES UPDATED: course fees paid 4321.09 -> 5000.00; accommodation fees paid (none) -> 250.50  (fees updated by the sponsor (cas-bdt cas fees))',
    );
    expect(shown.stdout).toContain(
      'NOTE  (note by the sponsor (cas-bdt cas note))\n      Scholarship confirmed by the Müller Trust & paid in full.\n      Second instalment waived.\n',
    );
    const history = (await cli('cas', 'show', n1!, '--json')).json<{ history: CasHistoryEntry[] }>().history;
    expect(history.map((h) => h.event)).toEqual([undefined, undefined, 'FEES_UPDATED', 'FEES_UPDATED', 'NOTE']);
    expect(history[4]).toMatchObject({ event: 'NOTE', from: 'ASSIGNED', to: 'ASSIGNED', note });
    expect(history[3]!.fees!.after.accommodationFeesPaidToDate).toBe('250.50');

    const out = path.join(dir, 'export.xml');
    expect((await cli('export', '--sponsor', L, '--out', out)).code).toBe(0);
    const xml = readFileSync(out, 'utf8');
    const mine = xml.slice(xml.indexOf(`<CASNumber>${n1}</CASNumber>`));
    expect(mine.slice(0, mine.indexOf('</CAS>'))).toContain(
      '<CourseFeesForFirstYearOnly>24500.00</CourseFeesForFirstYearOnly>\n    <CourseFeesPaidToDate>5000.00</CourseFeesPaidToDate>\n    <AccommodationFeesPaidToDate>250.50</AccommodationFeesPaidToDate>',
    );

    // Nothing the operator typed, nor any amount, went to stderr (where logs go).
    expect(stderr.join('')).not.toMatch(/Scholarship|Trust|4321|250\.5|5000/);
  });
});
