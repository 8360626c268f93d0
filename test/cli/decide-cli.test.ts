/**
 * Visa decisions as an operator records them, on both stores: `cas decide` on a USED CAS,
 * past dates allowed and future ones refused, a second decision refused unless `--correct`,
 * other statuses refused (exit 3), unknown CAS (exit 4), and `cas show` (text and JSON)
 * showing the decision and its history.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CasHistoryEntry, CasView } from '../../src/db/cas-query.ts';
import { addDays, isoDateUtc } from '../../src/domain/dates.ts';
import { casXml, uploadBytes } from '../helpers/bdt.ts';
import { cliOnStore, runCli } from '../helpers/cli.ts';
import { licenceFor } from '../helpers/lifecycle.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

describe('cas decide without a store', () => {
  it.each([
    [['cas', 'decide', 'E4G0AA0A00A0A1'], "missing required argument 'decision'"],
    [['cas', 'decide', 'E4G0AA0A00A0A1', 'maybe'], "invalid for argument 'decision'. expected one of granted, refused"],
    [['cas', 'decide', 'NOT-A-CAS', 'granted'], 'not a CAS number'],
    [['cas', 'decide', 'E4G0AA0A00A0A1', 'granted', '--date', '2026-13-01'], '--date must be a date'],
  ])('usage error: %j', async (args, message) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });
});

describe.each(STORE_KINDS)('cas decide on %s', (kind) => {
  const { cli, cwd: dir } = cliOnStore(kind, 'cas-bdt-decide-');
  const L = licenceFor('DCDE');

  it('records one decision per USED CAS, corrects it only with --correct, and shows it', async () => {
    expect((await cli('sponsor', 'add', L, '--name', 'Decision College', '--allocation', '10')).code).toBe(0);
    const up = path.join(dir, 'up.xml');
    writeFileSync(
      up,
      uploadBytes({
        licence: L,
        fileId: 'DCDE-UP',
        records: ['D1', 'D2'].map((a, i) => casXml({ applicantId: a, passport: `DC00000${i}` })),
      }),
    );
    expect((await cli('process', up, '--sponsor', L)).code).toBe(0);
    const list = (await cli('cas', 'list', '--sponsor', L, '--json')).json<CasView[]>();
    const [used, assigned] = ['D1', 'D2'].map((a) => list.find((c) => c.applicantId === a)!.casNumber!);
    const today = isoDateUtc(new Date());

    // Not USED yet: refused, nothing stored.
    const notUsed = await cli('cas', 'decide', assigned!, 'granted');
    expect(notUsed.code).toBe(3);
    expect(notUsed.stderr).toContain('only on a USED CAS');
    expect((await cli('cas', 'use', used!)).code).toBe(0);

    // A date after today is refused; one in the past (even years back) is accepted.
    const future = await cli('cas', 'decide', used!, 'granted', '--date', addDays(today, 1));
    expect(future.code).toBe(3);
    expect(future.stderr).toContain('is after today');
    const first = await cli('cas', 'decide', used!, 'Granted', '--date', '2020-01-15', '--json');
    expect(first.code).toBe(0);
    expect(first.json()).toEqual({
      casNumber: used,
      sponsorLicenceNumber: L,
      decision: 'granted',
      decidedOn: '2020-01-15',
      replaced: null,
    });

    // A second decision is refused unless corrected; a correction on an undecided CAS is refused too.
    const second = await cli('cas', 'decide', used!, 'refused');
    expect(second.code).toBe(3);
    expect(second.stderr).toContain('already has a decision (granted on 2020-01-15)');
    const corrected = await cli('cas', 'decide', used!, 'refused', '--correct');
    expect(corrected.code).toBe(0);
    expect(corrected.stdout).toContain(`visa refused on ${today} (was granted on 2020-01-15)`);

    const unknown = await cli('cas', 'decide', 'E4G0AA0A00A0A1', 'granted');
    expect(unknown.code).toBe(4);

    const shown = (await cli('cas', 'show', used!, '--json')).json<CasView & { history: CasHistoryEntry[] }>();
    expect(shown).toMatchObject({ status: 'USED', decision: 'refused', decidedOn: today });
    const decisions = shown.history.filter((h) => h.event === 'DECISION');
    expect(decisions.map((h) => h.decision)).toEqual([
      { decision: 'granted', decidedOn: '2020-01-15', replaced: null },
      { decision: 'refused', decidedOn: today, replaced: { decision: 'granted', decidedOn: '2020-01-15' } },
    ]);
    expect(decisions.every((h) => h.from === 'USED' && h.to === 'USED')).toBe(true);
    const text = (await cli('cas', 'show', used!)).stdout;
    expect(text).toContain(`Decision:     refused on ${today}`);
    expect(text).toContain(`DECISION: refused on ${today}; was granted on 2020-01-15`);

    const other = (await cli('cas', 'show', assigned!, '--json')).json<CasView & { history: CasHistoryEntry[] }>();
    expect(other).toMatchObject({ status: 'ASSIGNED', decision: null, decidedOn: null });
    expect(other.history.some((h) => h.event === 'DECISION')).toBe(false);
  });
});
